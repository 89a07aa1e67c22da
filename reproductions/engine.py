"""The engine: trains one :class:`Recipe` on one data set for one seed, into one work folder.

Its own concerns, and nothing else: determinism, the per-epoch checkpoint (model and optimizer variables,
Dropout seed generators, history, the callbacks' declared state and the fingerprint of the run, as ONE
file replaced by one rename, so a killed run resumes at the last finished epoch with the numbers an
uninterrupted run gives), the distributed step, and the small-model fast path. It knows no target,
no callback by name, and no command line: the suite (:mod:`reproductions.suite`) calls it.

A callback keeps its state across a resume by the contract of :mod:`callbacks` (``get_state`` /
``set_state``; arrays in the state are stored in the checkpoint as arrays) and may report numbers into
the run's metrics through ``result_metrics()``.

Seeds, one rule for the whole suite: everything random in seed ``s``'s work derives from ``s``. A network
is built after ``keras.utils.set_random_seed(s)``; epoch ``e`` visits the training set in the order
``numpy.random.default_rng([s, e])`` and starts from ``set_random_seed(derive_seed(s, e))``; any other
stream a target draws is ``numpy.random.default_rng([s, *keys])``, or ``derive_seed(s, *keys)`` where an
integer seed is needed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from reproductions.errors import CheckpointError, ResumeMismatch
from reproductions.fileio import _jsonable, atomic_path, fault_point

__all__ = [
    "Recipe",
    "Augmentation",
    "train",
    "derive_seed",
    "configure_determinism",
    "fit_full_batch_steps",
    "check_fingerprint",
    "has_checkpoint",
    "save_network",
    "fmt_seconds",
    "history_row",
    "resolve_steps_per_execution",
    "CHECKPOINT",
]


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """He et al.'s CIFAR augmentation for image batches (N, H, W, C): zero-pad ``pad`` pixels on each side,
    crop a random H×W window, and mirror left-right with probability 1/2 when ``flip``.

    Each epoch draws every image's crop offset and flip from ``numpy.random.default_rng([seed, epoch,
    AUGMENT_KEY])``, indexed by image, so the augmented batches are a pure function of seed and epoch (a
    resumed run sees the same ones) and are the same gathers on every backend."""

    pad: int = 4
    flip: bool = True

    def draws(self, seed, epoch, n):
        """(row offset, column offset, flipped) of each of ``n`` images in ``epoch``, as int32 arrays."""
        rng = np.random.default_rng([int(seed), int(epoch), AUGMENT_KEY])
        offsets = rng.integers(0, 2 * self.pad + 1, size=(n, 2)).astype(np.int32)
        flips = (rng.random(n) < 0.5).astype(np.int32) if self.flip else np.zeros(n, np.int32)
        return offsets[:, 0], offsets[:, 1], flips

    def padded(self, x):
        """The training images with their zero border (once per run; batches are cut from it)."""
        if x.ndim != 4:
            raise ValueError(f"augment needs image arrays (N, H, W, C), got shape {x.shape}")
        p = self.pad
        return np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))

    def describe(self):
        return {"pad": self.pad, "flip": self.flip}


AUGMENT_KEY = 0x617567  # "aug": the augmentation's stream within a seed's epoch


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to train one network: builder, optimizer, loss, metrics, batch size, epochs, callbacks.

    ``build(seed)`` returns an uncompiled model and ``optimizer()`` a fresh optimizer (both factories, so
    every seed starts anew); ``callbacks(work_dir)`` returns fresh callbacks (``work_dir`` is the
    network's work folder, e.g. for a best-model file). ``evaluate(model, data)`` gives the final metrics
    (default: test loss and metrics); ``inspect(model, data, context)`` JSON-able details of the trained
    model (a ``"metrics"`` entry joins the metrics); ``history_metrics(rows)`` metrics from the per-epoch
    rows. ``full_batch_steps``: every epoch is one full batch, trained as one ``fit`` of ``epochs`` steps
    (the fast path); ``steps_per_execution`` runs that many steps per call into the compiled function;
    ``checkpoint_every`` writes the checkpoint every that many epochs (and at the end), for small networks
    whose epochs take less time than writing one (the epochs all run in one ``fit`` call either way);
    ``shuffle=False`` visits the training set in its own order every epoch (``fit(shuffle=False)``);
    ``augment`` an :class:`Augmentation` of the training batches (validation and test data stay as they are);
    ``passes``: each epoch (a history row, the callbacks' epoch hooks, a checkpoint point) is that many passes
    over the training set, each in its own seeded order and ending with its own partial batch, for schedules of
    thousands of tiny epochs, where Keras' per-epoch work would cost more than the steps.
    """

    build: Callable[[int], Any]
    optimizer: Callable[[], Any]
    loss: Any
    epochs: int | None = None
    metrics: tuple = ("accuracy",)
    batch_size: int = 32
    callbacks: Callable[[Path], list] | None = None
    evaluate: Callable[[Any, dict], dict] | None = None
    inspect: Callable[[Any, dict, Any], dict] | None = None
    history_metrics: Callable[[list], dict] | None = None
    full_batch_steps: bool = False
    steps_per_execution: int | None = None
    checkpoint_every: int = 1
    shuffle: bool = True
    augment: Augmentation | None = None
    passes: int = 1

    def __post_init__(self):
        if isinstance(self.passes, bool) or not isinstance(self.passes, int) or self.passes < 1:
            raise ValueError(f"`passes` must be a positive integer, got {self.passes!r}.")
        if self.passes > 1 and (self.augment is not None or self.full_batch_steps):
            raise ValueError("`passes` > 1 takes neither `augment` nor `full_batch_steps`.")

    def describe(self) -> dict:
        """The recipe as JSON-able data, for the run record."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "loss": self.loss if isinstance(self.loss, str) else type(self.loss).__name__,
            "metrics": list(self.metrics),
            "optimizer": _describe_optimizer(self.optimizer),
            "full_batch_steps": self.full_batch_steps,
            "steps_per_execution": self.steps_per_execution,
            "checkpoint_every": self.checkpoint_every,
            "shuffle": self.shuffle,
            **({"augment": self.augment.describe()} if self.augment else {}),
            **({"passes": self.passes} if self.passes > 1 else {}),
        }


def _describe_optimizer(factory):
    try:
        opt = factory()
        cfg = opt.get_config()
        out = {"class": type(opt).__name__}
        for k, v in cfg.items():
            if k == "name":  # Keras's per-session counter ("adam_3"), not part of the recipe
                continue
            if isinstance(v, dict) and "class_name" in v:  # a learning-rate schedule
                v = {"class": v["class_name"], **{a: b for a, b in (v.get("config") or {}).items() if a != "name"}}
            if isinstance(v, (int, float, str, bool, dict, list)) or v is None:
                out[k] = v
        return json.loads(json.dumps(out, default=str))
    except Exception:
        return repr(factory)


def derive_seed(seed, *keys):
    """The integer seed of stream ``keys`` within seed ``seed`` (NumPy's SeedSequence of ``[seed, *keys]``)."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1)[0])


def backend_name():
    """The Keras backend this process trains on ('tensorflow', 'jax' or 'torch')."""
    import keras

    return keras.backend.backend()


def configure_determinism():
    """Op determinism for bitwise-repeatable runs on the active backend (once per process): TensorFlow's
    op determinism, PyTorch's deterministic algorithms; JAX on the CPU is deterministic as it is."""
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


def fmt_seconds(s):
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


# --------------------------------------------------------------------------- fingerprints


def _fingerprint_difference(found, wanted):
    """'profile: quick here, full now; ...' for the keys whose values differ."""
    if not isinstance(found, dict):
        return "the unfinished work carries no fingerprint (written by an older version)"
    parts = []
    for key in wanted:
        if found.get(key) != wanted[key]:
            a, b = found.get(key), wanted[key]
            if key == "code":
                parts.append(f"code: source digest {str(a)[:12]} there, {str(b)[:12]} now (the code changed)")
            elif key == "config" and isinstance(a, dict):
                parts.append(
                    "config: " + ", ".join(f"{k} {x!r} there, {y!r} now" for k, x, y in _dict_difference(a, b))
                )
            else:
                parts.append(f"{key}: {a!r} there, {b!r} now")
    return "; ".join(parts)


def _dict_difference(a, b, prefix=""):
    """(dotted key, value there, value now) for every differing leaf of two nested dicts."""
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _dict_difference(x, y, f"{prefix}{k}.")
        elif x != y:
            out.append((f"{prefix}{k}", x, y))
    return out


def check_fingerprint(found, wanted, where):
    """Raise :class:`ResumeMismatch` unless the stored fingerprint ``found`` equals ``wanted``."""
    if found != wanted:
        raise ResumeMismatch(
            f"--resume refused: the unfinished work in {where} was made by a different run "
            f"({_fingerprint_difference(found, wanted)}); rerun without --resume to start over"
        )


# --------------------------------------------------------------------------- callbacks across epochs


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


class _Persistent:
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


# --------------------------------------------------------------------------- the checkpoint

CHECKPOINT = "checkpoint.npz"
_STATE_KEY = "__state__"
_FORMAT = 3
_ARRAYS = "__arrays__"  # a callback-state value stored as checkpoint arrays: {"__arrays__": count or -1}


def _seed_generators(model):
    import keras

    gens = []
    for layer in model._flatten_layers(include_self=True):
        for value in vars(layer).values():
            if isinstance(value, keras.random.SeedGenerator):
                gens.append(value)
    return gens


def _numpy(variable):
    """A Keras variable's value as NumPy on any backend (detached from PyTorch's autograd)."""
    from callbacks.autodiff import to_numpy

    return np.asarray(to_numpy(variable.value))


def _split_state(i, state, arrays):
    """A callback's state with its arrays (a value that is an array, or a non-empty list of arrays)
    moved into ``arrays``; the rest stays JSON."""
    if not isinstance(state, dict):
        return state
    out = {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[f"cb{i}_{key}"] = value
            out[key] = {_ARRAYS: -1}
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, np.ndarray) for v in value):
            for j, v in enumerate(value):
                arrays[f"cb{i}_{key}_{j}"] = v
            out[key] = {_ARRAYS: len(value)}
        else:
            out[key] = value
    return out


