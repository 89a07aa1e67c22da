"""xor.sklearn: L001's exact scikit-learn call, MLPClassifier((2,), max_iter=10000, random_state=20),
with logistic and relu hidden units; score and predictions, and how many other random states agree."""

import warnings

import numpy as np

from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

SOURCE = "L001 (scikit-learn XOR)"
XS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
YS = np.array([0, 1, 1, 0])
KEYS = ("00", "01", "10", "11")
LECTURE = {"logistic": (0.5, [1, 1, 1, 1]), "relu": (1.0, [0, 1, 1, 0])}
OTHER_STATES = range(20)


def fit(activation, random_state):
    """The lecture's call; returns (score, predictions, iterations)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(activation=activation, max_iter=10000, hidden_layer_sizes=(2,), random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(XS, YS)
    return float(model.score(XS, YS)), model.predict(XS).tolist(), int(model.n_iter_)


def compute(seed, ctx):
    import sklearn

    out = {}
    ctx.extras["sklearn"] = sklearn.__version__
    for activation in LECTURE:
        score, pred, n_iter = fit(activation, 20)
        out[f"{activation}_score"] = score
        out.update({f"{activation}_pred({k})": float(p) for k, p in zip(KEYS, pred)})
        out[f"{activation}_iterations"] = float(n_iter)
        scores = [fit(activation, s)[0] for s in OTHER_STATES]
        out[f"{activation}_solved_fraction_rs0-19"] = float(np.mean(np.array(scores) == 1.0))
        ctx.extras[f"{activation}_scores_rs0-19"] = scores
    return out


def report(results, folder):
    r = next(iter(results.values()))
    m, e = r["metrics"], r["extras"]
    lines = [
        f"scikit-learn {e['sklearn']}.",
        "",
        "| activation | score (rs=20) | predictions (rs=20) | lecture | random states 0-19 solving XOR |",
        "|---|---|---|---|---|",
    ]
    for act, (score, pred) in LECTURE.items():
        ours = [int(m[f"{act}_pred({k})"]) for k in KEYS]
        lines.append(
            f"| {act} | {m[f'{act}_score']:g} | {ours} | {score:g}, {pred} | "
            f"{sum(s == 1.0 for s in e[f'{act}_scores_rs0-19'])}/20 |"
        )
    return "\n".join(lines)


def _solved_share(results):
    """'logistic x%, relu y%' of random states 0-19 that solve XOR, from the run's metrics."""
    m = next(iter(results.values()))["metrics"]
    return ", ".join(
        f"{a} {100 * m[f'{a}_solved_fraction_rs0-19']:.0f}%"
        for a in ("logistic", "relu")
        if f"{a}_solved_fraction_rs0-19" in m
    )


def _refs():
    refs = []
    for act, (score, pred) in LECTURE.items():
        refs.append(Reference(f"{act}_score", score, SOURCE, compare="==", label=f"{act}: score", cls="published"))
        refs += [
            Reference(f"{act}_pred({k})", float(p), SOURCE, compare="==", label=f"{act}: prediction", cls="published")
            for k, p in zip(KEYS, pred)
        ]
    return tuple(refs)


TARGET = Target(
    name="xor.sklearn",
    title="scikit-learn MLPClassifier on XOR, logistic vs relu (random_state=20)",
    source=SOURCE,
    kind="custom",
    compute=compute,
    report=report,
    references=_refs(),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
    notes=(
        "The lecture's call, unchanged: MLPClassifier(activation=..., max_iter=10000, hidden_layer_sizes=(2,), "
        "random_state=20) with the default Adam solver. The outcome is a property of one random state and of "
        "scikit-learn's initialisation code, so the version matters (it is in run.json and above). The runner's "
        "seed does not enter; the fraction of random states 0-19 that solve XOR shows how typical the lecture's "
        "run is."
    ),
    causes={
        "*": lambda results: (
            "the result belongs to one random state; with this scikit-learn, random states 0-19 solve XOR in "
            f"{_solved_share(results)} (details.json), so the lecture's outcome depends on the version's initialisation"
        )
    },
)
