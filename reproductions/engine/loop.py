"""The training loop of one network: build and compile it (under a strategy's scope), resume its checkpoint, run its
remaining epochs in one ``fit`` call (each epoch in its own seeded order, checkpointed at its end), and evaluate it;
the full-batch fast path and the multi-worker step beside it."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from keras_lecture_zoo.reproductions.console import fmt_seconds
from keras_lecture_zoo.reproductions.engine import batching
from keras_lecture_zoo.reproductions.engine.backend import backend_name
from keras_lecture_zoo.reproductions.engine.batching import epoch_orders, epoch_steps
from keras_lecture_zoo.reproductions.engine.checkpoint import (
    Progress,
    has_checkpoint,
    load_checkpoint,
    save_checkpoint,
    to_numpy_value,
)
from keras_lecture_zoo.reproductions.engine.epochs import (
    PersistentCallbacks,
    history_row,
    reseed_each_epoch,
    watches_batches,
)
from keras_lecture_zoo.reproductions.engine.recipe import derive_seed
from keras_lecture_zoo.reproductions.fileio import atomic_path, sha256_of


@dataclasses.dataclass
class _Network:
    """One network's training in progress: what trains it, the model, and how far it got."""

    recipe: Any
    d: dict
    seed: int
    work_dir: Path
    verbose: int = 1
    fingerprint: dict | None = None
    model: Any = None
    callbacks: Any = None  # PersistentCallbacks
    progress: Progress = dataclasses.field(default_factory=Progress)
    diverged: int | None = None
    epoch_started: float = 0.0

    def epoch_began(self):
        self.epoch_started = time.perf_counter()

    def epoch_ended(self, logs):
        """History, divergence, progress and (every ``checkpoint_every`` epochs, and at a stop) the checkpoint."""
        p, model = self.progress, self.model
        p.seconds.append(time.perf_counter() - self.epoch_started)
        p.history.append(history_row(p.epochs_done + 1, logs))
        p.epochs_done += 1
        epoch, epochs = p.epochs_done, self.recipe.epochs
        if not math.isfinite(logs.get("loss", 0.0)):
            self.diverged = epoch
            model.stop_training = True
        if self.verbose == 1:
            self._print_epoch()
        every = max(1, self.recipe.checkpoint_every)
        if self.diverged is None and (epoch % every == 0 or epoch == epochs or model.stop_training):
            p.callback_states, p.stopped = self.callbacks.states(), bool(model.stop_training)
            save_checkpoint(self.work_dir, model, p, self.fingerprint)

    def _print_epoch(self):
        p, epochs = self.progress, self.recipe.epochs
        shown = ", ".join(
            f"{k} {v:.4f}" for k, v in p.history[-1].items() if k != "Epoch" and v is not None and "/" not in k
        )
        left = (epochs - p.epochs_done) * float(np.mean(p.seconds[-5:]))
        eta = f", ETA {fmt_seconds(left)}" if p.epochs_done < epochs else ""
        print(f"  epoch {p.epochs_done}/{epochs}: {shown} ({p.seconds[-1]:.1f} s{eta})", flush=True)


def train(recipe, d, *, seed, work_dir, verbose=1, context=None):
    """Train ``recipe`` for ``recipe.epochs`` epochs on the arrays ``d`` (``x_train``, ``y_train``,
    ``x_val``/``y_val`` or None, ``x_test``, ``y_test``) for ``seed``, checkpointing every epoch into
    ``work_dir``; a checkpoint already there is resumed. ``context``: the suite's
    :class:`~reproductions.context.Context` of the seed, or None outside a run; its fingerprint guards the
    checkpoint, its distribution (``--strategy``) spreads the network, its settings' ``verbose`` replaces
    ``verbose``, and ``recipe.inspect`` gets it. Returns (outcome, trained model); the outcome holds metrics,
    history, extras, the diverged epoch (or None), the epochs' wall times and the recipe as run."""
    import keras

    net = _Network(recipe, d, seed, Path(work_dir), verbose)
    distribution = None
    if context is not None:
        net.verbose, net.fingerprint, distribution = context.verbose, context.fingerprint, context.distribution
    net.work_dir.mkdir(parents=True, exist_ok=True)
    resumed = has_checkpoint(net.work_dir)
    keras.utils.set_random_seed(seed)
    recipe_callbacks = recipe.callbacks(net.work_dir) if recipe.callbacks else []
    spe = resolve_steps_per_execution(recipe, len(d["x_train"]), recipe_callbacks, distribution)
    net.model = _compiled(recipe, seed, spe, distribution)
    custom_step = _custom_step(net.model, recipe, distribution)
    if resumed:
        net.progress = load_checkpoint(net.work_dir, net.model, net.fingerprint)
        stopped = " (stopped early there)" if net.progress.stopped else ""
        print(f"  resuming seed {seed} after epoch {net.progress.epochs_done}{stopped}", flush=True)
    net.callbacks = PersistentCallbacks(recipe_callbacks, net.model)
    net.callbacks.begin(net.progress.callback_states)
    if recipe.full_batch_steps and custom_step is None:
        _train_full_batch(net)
    else:
        _train_epochs(net, custom_step)
    net.callbacks.end()
    return _outcome(net, spe, context), net.model