def _join_state(i, state, arrays):
    if not isinstance(state, dict):
        return state
    out = {}
    for key, value in state.items():
        if isinstance(value, dict) and set(value) == {_ARRAYS}:
            n = value[_ARRAYS]
            value = arrays[f"cb{i}_{key}"] if n == -1 else [arrays[f"cb{i}_{key}_{j}"] for j in range(n)]
        out[key] = value
    return out


def _save_checkpoint(work_dir, model, epochs_done, history, callback_states, seconds, fingerprint, stopped=False):
    """Model and optimizer variables, Dropout seed generators, history, callback states, epoch times,
    the fingerprint and whether a callback stopped the training (an early stop: a resumed run must not
    train on) as ONE file, replaced by one rename: a kill leaves the old checkpoint or the new one, never
    weights of one epoch with the progress of another."""
    arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(model.get_weights())}
    arrays.update({f"opt_{i}": _numpy(v) for i, v in enumerate(model.optimizer.variables)})
    states = [_split_state(i, s, arrays) for i, s in enumerate(callback_states)]
    state = {
        "format": _FORMAT,
        "epochs_done": epochs_done,
        "history": history,
        "seed_generators": [_numpy(g.state).tolist() for g in _seed_generators(model)],
        "callback_states": states,
        "n_model": len(model.get_weights()),
        "n_optimizer": len(model.optimizer.variables),
        "epoch_seconds": list(seconds),
        "fingerprint": fingerprint,
        "stopped": bool(stopped),
    }
    arrays[_STATE_KEY] = np.frombuffer(json.dumps(state, default=_jsonable).encode(), dtype=np.uint8)
    with atomic_path(work_dir / CHECKPOINT, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
        fault_point("checkpoint-written")  # the temp file is complete; the rename is next


def has_checkpoint(work_dir):
    return (work_dir / CHECKPOINT).is_file() or (work_dir / "state.json").is_file()


def _read_checkpoint(work_dir, fingerprint):
    """The checkpoint's arrays and state, verified: one readable file of this format whose history
    matches its epoch count and whose fingerprint matches this run; else :class:`CheckpointError`."""
    import zipfile

    path = work_dir / CHECKPOINT
    again = "rerun without --resume to start that work over"
    if (work_dir / "state.json").is_file():
        raise CheckpointError(
            f"checkpoint in {work_dir} is in the old two-file format (state.json + checkpoint.npz), "
            f"which a kill could leave inconsistent; {again}"
        )
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        state = json.loads(arrays.pop(_STATE_KEY).tobytes())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"checkpoint {path} is damaged ({type(exc).__name__}: {exc}); {again}") from None
    history = state.get("history") or []
    if state.get("format") != _FORMAT:
        raise CheckpointError(
            f"checkpoint {path} is in format {state.get('format')!r}, not {_FORMAT} (written by "
            f"another version); {again}"
        )
    if len(history) != state.get("epochs_done") or (history and history[-1].get("Epoch") != state["epochs_done"]):
        raise CheckpointError(
            f"checkpoint {path} is inconsistent (epochs_done {state.get('epochs_done')!r} but "
            f"{len(history)} history rows); {again}"
        )
    if fingerprint is not None:
        check_fingerprint(state.get("fingerprint"), fingerprint, path)
    return arrays, state


