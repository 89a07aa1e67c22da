"""EarlyStopping: Keras 3's semantics plus best-model saving, thresholds and finite checks."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import keras
import numpy as np

from keras_lecture_zoo.zoo.fileio import atomic_path
from keras_lecture_zoo.zoo.validation import check_positive_int

__all__ = ["EarlyStopping"]

_MAX_WORDS = ("acc", "auc", "precision", "recall", "f1", "iou", "top_k", "r2")


class EarlyStopping(keras.callbacks.Callback):
    """Stop when a monitored quantity stops improving; keep (and optionally save) the best model.

    The arguments of ``keras.callbacks.EarlyStopping`` (monitor, min_delta, patience,
    verbose, mode, baseline, restore_best_weights, start_from_epoch) keep their
    meaning and give the same decisions, with these differences:

    * a non-finite value (NaN/inf) is never taken as the best; with ``check_finite``
      (default) it stops training at once, reason ``"non_finite"``;
    * ``stopping_threshold``: stop as soon as the value is at least this good;
    * ``divergence_threshold``: stop as soon as the value is this bad or worse;
    * ``save_best_path``: on every improvement the model (``.keras``) or, with
      ``save_weights_only``, its weights (``.weights.h5``) is written there
      atomically (temp file + rename), the lecture's "save best model";
    * ``restore_best_weights`` restores the best weights at any end of training.

    After training: ``best``, ``best_epoch``, ``stopped_epoch`` (0-based, as Keras;
    0 if not stopped), ``stop_reason`` (None, "patience", "stopping_threshold",
    "divergence_threshold", "non_finite"); the same are attached to the History object
    as ``history.early_stopping``. ``get_state()``/``set_state()`` carry the state
    across a resumed run.
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0.0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
        *,
        stopping_threshold=None,
        divergence_threshold=None,
        check_finite=True,
        save_best_path=None,
        save_weights_only=False,
    ):
        super().__init__()
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"`monitor` must be a metric name such as 'val_loss', got {monitor!r}.")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"`mode` must be one of ['auto', 'min', 'max'], got {mode!r}.")
        check_positive_int(patience, "patience", minimum=0)
        check_positive_int(start_from_epoch, "start_from_epoch", minimum=0)
        for name, value in (
            ("min_delta", min_delta),
            ("baseline", baseline),
            ("stopping_threshold", stopping_threshold),
            ("divergence_threshold", divergence_threshold),
        ):
            if value is not None and (not isinstance(value, (int, float, np.floating)) or not math.isfinite(value)):
                raise ValueError(
                    f"`{name}` must be a finite number{' or None' if name != 'min_delta' else ''}, got {value!r}."
                )
        if save_best_path is not None:
            suffix = ".weights.h5" if save_weights_only else ".keras"
            if not str(save_best_path).endswith(suffix):
                raise ValueError(
                    f"`save_best_path` must end in '{suffix}' when save_weights_only={save_weights_only}, got "
                    f"{str(save_best_path)!r}."
                )
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.stopping_threshold = stopping_threshold
        self.divergence_threshold = divergence_threshold
        self.check_finite = check_finite
        self.save_best_path = None if save_best_path is None else Path(save_best_path)
        self.save_weights_only = save_weights_only
        self._resume = None
        self._reset()

    # ------------------------------------------------------------------ state

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None
        self.stop_reason = None

    def get_state(self):
        """Everything needed to continue as if training had not been interrupted."""
        return {
            "wait": self.wait,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
            "stop_reason": self.stop_reason,
            "best_weights": None if self.best_weights is None else [np.array(w) for w in self.best_weights],
        }

    def result_metrics(self):
        """What a training run reports from this callback: the best epoch, 1-based."""
        return {"best_epoch": float(self.best_epoch + 1)}

    def set_state(self, state):
        """Load a state from ``get_state``; the next ``fit`` continues from it instead of resetting."""
        unknown = set(state) - set(self.get_state())
        if unknown:
            raise ValueError(f"`state` has unknown keys {sorted(unknown)}.")
        self._resume = dict(state)

    # ------------------------------------------------------------------ decisions

    def _direction(self):
        if self.mode != "auto":
            return self.mode
        name = self.monitor.removeprefix("val_")
        if name == "loss" or name.endswith("loss") or "error" in name:
            return "min"
        for metric in getattr(self.model, "metrics", []) if self.model is not None else []:
            for m in getattr(metric, "metrics", [metric]):
                if m.name == name and hasattr(m, "_direction"):
                    return "max" if m._direction == "up" else "min"
        if any(word in name for word in _MAX_WORDS):
            return "max"
        raise ValueError(
            f"EarlyStopping cannot tell whether {self.monitor!r} should go up or down; pass mode='min' or mode='max'."
        )

    def _better(self, value, reference, delta):
        if reference is None:
            return True
        if self._mode == "min":
            return value + delta < reference
        return value - delta > reference

    def on_train_begin(self, logs=None):
        self._reset()
        self._mode = self._direction()
        if self._resume is not None:
            for key, value in self._resume.items():
                setattr(self, key, value)
            self._resume = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"EarlyStopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}",
                stacklevel=2,
            )
            return
        current = float(current)
        if epoch < self.start_from_epoch and math.isfinite(current):
            return
        if not math.isfinite(current):
            if self.check_finite:
                self._stop(epoch, "non_finite", f"{self.monitor} = {current}")
                return
            self.wait += 1  # never the best; counts as an epoch without improvement
            if self.wait >= self.patience and epoch > 0:
                self._stop(epoch, "patience", f"no finite improvement in {self.monitor} for {self.wait} epochs")
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._better(current, self.best, self.min_delta):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            self._save_best(epoch)
            if self.baseline is None or self._better(current, self.baseline, self.min_delta):
                self.wait = 0
        elif self.wait >= self.patience and epoch > 0:
            self._stop(epoch, "patience", f"no improvement in {self.monitor} for {self.wait} epochs")
            return
        if self.stopping_threshold is not None and (
            current == self.stopping_threshold or self._better(current, self.stopping_threshold, 0.0)
        ):
            self._stop(epoch, "stopping_threshold", f"{self.monitor} = {current:.6g} reached {self.stopping_threshold}")
        elif self.divergence_threshold is not None and not self._better(current, self.divergence_threshold, 0.0):
            self._stop(
                epoch, "divergence_threshold", f"{self.monitor} = {current:.6g} past {self.divergence_threshold}"
            )

    def _stop(self, epoch, reason, detail):
        self.stopped_epoch = epoch
        self.stop_reason = reason
        self.model.stop_training = True
        if self.verbose:
            print(f"Epoch {epoch + 1}: early stopping ({reason}: {detail})")

    def _save_best(self, epoch):
        if self.save_best_path is None:
            return
        path = self.save_best_path
        with atomic_path(path, suffix=".weights.h5" if self.save_weights_only else ".keras") as tmp:
            if self.save_weights_only:
                self.model.save_weights(tmp, overwrite=True)
            else:
                self.model.save(tmp, overwrite=True)
        if self.verbose:
            print(f"Epoch {epoch + 1}: {self.monitor} improved to {self.best:.6g}; saved {path}")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
        history = getattr(self.model, "history", None)
        if history is not None:
            history.early_stopping = {
                "best": self.best,
                "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch,
                "stop_reason": self.stop_reason,
            }