def _compiled(recipe, seed, steps_per_execution, distribution):
    """The recipe's network, built and compiled inside the strategy's scope (mirrored variables) when there is one."""
    with distribution.strategy.scope() if distribution is not None else contextlib.nullcontext():
        model = recipe.build(seed)
        model.compile(
            optimizer=recipe.optimizer(),
            loss=recipe.loss,
            metrics=list(recipe.metrics),
            steps_per_execution=steps_per_execution,
        )
    return model


def _custom_step(model, recipe, distribution):
    """The multi-worker strategy's own ``strategy.run`` step, or None where ``fit`` trains."""
    if distribution is None or not distribution.custom_loop:
        return None
    from keras_lecture_zoo.reproductions import distribute

    step = distribute.train_step(model, recipe.loss, distribution.strategy, _accuracy_kind(recipe))
    model._distribute_strategy = None  # evaluate/predict on each worker alone (keras-team/keras#20585)
    return step


def _train_full_batch(net):
    """The fast path: every epoch one full batch, all of them one ``fit`` of ``epochs`` steps."""
    t0 = time.perf_counter()
    history, net.diverged = _fit_full_batch(net.model, net.d, net.recipe.epochs, net.recipe)
    net.progress.history = history
    net.progress.seconds = [(time.perf_counter() - t0) / max(1, len(history))] * len(history)


def _train_epochs(net, custom_step):
    """The remaining epochs, each in its own seeded order and checkpointed from its end.

    One fit call for all remaining epochs: no per-epoch fit set-up or pipeline start (benchmarks/engine_step.py).
    PyTorch and the custom distributed step take one epoch per call, so every epoch starts its data iterator and
    its dropout draws afresh (several per call repeat bitwise on TensorFlow and JAX, not on PyTorch: measured,
    tests/test_engine.py)."""
    import keras

    recipe, d, seed, model = net.recipe, net.d, net.seed, net.model
    train_data, validation = (batching.pipelines if backend_name() == "tensorflow" else batching.batches)(
        d, recipe.batch_size, recipe.augment, seed
    )
    epochs = recipe.epochs
    per_call = 1 if custom_step is not None or backend_name() == "torch" else epochs
    if custom_step is not None and recipe.passes > 1:
        raise ValueError("`passes` > 1 does not run under the custom multi-worker step; use passes=1.")
    steps = epoch_steps(recipe, len(d["x_train"]))
    epoch_end = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs=None: net.epoch_began(),
        on_epoch_end=lambda epoch, logs=None: net.epoch_ended(logs or {}),
    )
    stopped = net.progress.stopped
    while not stopped and net.progress.epochs_done < epochs and net.diverged is None:
        epoch = net.progress.epochs_done
        span = range(epoch, min(epoch + per_call, epochs))
        orders = [(perm, e) for e in span for perm in epoch_orders(recipe, seed, e, len(d["x_train"]))]
        keras.utils.set_random_seed(derive_seed(seed, epoch))  # any global-RNG op in these epochs
        if custom_step is not None:
            net.epoch_began()
            net.epoch_ended(_custom_epoch(net, custom_step, orders[0][0], epoch))
        else:
            model.fit(
                train_data(orders),
                epochs=span[-1] + 1,
                initial_epoch=epoch,
                shuffle=False,
                steps_per_epoch=steps if len(span) > 1 else None,
                validation_data=validation,
                callbacks=[net.callbacks.forward, epoch_end, *reseed_each_epoch(seed)],
                verbose=1 if net.verbose > 1 else 0,
            )
        if model.stop_training or net.progress.epochs_done < span[-1] + 1:
            break


def _default_evaluate(model, d):
    values = model.evaluate(d["x_test"], d["y_test"], verbose=0, return_dict=True)
    return {f"test_{k}": float(v) for k, v in values.items()}


def _outcome(net, steps_per_execution, context):
    """What the trained network measured: final metrics, history, extras, divergence, epoch times, recipe as run."""
    recipe, d, model, history = net.recipe, net.d, net.model, net.progress.history
    metrics = {} if net.diverged else (recipe.evaluate or _default_evaluate)(model, d)
    extras = recipe.inspect(model, d, context) if recipe.inspect and not net.diverged else {}
    metrics.update(extras.pop("metrics", {}))
    if recipe.history_metrics and history and not net.diverged:
        metrics.update(recipe.history_metrics(history))
    metrics["epochs_run"] = float(len(history) and history[-1]["Epoch"])
    metrics.update(net.callbacks.metrics())
    ran = {
        **recipe.describe(),
        "steps_per_execution": steps_per_execution,
        "model": model.name,
        "parameters": int(model.count_params()),
        "train_size": len(d["x_train"]),
    }
    return {
        "metrics": metrics,
        "history": history,
        "extras": extras,
        "diverged_epoch": net.diverged,
        "epoch_seconds": {model.name: net.progress.seconds},
        "recipe": ran,
    }


