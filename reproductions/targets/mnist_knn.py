"""mnist.knn: k-nearest neighbours with Euclidean distance on raw MNIST pixels, k = 1, 3, 29 (L004's baseline)."""

import numpy as np

from keras_lecture_zoo.reproductions.spec import Profile, Reference, Retired, Target, spread
from keras_lecture_zoo.reproductions.targets._data import image_data

KS = (1, 3, 29)
LECUN = "MNIST page table (LeCun et al.)"


def knn_predict(x_train, y_train, x_test, ks=KS, chunk=500, classes=10):
    """Predictions for every k in ``ks`` by exact brute-force Euclidean k-NN.

    Squared distances ||a||² − 2a·b + ||b||² in float64 chunks; majority vote of the k nearest,
    ties broken toward the class of the nearest tied neighbour.
    """
    k_max = max(ks)
    train = x_train.astype(np.float64)
    train_sq = np.einsum("ij,ij->i", train, train)
    preds = {k: np.empty(len(x_test), dtype=np.int64) for k in ks}
    for start in range(0, len(x_test), chunk):
        t = x_test[start : start + chunk].astype(np.float64)
        d = train_sq[None, :] - 2.0 * t @ train.T  # + ||t||², the same for a whole row
        near = np.argpartition(d, k_max, axis=1)[:, :k_max]
        order = np.take_along_axis(d, near, 1).argsort(axis=1, kind="stable")
        labels = y_train[np.take_along_axis(near, order, 1)]  # (chunk, k_max), nearest first
        for k in ks:
            votes = np.zeros((len(t), classes))
            np.add.at(votes, (np.arange(len(t))[:, None], labels[:, :k]), 1.0)
            # tie-break: among classes with the top count, the one whose first neighbour is nearest
            rank = np.full((len(t), classes), k, dtype=float)
            for j in range(k - 1, -1, -1):
                rank[np.arange(len(t)), labels[:, j]] = j
            preds[k][start : start + len(t)] = np.argmax(votes * (k + 1) - rank, axis=1)
    return preds


def _flat(x):
    return x.reshape(len(x), -1)


def compute(seed, ctx):
    d = image_data("mnist", ctx, validation_size=0)
    preds = knn_predict(_flat(d["x_train"]), d["y_train"], _flat(d["x_test"]))
    return {f"test_error(k={k})": float(np.mean(p != d["y_test"])) for k, p in preds.items()}


TARGET = Target(
    name="mnist.knn",
    title="MNIST k-NN, Euclidean distance, k = 1, 3, 29",
    source="L004 (k-NN: a baseline to beat)",
    kind="exact",
    compute=compute,
    references=(
        Reference(
            "test_error(k=1)",
            0.0309,
            LECUN,
            tolerance=0.001,
            deterministic=True,
            label="K. Wilder, k-NN Euclidean (L2): 3.09%",
            cls="published",
            tolerance_rule="±0.001, the table's last digit (k-NN is deterministic: no spread)",
        ),
    ),
    retired=tuple(
        Retired(
            f"test_error(k={k})",
            "every seed <= 0.05",
            "2026-11-23",
            "a 5% ceiling two points above what plain k-NN gets cannot realistically fail; "
            "LeCun et al. 1998's 5.0% is an older k-NN with other preprocessing, not a bound to test",
        )
        for k in (1, 3, 29)
    ),
    full=Profile(seeds=1),
    quick=Profile(seeds=1, train_size=6000),
    notes=(
        "All 60,000 training images against the 10,000 test images, pixels in [0, 1] (the scale does not change "
        "the neighbours), exact distances in float64; no seed enters. The 3.09% row is the L2 k-NN entry of the "
        "MNIST table (k not stated there; k = 1 is the usual reading); LeCun 1998's 5.0% is read as a ceiling."
    ),
    causes={
        "*": lambda results: (
            f"ours {spread(results, 'test_error(k=1)')} at k = 1; the MNIST table does not state "
            "the preprocessing of this row"
        )
    },
)
