"""Shared pieces of the training-practice targets (section D): MNIST arrays, a training-error tracker
finer than one epoch, and reading "how long until the curve first reaches a level"."""

from __future__ import annotations

import math

import numpy as np

from keras_lecture_zoo.reproductions.targets._data import image_data

TRACK_SIZE = 10_000  # fixed training images on which the tracker measures training error


def mnist(ctx, validation_size=0):
    """MNIST train/test arrays (no validation split unless asked); quick profiles keep N train images (and
    with ``eval_size``, N validation and test images: see image_data)."""
    d = image_data("mnist", ctx, validation_size=validation_size or None)
    if d.get("x_val") is not None and not len(d["x_val"]):
        d["x_val"] = d["y_val"] = None
    return d


def training_error_tracker(x, y, steps_per_epoch, checks_per_epoch=4):
    """A callback measuring error on fixed training images ``checks_per_epoch`` times per epoch
    (inference mode), at fractional epochs; resumable through get_state/set_state."""
    import keras

    marks = {max(1, round(steps_per_epoch * k / checks_per_epoch)) for k in range(1, checks_per_epoch + 1)}

    class TrainingErrorTracker(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.points, self._restored, self._epoch = [], False, 0

        def get_state(self):
            return {"points": self.points}

        def set_state(self, state):
            self.points, self._restored = [tuple(p) for p in state["points"]], True

        def _measure(self, epoch):
            pred = self.model.predict(x, batch_size=2048, verbose=0)
            self.points.append((float(epoch), float(np.mean(np.argmax(pred, axis=1) != y))))

        def on_train_begin(self, logs=None):
            if self._restored:
                self._restored = False
                return
            self.points = []
            self._measure(0.0)

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 in marks:
                self._measure(self._epoch + (batch + 1) / steps_per_epoch)

    return TrainingErrorTracker()


def zero_one_errors(model, d, splits=("train", "val", "test")):
    """``<split>_error``: the share of misclassified images of each split ``d`` holds (inference mode)."""
    out = {}
    for split in splits:
        if d.get(f"x_{split}") is None:
            continue
        pred = model.predict(d[f"x_{split}"], batch_size=2000, verbose=0)
        out[f"{split}_error"] = float(np.mean(np.argmax(pred, axis=1) != d[f"y_{split}"]))
    return out


def first_reach(points, level):
    """The first (fractional) epoch at which the measured error is <= ``level``; NaN if never."""
    return next((epoch for epoch, error in points if error <= level), math.nan)
