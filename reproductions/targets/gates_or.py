"""gates.or: the L001 OR perceptron, w=(1,1), b=-1, step activation. Exact, no training."""

from reproductions.spec import Profile, Target
from reproductions.targets._gates import exact_references, gate_metrics

SOURCE = "L001 (OR perceptron)"
Z = {"00": -1, "01": 0, "10": 0, "11": 1}
Y = {"00": 0, "01": 1, "10": 1, "11": 1}

TARGET = Target(
    name="gates.or",
    title="OR perceptron with the lecture's hand-set weights",
    source=SOURCE,
    kind="exact",
    compute=lambda seed, ctx: gate_metrics("or_gate", "or"),
    references=exact_references(Z, SOURCE, "z") + exact_references(Y, SOURCE, "y"),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
)
