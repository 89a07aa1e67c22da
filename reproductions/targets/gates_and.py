"""gates.and: the L001 AND perceptron, w=(1,1), b=-2, h(z)=1 if z>=0. Exact, no training."""

from reproductions.spec import Profile, Target
from reproductions.targets._gates import exact_references, gate_metrics

SOURCE = "L001 (AND perceptron)"
Z = {"00": -2, "01": -1, "10": -1, "11": 0}
Y = {"00": 0, "01": 0, "10": 0, "11": 1}

TARGET = Target(
    name="gates.and",
    title="AND perceptron with the lecture's hand-set weights",
    source=SOURCE,
    kind="exact",
    compute=lambda seed, ctx: gate_metrics("and_gate", "and"),
    references=exact_references(Z, SOURCE, "z") + exact_references(Y, SOURCE, "y"),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
)
