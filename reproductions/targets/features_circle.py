"""features.circle: L003's circle data are not linearly separable in (x, y) but are in (x, y, x², y²);
the lecture's hand-set weights (0, 0, 1, 1) with bias −r² (zoo.circle_classifier) separate them exactly."""

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target
from keras_lecture_zoo.zoo import data

SOURCE = "L003 (feature engineering: the circle)"
N_POINTS = 400


def separable(features, labels):
    """Exact linear separability by linear programming: is there (w, b) with s_i (w·v_i + b) >= 1 for all i?"""
    from scipy.optimize import linprog

    s = 2.0 * labels.reshape(-1) - 1.0
    a_ub = -s[:, None] * np.hstack([features, np.ones((len(features), 1))])
    res = linprog(
        np.zeros(a_ub.shape[1]),
        A_ub=a_ub,
        b_ub=-np.ones(len(features)),
        bounds=[(None, None)] * a_ub.shape[1],
        method="highs",
    )
    return res.status == 0


def best_linear_accuracy(features, labels):
    """Training accuracy of a nearly unregularised logistic regression (the best a line does here, roughly)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e6, max_iter=10_000).fit(features, labels.reshape(-1))
    return float(clf.score(features, labels.reshape(-1)))


def compute(seed, ctx):
    xy, y = data.circle(N_POINTS, seed=seed)
    quad = np.hstack([xy, xy**2])
    pred = np.asarray(zoo.circle_classifier()(xy)).reshape(-1)
    if seed == 0:
        ctx.extras.update(points=xy.tolist(), labels=y.reshape(-1).tolist())
    return {
        "separable_xy": float(separable(xy, y)),
        "separable_xy_x2_y2": float(separable(quad, y)),
        "logistic_accuracy_xy": best_linear_accuracy(xy, y),
        "logistic_accuracy_xy_x2_y2": best_linear_accuracy(quad, y),
        "lecture_weights_accuracy": float(np.mean(pred == y.reshape(-1))),
        "inside_fraction": float(y.mean()),
    }


def report(results, folder):
    extras = results[min(results)]["extras"]
    xy, y = np.array(extras["points"]), np.array(extras["labels"])
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for label, marker, color in ((1, "o", "tab:blue"), (0, "x", "tab:red")):
        pts = xy[y == label]
        name = "inside" if label else "outside"
        axes[0].scatter(pts[:, 0], pts[:, 1], marker=marker, s=14, color=color, label=name)
        axes[1].scatter(pts[:, 0] ** 2, pts[:, 1] ** 2, marker=marker, s=14, color=color, label=name)
    t = np.linspace(0, 2 * np.pi, 200)
    axes[0].plot(np.cos(t), np.sin(t), "k-", lw=1)
    axes[0].set(title="(x, y): no line separates the classes", xlabel="x", ylabel="y", aspect="equal")
    u = np.linspace(0, 1, 2)
    axes[1].plot(u, 1 - u, "k-", lw=1.5, label="x² + y² = 1 (weights 0,0,1,1; bias −1)")
    axes[1].set(title="(x², y²): a line does", xlabel="x²", ylabel="y²")
    for ax in axes:
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    save_figure(fig, folder / "circle.png")
    return "![circle data in (x, y) and in (x², y²)](circle.png)"


TARGET = Target(
    name="features.circle",
    title="Circle data: linearly separable only after adding x², y²",
    source=SOURCE,
    kind="exact",
    compute=compute,
    report=report,
    references=(
        Reference("separable_xy", 0.0, SOURCE, compare="==", label="not linearly separable in (x, y)", cls="exact"),
        Reference("separable_xy_x2_y2", 1.0, SOURCE, compare="==", label="separable in (x, y, x², y²)", cls="exact"),
        Reference(
            "lecture_weights_accuracy",
            1.0,
            SOURCE,
            compare="==",
            label="weights (0,0,1,1), bias r² classify every point",
            cls="exact",
        ),
    ),
    full=Profile(seeds=5),
    quick=Profile(seeds=1),
    notes=(
        f"{N_POINTS} points uniform in [−2, 2]², label 1 inside the unit circle (zoo.data.circle; the seed picks "
        "the sample). Separability is decided exactly by a linear-programming feasibility test (scipy HiGHS); "
        "logistic regression's training accuracy (C = 1e6) shows how close a line gets. The lecture's sign "
        "convention (positive where wᵀv < 0) is folded into zoo.circle_classifier's weights."
    ),
)
