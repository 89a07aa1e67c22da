"""losses.ce_sigmoid_delta: autodiff gradients of cross-entropy through sigmoid/softmax equal ŷ − y (L003, L004)."""

import numpy as np

from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

Z = np.linspace(-8.0, 8.0, 161)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_deltas(z, y):
    """dL/dz by GradientTape for: Keras BCE on sigmoid(z), the lecture's written-out CE, and ½(a − y)²."""
    import keras
    import tensorflow as tf

    zt = tf.Variable(z)
    yt = tf.constant(y)
    bce = keras.losses.BinaryCrossentropy(dtype="float64", reduction="sum")
    losses = {
        "keras_ce": lambda a: bce(yt[:, None], a[:, None]),
        "written_ce": lambda a: -tf.reduce_sum(yt * tf.math.log(a) + (1 - yt) * tf.math.log(1 - a)),
        "quadratic": lambda a: 0.5 * tf.reduce_sum((a - yt) ** 2),
    }
    out = {}
    for name, loss in losses.items():
        with tf.GradientTape() as tape:
            value = loss(keras.activations.sigmoid(zt))
        out[name] = tape.gradient(value, zt).numpy()
    return out


def softmax_delta_error(seed, n=256, classes=10):
    """max |dL/dz − (softmax(z) − onehot)| for Keras's sparse CCE on softmax(z), seeded logits."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    z = tf.Variable(rng.normal(0.0, 3.0, size=(n, classes)))
    labels = rng.integers(0, classes, size=n)
    cce = keras.losses.SparseCategoricalCrossentropy(dtype="float64", reduction="sum")
    with tf.GradientTape() as tape:
        loss = cce(labels, keras.activations.softmax(z))
    grad = tape.gradient(loss, z).numpy()
    p = np.exp(z.numpy() - z.numpy().max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return float(np.abs(grad - (p - np.eye(classes)[labels])).max())


def compute(seed, ctx):
    out = {}
    for y in (0.0, 1.0):
        d = sigmoid_deltas(Z, np.full_like(Z, y))
        expected = _sigmoid(Z) - y
        for name in ("keras_ce", "written_ce"):
            out[f"max_error_{name}(y={y:g})"] = float(np.abs(d[name] - expected).max())
        if y == 1.0:
            i = int(np.argmin(np.abs(Z + 5.0)))
            out["ce_delta(z=-5,y=1)"] = float(d["written_ce"][i])
            out["quadratic_delta(z=-5,y=1)"] = float(d["quadratic"][i])
            ctx.extras["z"] = Z.tolist()
            ctx.extras["y=1"] = {k: v.tolist() for k, v in d.items()}
    out["max_error_softmax_cce"] = softmax_delta_error(seed)
    out["max_error_sigmoid_ce"] = max(v for k, v in out.items() if k.startswith("max_error_") and "softmax" not in k)
    return out


def report(results, folder):
    extras = next(iter(results.values()))["extras"]
    z, d = np.array(extras["z"]), extras["y=1"]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(z, d["written_ce"], label="cross-entropy: δ = σ(z) − y")
    ax.plot(z, d["quadratic"], label="quadratic: δ = (σ(z) − y)·σ′(z)")
    ax.set_xlabel("z")
    ax.set_ylabel("∂L/∂z at y = 1 (autodiff)")
    ax.set_title("Cross-entropy undoes the sigmoid's flat tails")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, folder / "deltas.png")
    return (
        "![dL/dz for y = 1](deltas.png)\n\nA wrong answer (z ≪ 0 at y = 1) gives the quadratic loss almost no "
        "gradient; cross-entropy's stays near −1."
    )


SOURCE_SIG = "L003 (δ = σ(z) − y)"
SOURCE_SOFT = "L004 (∂L/∂z_j = ŷ_j − 1(j = c))"

TARGET = Target(
    tensorflow_only="it differentiates the losses with tf.GradientTape in float64",
    name="losses.ce_sigmoid_delta",
    title="Cross-entropy's output delta: σ(z) − y and softmax ŷ − onehot, by autodiff",
    source="L003, L004",
    kind="exact",
    compute=compute,
    report=report,
    references=(
        Reference(
            "max_error_sigmoid_ce",
            1e-12,
            SOURCE_SIG,
            compare="<=",
            label="max |autodiff − (σ(z) − y)|, z ∈ [−8, 8], float64",
            cls="exact",
        ),
        Reference(
            "max_error_softmax_cce",
            1e-12,
            SOURCE_SOFT,
            compare="<=",
            label="max |autodiff − (ŷ − onehot)|, float64",
            cls="exact",
        ),
    ),
    full=Profile(seeds=3),
    quick=Profile(seeds=1),
    notes=(
        "Gradients by tf.GradientTape in float64 of (1) keras.losses.BinaryCrossentropy on sigmoid(z), (2) the "
        "written-out −[y ln a + (1 − y) ln(1 − a)] of the lecture, and (3) ½(a − y)² for contrast; and of "
        "keras.losses.SparseCategoricalCrossentropy on softmax(z) for 256 seeded logit rows. The seed only "
        "changes the softmax logits. Per-variant errors are in metrics.csv."
    ),
)
