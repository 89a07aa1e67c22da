"""A recipe's callbacks across the engine's fit calls: kept alive for the whole network, reseeded per epoch where
the backend needs it, and each epoch's logs as a history row in the lecture's columns."""

from __future__ import annotations

from keras_lecture_zoo.reproductions.engine.backend import backend_name
from keras_lecture_zoo.reproductions.engine.recipe import derive_seed


def history_row(epoch, logs):
    """One epoch's logs in the lecture's columns, then any other keys."""
    row = {
        "Epoch": epoch,
        "Train Loss": logs.get("loss"),
        "Train Accuracy": logs.get("accuracy"),
        "Validation Loss": logs.get("val_loss"),
        "Validation Accuracy": logs.get("val_accuracy"),
    }
    for key, value in logs.items():
        if key not in ("loss", "accuracy", "val_loss", "val_accuracy"):
            row[key] = value
    out = {k: (None if v is None else float(v)) for k, v in row.items()}
    out["Epoch"] = int(epoch)
    return out


class PersistentCallbacks:
    """A recipe's callbacks, alive across the engine's one-epoch ``fit`` calls: ``on_train_begin``
    reaches them once per network, ``on_train_end`` when the network ends."""

    def __init__(self, callbacks, model):
        import keras

        self.callbacks = list(callbacks)
        self.inner = keras.callbacks.CallbackList(self.callbacks, add_history=False, add_progbar=False, model=model)
        outer = self

        class Forward(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                outer.inner.on_epoch_begin(epoch, logs)

            def on_epoch_end(self, epoch, logs=None):
                outer.inner.on_epoch_end(epoch, logs)

        class ForwardBatches(Forward):
            def on_train_batch_begin(self, batch, logs=None):
                outer.inner.on_train_batch_begin(batch, logs)

            def on_train_batch_end(self, batch, logs=None):
                outer.inner.on_train_batch_end(batch, logs)

        # Batch hooks only where a recipe callback has them: a callback with on_train_batch_end makes Keras
        # turn each call's logs into Python numbers before it starts the next call (no asynchronous dispatch),
        # a wait per call that a bare fit does not pay (benchmarks/engine_step.py)
        self.forward = (ForwardBatches if any(watches_batches(cb) for cb in self.callbacks) else Forward)()

    def begin(self, states=None):
        for cb, state in zip(self.callbacks, states or [None] * len(self.callbacks)):
            if state is not None and hasattr(cb, "set_state"):
                cb.set_state(state)
        self.inner.on_train_begin()

    def end(self):
        self.inner.on_train_end()

    def states(self):
        return [cb.get_state() if hasattr(cb, "get_state") else None for cb in self.callbacks]

    def metrics(self):
        out = {}
        for cb in self.callbacks:
            if hasattr(cb, "result_metrics"):
                out.update({k: float(v) for k, v in cb.result_metrics().items()})
        return out


def reseed_each_epoch(seed):
    """On PyTorch, a callback that starts every epoch from ``set_random_seed(derive_seed(seed, epoch))``, also
    inside a fit call of several epochs: Keras' unseeded Dropout there draws from torch's global generator
    (its fast path), which the checkpoint cannot hold. Other backends draw from the layers' seed generators,
    which the checkpoint holds, and need none."""
    if backend_name() != "torch":
        return []
    import keras

    class Reseed(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            keras.utils.set_random_seed(derive_seed(seed, epoch))

    return [Reseed()]


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def watches_batches(callback):
    """Whether a Keras callback overrides a per-batch training hook (with several steps per execution
    Keras calls those once per execution, so such a callback needs one step per call)."""
    import keras

    return any(
        getattr(type(callback), hook, None) is not getattr(keras.callbacks.Callback, hook) for hook in _BATCH_HOOKS
    )
