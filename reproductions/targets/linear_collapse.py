"""linear.collapse: two stacked linear layers are one linear layer (L000: a network is "linear
transformation + non-linear activation"; without the activation the depth adds nothing). Exact: the
stack equals the single Dense layer with W = W1·W2, b = b1·W2 + b2; with a ReLU between, no linear
layer fits it."""

import numpy as np

from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

D, H, K, N = 20, 64, 5, 2000


def stack(activation, seed):
    """Dense(H, activation) → Dense(K), seeded; returns the Keras model."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((D,)), keras.layers.Dense(H, activation=activation), keras.layers.Dense(K)])


def collapsed(model):
    """The single linear layer (W, b) that a linear two-layer stack equals."""
    (w1, b1), (w2, b2) = (layer.get_weights() for layer in model.layers)
    return w1.astype("float64") @ w2, b1.astype("float64") @ w2 + b2


def compute(seed, ctx):
    x = np.random.default_rng(seed).normal(size=(N, D))
    linear = stack(None, seed)
    w, b = collapsed(linear)
    out = linear.predict(x.astype("float32"), verbose=0).astype("float64")
    scale = np.abs(out).max()
    relu = stack("relu", seed)
    y = relu.predict(x.astype("float32"), verbose=0).astype("float64")
    design = np.hstack([x, np.ones((N, 1))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)  # the best single linear layer for the ReLU stack
    residual = np.linalg.norm(design @ coef - y) / np.linalg.norm(y - y.mean(axis=0))
    return {
        "linear_stack_max_relative_difference": float(np.abs(x @ w + b - out).max() / scale),
        "linear_stack_rank": float(np.linalg.matrix_rank(w)),
        "relu_stack_best_linear_fit_residual": float(residual),
    }


TARGET = Target(
    name="linear.collapse",
    title="Two stacked linear layers collapse to one; a ReLU between them does not",
    source="L000 (linear transformation + non-linear activation)",
    kind="exact",
    compute=compute,
    references=(
        Reference(
            "linear_stack_max_relative_difference",
            1e-5,
            "L000: without an activation, Dense∘Dense is one Dense layer (W1·W2, b1·W2 + b2)",
            compare="<=",
            cls="exact",
            label="float32 round-off, relative to the largest output",
        ),
        Reference(
            "linear_stack_rank",
            float(K),
            "linear algebra: the collapsed 20×5 layer has rank at most 5, whatever the 64 hidden units",
            compare="==",
            cls="exact",
        ),
        Reference(
            "relu_stack_best_linear_fit_residual",
            0.0,
            "L000: the non-linear activation is what a second layer adds (the best linear layer leaves a residual)",
            compare=">",
            cls="claim",
            margin=0.05,
            label="relative residual of the least-squares linear fit; needs 5%",
        ),
    ),
    full=Profile(seeds=3),
    quick=Profile(seeds=2),  # its claim row needs two seeds
    notes=(
        f"Dense({H}) → Dense({K}) on {D} inputs with Keras' default Glorot-uniform weights and zero biases, evaluated "
        f"on {N:,} standard-normal inputs per seed. The collapsed layer is computed in float64 from the trained-free "
        "weights; the difference is the float32 network's round-off. With ReLU between the layers, the "
        "residual is that of the least-squares affine fit, relative to the outputs' spread."
    ),
)