def save_network(model, path):
    """Write ``model``'s weights to ``path`` (``.weights.h5``, atomically); returns its SHA-256 and size."""
    path = Path(path)
    with atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(tmp)
    return {"sha256": sha256_of(path), "bytes": path.stat().st_size}


def _accuracy_kind(recipe):
    """How the custom distributed step counts 'accuracy': 'sparse' (integer labels), 'binary' or None."""
    if "accuracy" not in recipe.metrics:
        return None
    loss = recipe.loss if isinstance(recipe.loss, str) else type(recipe.loss).__name__
    return "binary" if "binary" in str(loss).lower() else "sparse"


def _custom_epoch(net, step, perm, epoch):
    """One epoch of the multiworker step over the seeded permutation, with the callbacks' hooks and
    the logs ``fit`` would give (loss, accuracy, val_loss, val_accuracy)."""
    import tensorflow as tf

    model, d, recipe, forward = net.model, net.d, net.recipe, net.callbacks.forward
    forward.on_epoch_begin(epoch)
    total = hits = 0.0
    b = recipe.batch_size
    for i, start in enumerate(range(0, len(perm), b)):
        idx = perm[start : start + b]
        forward.on_train_batch_begin(i)
        value, correct = step(tf.constant(d["x_train"][idx]), tf.constant(d["y_train"][idx]))
        total += float(value) * len(idx)
        hits += float(correct)
        forward.on_train_batch_end(i)
    logs = {"loss": total / len(perm)}
    if "accuracy" in recipe.metrics:
        logs["accuracy"] = hits / len(perm)
    if d.get("x_val") is not None and len(d["x_val"]):
        values = model.evaluate(d["x_val"], d["y_val"], batch_size=b, verbose=0, return_dict=True)
        logs.update({f"val_{k}": float(v) for k, v in values.items()})
    forward.on_epoch_end(epoch, logs)
    return logs


def resolve_steps_per_execution(recipe, train_size, callbacks=(), distribution=None):
    """Steps per compiled call for ``recipe``: its own number where it gives one; otherwise the largest
    divisor of the epoch's steps up to 128 (the same updates, bitwise, with Keras' per-step Python work paid
    once per call; past about 100 steps per call nothing more is gained, measured in benchmarks/engine_step.py),
    or the whole epoch where that divisor is below 8; and 1 where a callback watches single batches, under a
    tf.distribute strategy, and on PyTorch, whose trainer takes one step at a time. A call never spans two
    epochs: the epochs run in one ``fit`` call, so the number must divide the epoch's steps."""
    if backend_name() == "torch":
        return 1
    steps = epoch_steps(recipe, train_size)
    if recipe.steps_per_execution is not None:
        spe = int(recipe.steps_per_execution)
        if not recipe.full_batch_steps and steps % spe:
            raise ValueError(f"steps_per_execution must divide the {steps} steps of an epoch, got {spe}")
        return spe
    if distribution is not None or any(watches_batches(cb) for cb in callbacks):
        return 1
    best = max(k for k in range(1, min(steps, _MAX_STEPS_PER_CALL) + 1) if steps % k == 0)
    return best if best >= 8 or steps <= _MAX_STEPS_PER_CALL else steps


_MAX_STEPS_PER_CALL = 128


def fit_full_batch_steps(model, x, y, steps, callbacks=()):
    """``steps`` full-batch updates of a compiled ``model`` on (x, y), as one ``fit`` of ``steps``
    batches: the same updates as ``fit(x, y, batch_size=len(x), epochs=steps)`` without the per-epoch
    overhead (26× faster on XOR; benchmarks/xor_fast_path.py)."""
    reps = np.tile(np.arange(len(x)), steps)
    return model.fit(x[reps], y[reps], batch_size=len(x), epochs=1, shuffle=False, verbose=0, callbacks=list(callbacks))


def _fit_full_batch(model, d, epochs, recipe):
    """Fast path for full-batch recipes: ``epochs`` updates as one fit of ``epochs`` steps.

    With the whole training set in every batch, epoch e of the plain recipe is step e
    here (the same batch, the same update); running them in one fit with
    ``steps_per_execution`` removes the per-epoch overhead of ``fit``.
    """
    import keras

    from keras_lecture_zoo.callbacks.autodiff import to_numpy

    x, y = d["x_train"], d["y_train"]
    if recipe.batch_size != len(x):
        raise ValueError(f"full_batch_steps needs batch_size == len(x_train) ({len(x)}), got {recipe.batch_size}.")
    loss_fn = keras.losses.get(recipe.loss)
    with_accuracy = "accuracy" in recipe.metrics
    history = []
    state = {"diverged": None}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = int(to_numpy_value(self.model.optimizer.iterations))
            pred = self.model(x, training=False)
            loss = float(np.mean(to_numpy(loss_fn(y, pred))))
            logs = {"loss": loss}
            if with_accuracy:
                logs["accuracy"] = float(np.mean((to_numpy(pred) > 0.5) == (y > 0.5)))
            history.append(history_row(step, logs))
            if not math.isfinite(loss):
                state["diverged"] = step
                self.model.stop_training = True

    fit_full_batch_steps(model, x, y, epochs, callbacks=[Record()])
    return history, state["diverged"]
