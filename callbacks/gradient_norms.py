"""GradientNormMonitor: the norm of the loss gradient for each layer's kernel on a fixed batch,
at train begin and every ``frequency`` epochs: the lecture's picture of vanishing gradients."""

from __future__ import annotations

import fnmatch
import math

import keras
import numpy as np
from keras import ops

from keras_lecture_zoo.callbacks._periodic import PeriodicCheck
from keras_lecture_zoo.callbacks._probe import all_layers
from keras_lecture_zoo.callbacks.autodiff import value_and_gradients
from keras_lecture_zoo.zoo.validation import check_positive_int

__all__ = ["GradientNormMonitor", "kernel_gradient_norms"]


def _kernels(model, layers):
    found = []
    for layer in all_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is None or not getattr(kernel, "trainable", True) or isinstance(layer, keras.Model):
            continue
        if layers is None or any(fnmatch.fnmatchcase(layer.name, pattern) for pattern in layers):
            found.append((layer.name, kernel))
    return found


def kernel_gradient_norms(model, x, y, loss, layers=None, training=False):
    """{layer name: Frobenius norm of d(mean loss)/d(kernel)} on (x, y), input side first.

    ``layers``: None (every layer with a trainable kernel) or glob patterns of layer names.
    ``loss``: a Keras loss name, object or function.
    """
    kernels = _kernels(model, layers)
    if not kernels:
        raise ValueError(f"No layer of {model.name!r} with a trainable kernel matches `layers`={layers!r}.")
    loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    _, grads = value_and_gradients(lambda: ops.mean(loss_fn(y, model(x, training=training))), [k for _, k in kernels])
    return {name: float(np.linalg.norm(g.astype("float64").reshape(-1))) for (name, _), g in zip(kernels, grads)}


class GradientNormMonitor(PeriodicCheck):
    """Record per-layer kernel gradient norms on a fixed batch.

    ``records`` holds ``{"epoch": epochs completed, "norms": {layer: norm}}`` for each check;
    ``logs`` get ``grad_norm/<layer>`` and ``grad_norm_ratio`` (first layer's norm over the last's,
    the vanishing-gradient number), NaN on epochs without a check.

    Args:
        data: (x, y) arrays; the first ``batch_size`` samples are used for every check.
        loss: the loss to differentiate (default: the model's compiled loss).
        layers: glob patterns of layer names to watch (default: every layer with a kernel).
        frequency: check every this many epochs (and at train begin).
    """

    def __init__(self, data, *, loss=None, layers=None, batch_size=1000, frequency=1, check_on_train_begin=True):
        super().__init__()
        if not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise ValueError("`data` must be an (x, y) tuple of arrays.")
        check_positive_int(batch_size, "batch_size", minimum=1)
        check_positive_int(frequency, "frequency", minimum=1)
        if layers is not None and (isinstance(layers, str) or not all(isinstance(p, str) for p in layers)):
            raise ValueError(f"`layers` must be None or a list of glob patterns (strings), got {layers!r}.")
        self.x = np.asarray(data[0])[:batch_size]
        self.y = np.asarray(data[1])[:batch_size]
        self.loss = loss
        self.layers = None if layers is None else list(layers)
        self.frequency = frequency
        self.check_on_train_begin = check_on_train_begin
        self.records = []

    def check(self, epochs_completed, logs=None):
        loss = self.loss if self.loss is not None else getattr(self.model, "loss", None)
        if loss is None:
            raise ValueError("GradientNormMonitor needs a loss: compile the model or pass `loss=`.")
        norms = kernel_gradient_norms(self.model, self.x, self.y, loss, self.layers)
        self.records.append({"epoch": epochs_completed, "norms": norms})
        values = {f"grad_norm/{k}": v for k, v in norms.items()}
        first, last = next(iter(norms.values())), list(norms.values())[-1]
        values["grad_norm_ratio"] = first / last if last > 0 else math.inf
        if logs is not None:
            logs.update(values)
        return norms

    def log_keys(self):
        """The keys every epoch's logs get: one per watched kernel, then the first/last ratio."""
        return [f"grad_norm/{name}" for name, _ in _kernels(self.model, self.layers)] + ["grad_norm_ratio"]

    def on_train_begin(self, logs=None):
        self.records = []
        if self.check_on_train_begin:
            self.check(0)