def _load_checkpoint(work_dir, model, fingerprint=None):
    """Restore a checkpoint into a freshly built and compiled ``model``; returns its progress (epochs done,
    history, callback states, epoch times, and whether a callback had stopped the training)."""
    arrays, state = _read_checkpoint(work_dir, fingerprint)
    model.optimizer.build(model.trainable_variables)
    if len(model.optimizer.variables) != state["n_optimizer"] or len(model.get_weights()) != state["n_model"]:
        raise CheckpointError(
            f"checkpoint in {work_dir} does not match the recipe's model or optimizer; rerun without --resume"
        )
    model.set_weights([arrays[f"model_{i}"] for i in range(state["n_model"])])
    for i, v in enumerate(model.optimizer.variables):
        v.assign(arrays[f"opt_{i}"])
    states = [_join_state(i, s, arrays) for i, s in enumerate(state["callback_states"])]
    for gen, value in zip(_seed_generators(model), state["seed_generators"]):
        gen.state.assign(np.asarray(value, dtype=gen.state.dtype))
    return state["epochs_done"], state["history"], states, state["epoch_seconds"], bool(state.get("stopped"))


# --------------------------------------------------------------------------- one network


def _default_evaluate(model, d):
    values = model.evaluate(d["x_test"], d["y_test"], verbose=0, return_dict=True)
    return {f"test_{k}": float(v) for k, v in values.items()}


