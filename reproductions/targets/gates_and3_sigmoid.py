"""gates.and3_sigmoid: L003's 3-input sigmoid AND, w=(1,1,1), b=-2.5; σ(z) to 3 decimals. Exact."""

from keras_lecture_zoo.reproductions.spec import Profile, Target
from keras_lecture_zoo.reproductions.targets._gates import exact_references, gate_metrics

SOURCE = "L003 (sigmoid AND table)"
SIGMA = {"000": 0.076, "001": 0.182, "010": 0.182, "011": 0.378, "100": 0.182, "101": 0.378, "110": 0.378, "111": 0.622}


def compute(seed, ctx):
    values = gate_metrics("and3_sigmoid", "and", 3, pre_activation=False)
    return {k.replace("y(", "sigma("): round(v, 3) for k, v in values.items()}


TARGET = Target(
    name="gates.and3_sigmoid",
    title="3-input sigmoid AND, outputs rounded to the lecture's 3 decimals",
    source=SOURCE,
    kind="exact",
    compute=compute,
    references=exact_references(SIGMA, SOURCE, "sigma"),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
    notes="The L003 slide's table omits the row 110; σ(-0.5) = 0.378 is filled in.",
)
