"""Filter-normalised loss surfaces (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets").

A random direction d gets, filter by filter, the norm of the weights it perturbs
(d_f ← d_f · ‖θ_f‖ / ‖d_f‖; a filter is one output channel of a conv kernel or one unit of a
Dense kernel), so surfaces of networks with different weight scales are comparable. Biases and
BatchNorm parameters get no perturbation, and BatchNorm's moving statistics stay fixed, as in
the paper. Works on any Keras model, on every Keras backend (TensorFlow keeps its own compiled
evaluation; JAX and PyTorch evaluate through :mod:`callbacks.autodiff`).
"""

from __future__ import annotations

import numpy as np

from keras_lecture_zoo.callbacks.autodiff import compile_stateless, to_numpy, values_of

__all__ = ["filter_normalized_direction", "loss_surface", "nonconvex_fraction"]


def filter_normalized_direction(model, seed):
    """One random Gaussian direction over ``model.trainable_weights``, filter-normalised."""
    rng = np.random.default_rng(seed)
    direction = []
    for w in model.trainable_weights:
        value = np.asarray(to_numpy(w.value), dtype=np.float64)
        if value.ndim <= 1:
            direction.append(np.zeros_like(value))
            continue
        d = rng.standard_normal(value.shape)
        axes = tuple(range(value.ndim - 1))  # Keras kernels keep the output channel last
        scale = np.sqrt((value**2).sum(axis=axes, keepdims=True)) / (
            np.sqrt((d**2).sum(axis=axes, keepdims=True)) + 1e-10
        )
        direction.append(d * scale)
    return direction


def loss_surface(model, x, y, directions, coordinates, *, batch_size=None):
    """Mean sparse cross-entropy and accuracy of ``model`` at θ + Σ aᵢ dᵢ for each row of ``coordinates``
    (shape (points, len(directions))), in inference mode; the weights are restored afterwards.
    Returns (losses, accuracies) as arrays of length ``points``."""
    variables = list(model.trainable_weights)
    base = [to_numpy(v.value) for v in variables]
    evaluate, x, y = _evaluator(model, x, y)
    batch_size = batch_size or len(x)

    coordinates = np.atleast_2d(np.asarray(coordinates, dtype=np.float64))
    if coordinates.shape[1] != len(directions):
        raise ValueError(
            f"`coordinates` must have {len(directions)} columns (one per direction), got shape {coordinates.shape}."
        )
    losses, accuracies = np.empty(len(coordinates)), np.empty(len(coordinates))
    try:
        for i, point in enumerate(coordinates):
            for v, b, *ds in zip(variables, base, *directions):
                v.assign((b + sum(a * d for a, d in zip(point, ds))).astype(b.dtype))
            total_loss, total_correct = 0.0, 0.0
            for start in range(0, len(x), batch_size):
                loss, correct = evaluate(x[start : start + batch_size], y[start : start + batch_size])
                total_loss += float(loss)
                total_correct += float(correct)
            losses[i], accuracies[i] = total_loss / len(x), total_correct / len(x)
    finally:
        for v, b in zip(variables, base):
            v.assign(b)
    return losses, accuracies


def _evaluator(model, x, y):
    """(evaluate(xb, yb) -> (summed cross-entropy, correct count), x, y as it takes them), compiled for the
    active backend; it reads the model's variables as they are at each call."""
    import keras
    from keras import ops

    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction="sum")
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function
        def evaluate(xb, yb):
            p = model(xb, training=False)
            correct = tf.reduce_sum(
                tf.cast(tf.equal(tf.argmax(p, axis=-1, output_type=tf.int32), tf.cast(yb, tf.int32)), tf.float32)
            )
            return loss_fn(yb, p), correct

        return evaluate, tf.constant(x), tf.constant(y)

    def forward(xb, yb):
        p = model(xb, training=False)
        correct = ops.sum(
            ops.cast(ops.equal(ops.cast(ops.argmax(p, axis=-1), "int32"), ops.cast(yb, "int32")), "float32")
        )
        return loss_fn(yb, p), correct

    variables = list(model.variables)
    compiled = compile_stateless(forward, variables)
    return (lambda xb, yb: compiled(values_of(variables), xb, yb)), np.asarray(x), np.asarray(y)


def nonconvex_fraction(grid):
    """Share of interior points of a 2-D loss grid whose finite-difference Hessian has a negative
    eigenvalue: 0 for a convex bowl, larger for a chaotic surface."""
    z = np.asarray(grid, dtype=np.float64)
    zxx = z[2:, 1:-1] - 2 * z[1:-1, 1:-1] + z[:-2, 1:-1]
    zyy = z[1:-1, 2:] - 2 * z[1:-1, 1:-1] + z[1:-1, :-2]
    zxy = (z[2:, 2:] - z[2:, :-2] - z[:-2, 2:] + z[:-2, :-2]) / 4
    smallest = (zxx + zyy) / 2 - np.sqrt(((zxx - zyy) / 2) ** 2 + zxy**2)
    return float(np.mean(smallest < 0))