def train(recipe, d, *, seed, work_dir, fingerprint=None, distribution=None, verbose=1, context=None):
    """Train ``recipe`` for ``recipe.epochs`` epochs on the arrays ``d`` (``x_train``, ``y_train``,
    ``x_val``/``y_val`` or None, ``x_test``, ``y_test``) for ``seed``, checkpointing every epoch into
    ``work_dir``; a checkpoint already there (with this ``fingerprint``) is resumed. ``distribution``: a
    :class:`reproductions.distribute.Distribution` or None for one device; ``context`` is handed to
    ``recipe.inspect``. Returns (outcome, trained model); the outcome holds metrics, history, extras,
    the diverged epoch (or None), the epochs' wall times and the recipe as run."""
    import keras

    epochs = recipe.epochs
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    resumed = has_checkpoint(work_dir)
    keras.utils.set_random_seed(seed)
    recipe_callbacks = recipe.callbacks(work_dir) if recipe.callbacks else []
    spe = resolve_steps_per_execution(recipe, len(d["x_train"]), recipe_callbacks, distribution)
    with distribution.strategy.scope() if distribution is not None else contextlib.nullcontext():
        # model, optimizer and metrics are created inside the strategy's scope (mirrored variables)
        model = recipe.build(seed)
        model.compile(
            optimizer=recipe.optimizer(), loss=recipe.loss, metrics=list(recipe.metrics), steps_per_execution=spe
        )
    custom_step = None
    if distribution is not None and distribution.custom_loop:
        from reproductions import distribute

        custom_step = distribute.train_step(model, recipe.loss, distribution.strategy, _accuracy_kind(recipe))
        model._distribute_strategy = None  # evaluate/predict on each worker alone (keras-team/keras#20585)
    start, history, cb_states, seconds, stopped = 0, [], None, [], False
    if resumed:
        start, history, cb_states, seconds, stopped = _load_checkpoint(work_dir, model, fingerprint)
        print(f"  resuming seed {seed} after epoch {start}" + (" (stopped early there)" if stopped else ""), flush=True)
    callbacks = _Persistent(recipe_callbacks, model)
    callbacks.begin(cb_states)
    diverged = None
    if recipe.full_batch_steps and custom_step is None:
        t0 = time.perf_counter()
        history, diverged = _fit_full_batch(model, d, epochs, recipe)
        seconds = [(time.perf_counter() - t0) / max(1, len(history))] * len(history)
    else:
        train_data, validation = (_pipelines if backend_name() == "tensorflow" else _batches)(
            d, recipe.batch_size, recipe.augment, seed
        )
        # One fit call for all remaining epochs, each epoch in its own seeded order and checkpointed from its
        # on_epoch_end: no per-epoch fit set-up or pipeline start (benchmarks/engine_step.py). PyTorch and the
        # custom distributed step take one epoch per call, so every epoch starts its data iterator and its
        # dropout draws afresh (several per call repeat bitwise on TensorFlow and JAX, not on PyTorch: measured,
        # tests/test_engine.py).
        per_call = 1 if custom_step is not None or backend_name() == "torch" else epochs
        if custom_step is not None and recipe.passes > 1:
            raise ValueError("`passes` > 1 does not run under the custom multi-worker step; use passes=1.")
        steps = epoch_steps(recipe, len(d["x_train"]))
        every = max(1, recipe.checkpoint_every)
        state = {"epoch": start, "diverged": None, "t0": None}

        def epoch_began():
            state["t0"] = time.perf_counter()

        def epoch_ended(logs):
            """History, divergence, progress and (every ``checkpoint_every`` epochs, and at a stop) the checkpoint."""
            seconds.append(time.perf_counter() - state["t0"])
            history.append(history_row(state["epoch"] + 1, logs))
            state["epoch"] += 1
            epoch = state["epoch"]
            if not math.isfinite(logs.get("loss", 0.0)):
                state["diverged"] = epoch
                model.stop_training = True
            if verbose == 1:
                shown = ", ".join(
                    f"{k} {v:.4f}" for k, v in history[-1].items() if k != "Epoch" and v is not None and "/" not in k
                )
                left = (epochs - epoch) * float(np.mean(seconds[-5:]))
                eta = f", ETA {fmt_seconds(left)}" if epoch < epochs else ""
                print(f"  epoch {epoch}/{epochs}: {shown} ({seconds[-1]:.1f} s{eta})", flush=True)
            if state["diverged"] is None and (epoch % every == 0 or epoch == epochs or model.stop_training):
                _save_checkpoint(
                    work_dir,
                    model,
                    epoch,
                    history,
                    callbacks.states(),
                    seconds,
                    fingerprint,
                    stopped=model.stop_training,
                )

        class EpochEnd(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                epoch_began()

            def on_epoch_end(self, epoch, logs=None):
                epoch_ended(logs or {})

        while not stopped and state["epoch"] < epochs and state["diverged"] is None:
            epoch = state["epoch"]
            span = range(epoch, min(epoch + per_call, epochs))
            orders = [(perm, e) for e in span for perm in _epoch_orders(recipe, seed, e, len(d["x_train"]))]
            keras.utils.set_random_seed(derive_seed(seed, epoch))  # any global-RNG op in these epochs
            if custom_step is not None:
                epoch_began()
                epoch_ended(_custom_epoch(model, custom_step, d, orders[0][0], recipe, epoch, callbacks.forward))
            else:
                model.fit(
                    train_data(orders),
                    epochs=span[-1] + 1,
                    initial_epoch=epoch,
                    shuffle=False,
                    steps_per_epoch=steps if len(span) > 1 else None,
                    validation_data=validation,
                    callbacks=[callbacks.forward, EpochEnd(), *_reseed_each_epoch(seed)],
                    verbose=1 if verbose > 1 else 0,
                )
            if model.stop_training or state["epoch"] < span[-1] + 1:
                break
        diverged = state["diverged"]
    callbacks.end()
    metrics = {} if diverged else (recipe.evaluate or _default_evaluate)(model, d)
    extras = recipe.inspect(model, d, context) if recipe.inspect and not diverged else {}
    metrics.update(extras.pop("metrics", {}))
    if recipe.history_metrics and history and not diverged:
        metrics.update(recipe.history_metrics(history))
    metrics["epochs_run"] = float(len(history) and history[-1]["Epoch"])
    metrics.update(callbacks.metrics())
    ran = {
        **recipe.describe(),
        "steps_per_execution": spe,
        "model": model.name,
        "parameters": int(model.count_params()),
        "train_size": len(d["x_train"]),
    }
    outcome = {
        "metrics": metrics,
        "history": history,
        "extras": extras,
        "diverged_epoch": diverged,
        "epoch_seconds": {model.name: seconds},
        "recipe": ran,
    }
    return outcome, model


def save_network(model, path):
    """Write ``model``'s weights to ``path`` (``.weights.h5``, atomically); returns its SHA-256 and size."""
    path = Path(path)
    with atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(tmp)
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _accuracy_kind(recipe):
    """How the custom distributed step counts 'accuracy': 'sparse' (integer labels), 'binary' or None."""
    if "accuracy" not in recipe.metrics:
        return None
    loss = recipe.loss if isinstance(recipe.loss, str) else type(recipe.loss).__name__
    return "binary" if "binary" in str(loss).lower() else "sparse"


def _custom_epoch(model, step, d, perm, recipe, epoch, forward):
    """One epoch of the multiworker step over the seeded permutation, with the callbacks' hooks and
    the logs ``fit`` would give (loss, accuracy, val_loss, val_accuracy)."""
    import tensorflow as tf

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


def epoch_steps(recipe, train_size):
    """Training steps in one of ``recipe``'s epochs: a partial batch closes each of its passes."""
    return recipe.passes * max(1, math.ceil(train_size / recipe.batch_size))


def _epoch_orders(recipe, seed, epoch, n):
    """The orders of an epoch's passes over ``n`` examples: ``default_rng([seed, epoch])`` for a one-pass
    epoch (as always), ``default_rng([seed, epoch, p])`` for pass p of a longer one; in index order without
    ``shuffle``."""
    if not recipe.shuffle:
        return [np.arange(n)] * recipe.passes
    if recipe.passes == 1:
        return [np.random.default_rng([seed, epoch]).permutation(n)]
    return [np.random.default_rng([seed, epoch, p]).permutation(n) for p in range(recipe.passes)]


def _epoch_table(perm, epoch, augment, seed, n):
    """One epoch's rows in visiting order: the image index, then (with ``augment``) its crop's row
    offset, column offset and whether it is mirrored (1) or not (0), int32."""
    if augment is None:
        return np.asarray(perm, dtype=np.int32)
    rows, cols, flips = augment.draws(seed, epoch, n)
    return np.stack([perm, rows[perm], cols[perm], flips[perm]], axis=1).astype(np.int32)


def crop_indices(table, h, w, arange=np.arange, where=np.where):
    """Row and column indices (batch, h) and (batch, w) into the padded images for a batch's table rows
    (image, row offset, column offset, flipped): a mirrored crop reads its columns right to left.
    ``arange``/``where``: NumPy's, or TensorFlow's inside the tf.data pipeline."""
    rows = table[:, 1:2] + arange(h)[None, :]
    j = arange(w)[None, :]
    cols = table[:, 2:3] + where(table[:, 3:4] == 1, w - 1 - j, j)
    return rows, cols


def _augmented_numpy(xp_images, table, h, w):
    """The augmented batch (NumPy): gather the padded images, then their rows, then their columns."""
    rows, cols = crop_indices(table, h, w)
    batch = xp_images[table[:, 0]]
    batch = np.take_along_axis(batch, rows[:, :, None, None], axis=1)
    return np.take_along_axis(batch, cols[:, None, :, None], axis=2)


def _pipelines(d, batch_size, augment=None, seed=0):
    """(epoch pipeline factory, validation pipeline): the arrays become tensors once; each epoch
    gathers its batches through a seeded permutation of indices, so no epoch copies the data.
    With ``augment``, each batch is cut from the zero-padded images by the epoch's crops and flips."""
    import tensorflow as tf

    n = len(d["x_train"])
    y = tf.constant(d["y_train"])
    if augment is None:
        x = tf.constant(d["x_train"])

        def gather(i):
            return tf.gather(x, i), tf.gather(y, i)
    else:
        h, w = d["x_train"].shape[1:3]
        xp = tf.constant(augment.padded(d["x_train"]))

        def gather(table):
            rows, cols = crop_indices(table, h, w, arange=lambda k: tf.range(k, dtype=tf.int32), where=tf.where)
            batch = tf.gather(xp, table[:, 0])
            batch = tf.gather(batch, rows, axis=1, batch_dims=1)
            return tf.gather(batch, cols, axis=2, batch_dims=1), tf.gather(y, table[:, 0])

    full = n // batch_size

    def pass_batches(table):
        """One pass's table as batches: its full batches cut by one reshape, then the partial last one (no
        per-row work in the pipeline; against batching row by row: benchmarks/pipeline_batching.py)."""
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(table[: full * batch_size], [full, batch_size, *table.shape[1:]])
        )
        if n % batch_size:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(table[full * batch_size :]))
        return batches

    def train_data(orders):
        """The batches of every pass in ``orders`` ((order, epoch) pairs) in turn, each pass's last one partial."""
        tables = np.stack([_epoch_table(perm, e, augment, seed, n) for perm, e in orders])
        return (
            tf.data.Dataset.from_tensor_slices(tables)
            .flat_map(pass_batches)
            # flat_map hides the length; Keras needs it to end each epoch without "ran out of data"
            .apply(tf.data.experimental.assert_cardinality(len(tables) * math.ceil(n / batch_size)))
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        validation = (
            tf.data.Dataset.from_tensor_slices((d["x_val"], d["y_val"]))
            .batch(batch_size)
            .cache()
            .prefetch(tf.data.AUTOTUNE)
        )
    return train_data, validation


def _batches(d, batch_size, augment=None, seed=0):
    """The same (epoch data factory, validation data) as :func:`_pipelines` without tf.data, for JAX and
    PyTorch: a ``keras.utils.PyDataset`` gathering each batch through the epochs' seeded permutations, so
    the batches (each epoch's last one partial, augmented the same way) are exactly the tf.data ones."""
    import keras

    x, y = d["x_train"], d["y_train"]
    n = len(x)
    xp = augment.padded(x) if augment is not None else None
    h, w = x.shape[1:3] if augment is not None else (None, None)

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self, orders):
            super().__init__()
            tables = [_epoch_table(perm, e, augment, seed, n) for perm, e in orders]
            self.index = [t[start : start + batch_size] for t in tables for start in range(0, n, batch_size)]

        def __len__(self):
            return len(self.index)

        def __getitem__(self, i):
            t = self.index[i]
            if augment is None:
                return x[t], y[t]
            return _augmented_numpy(xp, t, h, w), y[t[:, 0]]

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        val_x, val_y = d["x_val"], d["y_val"]

        class Validation(keras.utils.PyDataset):
            def __len__(self):
                return math.ceil(len(val_x) / batch_size)

            def __getitem__(self, i):
                return val_x[i * batch_size : (i + 1) * batch_size], val_y[i * batch_size : (i + 1) * batch_size]

        validation = Validation()
    return EpochBatches, validation


def _reseed_each_epoch(seed):
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

    from callbacks.autodiff import to_numpy

    x, y = d["x_train"], d["y_train"]
    if recipe.batch_size != len(x):
        raise ValueError(f"full_batch_steps needs batch_size == len(x_train) ({len(x)}), got {recipe.batch_size}.")
    loss_fn = keras.losses.get(recipe.loss)
    with_accuracy = "accuracy" in recipe.metrics
    history = []
    state = {"diverged": None}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = int(_numpy(self.model.optimizer.iterations))
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
