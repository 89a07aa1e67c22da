"""gates.festival: L001's cheese-festival threshold units (a) w=(1,1,1), threshold 2; (b) w=(1,1,10), threshold 11."""

from itertools import product

from keras_lecture_zoo.reproductions.spec import Profile, Target
from keras_lecture_zoo.reproductions.targets._gates import exact_references, gate_metrics

SOURCE = "L001 (festival decision)"
INPUTS = ["".join(map(str, bits)) for bits in product((0, 1), repeat=3)]
A = {k: int(sum(map(int, k)) >= 2) for k in INPUTS}  # yes iff at least two factors
B = {k: int(k[2] == "1" and (k[0] == "1" or k[1] == "1")) for k in INPUTS}  # yes iff factor 3 and another


def compute(seed, ctx):
    a = gate_metrics("festival_a", "festival_a", pre_activation=False)
    b = gate_metrics("festival_b", "festival_b", pre_activation=False)
    return {**{k.replace("y(", "a("): v for k, v in a.items()}, **{k.replace("y(", "b("): v for k, v in b.items()}}


TARGET = Target(
    name="gates.festival",
    title="Festival decisions (a) and (b) as threshold units",
    source=SOURCE,
    kind="exact",
    compute=compute,
    references=exact_references(A, SOURCE + " (a): at least two factors", "a")
    + exact_references(B, SOURCE + " (b): factor 3 and one other", "b"),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
)
