"""losses.examples: L003's quadratic and cross-entropy losses for y = 1 and a ∈ {0.99, 0.5, 0.01}."""

import numpy as np

from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

SOURCE = "L003 (quadratic vs cross-entropy)"
A = {"0.99": 0.99, "0.5": 0.5, "0.01": 0.01}
# The lecture's values, to the digits it shows; the tolerance is half a unit of the last digit.
QUADRATIC = {"0.99": (0.0001, 4), "0.5": (0.25, 2), "0.01": (0.9801, 4)}
CROSS_ENTROPY = {"0.99": (0.01, 2), "0.5": (0.69, 2), "0.01": (4.61, 2)}


def compute(seed, ctx):
    """Both losses through Keras's own loss functions (float64, so no float32 rounding enters)."""
    import keras

    out = {}
    for key, a in A.items():
        y_true, y_pred = np.array([[1.0]]), np.array([[a]])
        out[f"quadratic(a={key})"] = float(keras.losses.MeanSquaredError(dtype="float64")(y_true, y_pred))
        out[f"cross_entropy(a={key})"] = float(keras.losses.BinaryCrossentropy(dtype="float64")(y_true, y_pred))
        out[f"-ln(a={key})"] = float(-np.log(a))
    return out


def _refs(name, table):
    return tuple(
        Reference(
            f"{name}(a={key})", value, SOURCE, tolerance=0.5 * 10**-digits, label=f"{digits} decimals", cls="exact"
        )
        for key, (value, digits) in table.items()
    )


TARGET = Target(
    name="losses.examples",
    title="Quadratic vs cross-entropy loss at y = 1",
    source=SOURCE,
    kind="exact",
    compute=compute,
    references=_refs("quadratic", QUADRATIC) + _refs("cross_entropy", CROSS_ENTROPY),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
    notes=(
        "Computed with keras.losses.MeanSquaredError and BinaryCrossentropy with dtype float64; "
        "'matches to the digits shown' means within half a unit of the lecture's last digit. "
        "Keras clips probabilities to [1e-7, 1 - 1e-7] before the log, which does not touch these values; "
        "the plain -ln a is in metrics.csv for comparison."
    ),
)
