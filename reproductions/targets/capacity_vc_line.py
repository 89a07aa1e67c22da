"""capacity.vc_line: a straight line classifies three points however they are labelled, but not four
(L004: the capacity, or VC dimension, of a line in the plane is 3). Exact: every labelling of random
point sets is tested for linear separability by a linear program."""

import itertools

import numpy as np

from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

CONFIGURATIONS = 200  # random point sets per seed and size


def separable(points, labels):
    """Whether some line w·x + b puts the +1 points strictly on one side and the −1 points on the other
    (feasibility of y_i (w·x_i + b) >= 1, solved by scipy's linprog)."""
    from scipy.optimize import linprog

    a = -labels[:, None] * np.hstack([points, np.ones((len(points), 1))])
    res = linprog(np.zeros(3), A_ub=a, b_ub=-np.ones(len(points)), bounds=[(None, None)] * 3, method="highs")
    return res.status == 0


def separable_labellings(points):
    """How many of the 2^n labellings of ``points`` a line separates."""
    return sum(separable(points, np.array(lab, dtype=float)) for lab in itertools.product((-1, 1), repeat=len(points)))


def compute(seed, ctx):
    rng = np.random.default_rng(seed)
    counts = {n: [separable_labellings(rng.uniform(-1, 1, size=(n, 2))) for _ in range(CONFIGURATIONS)] for n in (3, 4)}
    ctx.extras["labellings_separated"] = {
        str(n): np.bincount(c, minlength=2**n + 1).tolist() for n, c in counts.items()
    }
    return {
        "min_separable_labellings_3_points": float(min(counts[3])),
        "max_separable_labellings_4_points": float(max(counts[4])),
        "sets_of_4_shattered": float(sum(c == 16 for c in counts[4])),
    }


TARGET = Target(
    name="capacity.vc_line",
    title="VC dimension of a line in the plane: 3 points shattered, 4 not",
    source="L004 (capacity, Vapnik-Chervonenkis dimension)",
    kind="exact",
    compute=compute,
    references=(
        Reference(
            "min_separable_labellings_3_points",
            8.0,
            "L004: a straight line can classify three points arbitrarily labelled",
            compare="==",
            cls="exact",
            label="all 2³ labellings, every random set",
        ),
        Reference(
            "max_separable_labellings_4_points",
            14.0,
            "L004: a straight line cannot classify four points arbitrarily labelled",
            compare="==",
            cls="exact",
            label="of 2⁴ = 16: points in general position always leave 2 (XOR-like) labellings out",
        ),
        Reference("sets_of_4_shattered", 0.0, "L004: no four points are shattered", compare="==", cls="exact"),
    ),
    full=Profile(seeds=3),
    quick=Profile(seeds=1),
    notes=(
        f"Per seed, {CONFIGURATIONS} random sets of 3 and of 4 points, uniform on [−1, 1]² (in general position with "
        "probability 1). Each labelling is tested for strict linear separability as a linear-programming feasibility "
        "problem. details.json has the histogram of separable labellings per set."
    ),
)
