"""check_overfit: the lecture's sanity check, "try to overfit a small set: if the loss is not ~0 on a
small data set, something is wrong" (L000), as a function for any Keras model."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from keras_lecture_zoo.callbacks.autodiff import to_numpy
from keras_lecture_zoo.callbacks.batchnorm import recalibrate_batchnorm
from keras_lecture_zoo.zoo.validation import check_positive_int

__all__ = ["OverfitReport", "check_overfit"]


@dataclasses.dataclass
class OverfitReport:
    """What happened: the loss (inference mode) at each check, and whether it reached the threshold."""

    passed: bool
    threshold: float
    initial_loss: float
    final_loss: float
    steps: int  # training steps taken (stops at the first check under the threshold)
    train_accuracy: float | None
    curve: list  # [(step, loss), ...]

    def describe(self):
        verdict = "reached" if self.passed else "did NOT reach"
        acc = "" if self.train_accuracy is None else f", training accuracy {self.train_accuracy:.3f}"
        return (
            f"loss {self.initial_loss:.4g} → {self.final_loss:.4g} after {self.steps} full-batch steps: "
            f"{verdict} {self.threshold:g}{acc}"
        )


def _inference_loss(model, loss_fn, x, y):
    # inference mode must use this set's statistics, not moving averages that are still warming up
    recalibrate_batchnorm(model, x, batch_size=len(x))
    pred = model(x, training=False)
    value = float(np.mean(to_numpy(loss_fn(y, pred))))
    return value, to_numpy(pred)


def _accuracy(pred, y):
    y = np.asarray(y)
    if pred.shape[-1] == 1:
        return float(np.mean((pred[..., 0] > 0.5) == (y.reshape(len(y), -1)[:, 0] > 0.5)))
    labels = y if y.ndim == 1 or y.shape[-1] == 1 else np.argmax(y, axis=-1)
    return float(np.mean(np.argmax(pred, axis=-1) == labels.reshape(-1)))


def check_overfit(
    model, x, y, *, loss=None, optimizer=None, max_steps=500, check_every=10, threshold=0.01, classification=True
):
    """Train ``model`` on the small set (x, y) with full batches until its loss, measured in inference
    mode (dropout off; BatchNorm with this set's statistics), is <= ``threshold`` or ``max_steps`` pass.

    ``loss``/``optimizer`` default to the compiled ones (Adam 1e-3 if the model is not compiled).
    With ``classification=True`` the report also gives the training accuracy. The model's weights
    are changed: pass a fresh model (or a clone) if you want to keep them.
    """
    check_positive_int(max_steps, "max_steps", minimum=1)
    check_positive_int(check_every, "check_every", minimum=1)
    if not (isinstance(threshold, (int, float)) and threshold > 0):
        raise ValueError(f"`threshold` must be a number > 0, got {threshold!r}.")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"`x` and `y` must hold the same number (> 0) of examples, got {len(x)} and {len(y)}.")
    loss = loss if loss is not None else getattr(model, "loss", None)
    if loss is None:
        raise ValueError("No loss: compile the model or pass `loss=` (a Keras loss name or object).")
    if optimizer is None:
        optimizer = (
            model.optimizer
            if getattr(model, "optimizer", None) is not None and model.compiled
            else keras.optimizers.Adam(1e-3)
        )
    # several steps per compiled call where the backend allows it (PyTorch's trainer takes one at a time)
    per_call = 1 if keras.backend.backend() == "torch" else check_every
    model.compile(optimizer=optimizer, loss=loss, steps_per_execution=per_call)
    loss_fn = keras.losses.get(loss) if isinstance(loss, str) else loss
    initial, pred = _inference_loss(model, loss_fn, x, y)
    curve, steps, value = [(0, initial)], 0, initial
    while value > threshold and steps < max_steps:
        n = min(check_every, max_steps - steps)
        reps = np.tile(np.arange(len(x)), n)  # n full-batch steps in one fit call
        model.fit(x[reps], y[reps], batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        steps += n
        value, pred = _inference_loss(model, loss_fn, x, y)
        curve.append((steps, value))
        if not np.isfinite(value):
            break
    return OverfitReport(
        passed=bool(value <= threshold),
        threshold=float(threshold),
        initial_loss=initial,
        final_loss=value,
        steps=steps,
        train_accuracy=_accuracy(pred, y) if classification else None,
        curve=curve,
    )
