"""Base of the callbacks that measure every ``frequency`` epochs: every epoch's logs carry all of their
keys from epoch 0 (NaN on epochs without a check), so History lists match ``loss`` in length and
CSVLogger, which fixes its header at the first epoch, writes their columns."""

from __future__ import annotations

import math

import keras


class PeriodicCheck(keras.callbacks.Callback):
    """Subclasses set ``frequency`` and ``check_on_train_begin`` and define ``check(epochs_completed,
    logs)`` and ``log_keys()`` (the keys a check writes, known from the model before any check)."""

    frequency = 1
    check_on_train_begin = True

    def log_keys(self):
        raise NotImplementedError

    def _nan_fill(self, logs):
        if logs is None:
            return
        try:
            keys = self.log_keys()
        except Exception:  # a model that cannot name its keys yet: the check itself will add them
            keys = ()
        for key in keys:
            logs.setdefault(key, math.nan)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.frequency == 0:
            self.check(epoch + 1, logs)
        self._nan_fill(logs)
