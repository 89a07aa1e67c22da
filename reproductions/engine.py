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

__all__ = ["Recipe", "train", "derive_seed", "configure_determinism", "fit_full_batch_steps", "check_fingerprint", "has_checkpoint",
           "save_network", "fmt_seconds", "history_row", "CHECKPOINT"]


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
    ``epochs_per_call`` trains that many epochs (each in its own seeded order) per ``fit`` call and
    checkpoints after each call, for small networks whose epochs take less time than a ``fit`` call's set-up;
    ``shuffle=False`` visits the training set in its own order every epoch (``fit(shuffle=False)``).
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
    steps_per_execution: int = 1
    epochs_per_call: int = 1
    shuffle: bool = True

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
            "epochs_per_call": self.epochs_per_call,
            "shuffle": self.shuffle,
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
                parts.append("config: " + ", ".join(f"{k} {x!r} there, {y!r} now" for k, x, y in _dict_difference(a, b)))
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

            def on_train_batch_begin(self, batch, logs=None):
                outer.inner.on_train_batch_begin(batch, logs)

            def on_train_batch_end(self, batch, logs=None):
                outer.inner.on_train_batch_end(batch, logs)

        self.forward = Forward()

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
    from callbacks._autodiff import to_numpy

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


def _save_checkpoint(work_dir, model, epochs_done, history, callback_states, seconds, fingerprint):
    """Model and optimizer variables, Dropout seed generators, history, callback states, epoch times
    and the fingerprint as ONE file, replaced by one rename: a kill leaves the old checkpoint or the
    new one, never weights of one epoch with the progress of another."""
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
        raise CheckpointError(f"checkpoint in {work_dir} is in the old two-file format (state.json + checkpoint.npz), "
                              f"which a kill could leave inconsistent; {again}")
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        state = json.loads(arrays.pop(_STATE_KEY).tobytes())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"checkpoint {path} is damaged ({type(exc).__name__}: {exc}); {again}") from None
    history = state.get("history") or []
    if state.get("format") != _FORMAT:
        raise CheckpointError(f"checkpoint {path} is in format {state.get('format')!r}, not {_FORMAT} (written by "
                              f"another version); {again}")
    if len(history) != state.get("epochs_done") or (history and history[-1].get("Epoch") != state["epochs_done"]):
        raise CheckpointError(f"checkpoint {path} is inconsistent (epochs_done {state.get('epochs_done')!r} but "
                              f"{len(history)} history rows); {again}")
    if fingerprint is not None:
        check_fingerprint(state.get("fingerprint"), fingerprint, path)
    return arrays, state


def _load_checkpoint(work_dir, model, fingerprint=None):
    """Restore a checkpoint into a freshly built and compiled ``model``; returns its progress."""
    arrays, state = _read_checkpoint(work_dir, fingerprint)
    model.optimizer.build(model.trainable_variables)
    if len(model.optimizer.variables) != state["n_optimizer"] or len(model.get_weights()) != state["n_model"]:
        raise CheckpointError(f"checkpoint in {work_dir} does not match the recipe's model or optimizer; "
                              "rerun without --resume")
    model.set_weights([arrays[f"model_{i}"] for i in range(state["n_model"])])
    for i, v in enumerate(model.optimizer.variables):
        v.assign(arrays[f"opt_{i}"])
    states = [_join_state(i, s, arrays) for i, s in enumerate(state["callback_states"])]
    for gen, value in zip(_seed_generators(model), state["seed_generators"]):
        gen.state.assign(np.asarray(value, dtype=gen.state.dtype))
    return state["epochs_done"], state["history"], states, state["epoch_seconds"]


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
    with (distribution.strategy.scope() if distribution is not None else contextlib.nullcontext()):
        # model, optimizer and metrics are created inside the strategy's scope (mirrored variables)
        model = recipe.build(seed)
        model.compile(optimizer=recipe.optimizer(), loss=recipe.loss, metrics=list(recipe.metrics),
                      steps_per_execution=_steps_per_execution(recipe))
    custom_step = None
    if distribution is not None and distribution.custom_loop:
        from reproductions import distribute

        custom_step = distribute.train_step(model, recipe.loss, distribution.strategy, _accuracy_kind(recipe))
        model._distribute_strategy = None  # evaluate/predict on each worker alone (keras-team/keras#20585)
    start, history, cb_states, seconds = 0, [], None, []
    if resumed:
        start, history, cb_states, seconds = _load_checkpoint(work_dir, model, fingerprint)
        print(f"  resuming seed {seed} after epoch {start}", flush=True)
    callbacks = _Persistent(recipe.callbacks(work_dir) if recipe.callbacks else [], model)
    callbacks.begin(cb_states)
    diverged = None
    if recipe.full_batch_steps and custom_step is None:
        t0 = time.perf_counter()
        history, diverged = _fit_full_batch(model, d, epochs, recipe)
        seconds = [(time.perf_counter() - t0) / max(1, len(history))] * len(history)
    else:
        train_data, validation = (_pipelines if backend_name() == "tensorflow" else _batches)(d, recipe.batch_size)
        # PyTorch: one epoch per call, so every epoch starts its data iterator and its dropout draws afresh
        # (several per call repeat bitwise on TensorFlow and JAX, not on PyTorch: measured, tests/test_engine.py)
        per_call = 1 if custom_step is not None or backend_name() == "torch" else max(1, recipe.epochs_per_call)
        steps = math.ceil(len(d["x_train"]) / recipe.batch_size)
        epoch = start
        while epoch < epochs:
            span = range(epoch, min(epoch + per_call, epochs))
            perms = [np.random.default_rng([seed, e]).permutation(len(d["x_train"])) if recipe.shuffle
                     else np.arange(len(d["x_train"])) for e in span]
            keras.utils.set_random_seed(derive_seed(seed, epoch))  # any global-RNG op in these epochs
            t0 = time.perf_counter()
            if custom_step is not None:
                epoch_logs = [_custom_epoch(model, custom_step, d, perms[0], recipe, epoch, callbacks.forward)]
            else:
                data = train_data(perms)
                h = model.fit(
                    data, epochs=span[-1] + 1, initial_epoch=epoch, shuffle=False,
                    steps_per_epoch=steps if len(span) > 1 else None,
                    validation_data=validation, callbacks=[callbacks.forward, *_reseed_each_epoch(seed)],
                    verbose=1 if verbose > 1 else 0,
                )
                ran = max((len(v) for v in h.history.values()), default=0)
                epoch_logs = [{k: v[i] for k, v in h.history.items()} for i in range(ran)]
            took = (time.perf_counter() - t0) / max(1, len(epoch_logs))
            for logs in epoch_logs:
                seconds.append(took)
                history.append(history_row(epoch + 1, logs))
                epoch += 1
                if not math.isfinite(logs.get("loss", 0.0)):
                    diverged = epoch
                    break
            if verbose == 1 and history:
                shown = ", ".join(f"{k} {v:.4f}" for k, v in history[-1].items() if k != "Epoch" and v is not None and "/" not in k)
                left = (epochs - epoch) * float(np.mean(seconds[-5:]))
                eta = f", ETA {fmt_seconds(left)}" if epoch < epochs else ""
                print(f"  epoch {epoch}/{epochs}: {shown} ({seconds[-1]:.1f} s{eta})", flush=True)
            if diverged:
                break
            stop = model.stop_training or len(epoch_logs) < len(span)
            _save_checkpoint(work_dir, model, epoch, history, callbacks.states(), seconds, fingerprint)
            if stop:
                break
    callbacks.end()
    metrics = {} if diverged else (recipe.evaluate or _default_evaluate)(model, d)
    extras = recipe.inspect(model, d, context) if recipe.inspect and not diverged else {}
    metrics.update(extras.pop("metrics", {}))
    if recipe.history_metrics and history and not diverged:
        metrics.update(recipe.history_metrics(history))
    metrics["epochs_run"] = float(len(history) and history[-1]["Epoch"])
    metrics.update(callbacks.metrics())
    ran = {**recipe.describe(), "model": model.name, "parameters": int(model.count_params()),
           "train_size": len(d["x_train"])}
    outcome = {"metrics": metrics, "history": history, "extras": extras, "diverged_epoch": diverged,
               "epoch_seconds": {model.name: seconds}, "recipe": ran}
    return outcome, model


def sha256_of(path):
    """The SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        idx = perm[start:start + b]
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


def _pipelines(d, batch_size):
    """(epoch pipeline factory, validation pipeline): the arrays become tensors once; each epoch
    gathers its batches through a seeded permutation of indices, so no epoch copies the data."""
    import tensorflow as tf

    x, y = tf.constant(d["x_train"]), tf.constant(d["y_train"])

    def one_epoch(perm):
        return (
            tf.data.Dataset.from_tensor_slices(perm)
            .batch(batch_size)
            .map(lambda i: (tf.gather(x, i), tf.gather(y, i)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    def train_data(perms):
        data = one_epoch(perms[0])
        for perm in perms[1:]:
            data = data.concatenate(one_epoch(perm))
        return data

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        validation = tf.data.Dataset.from_tensor_slices((d["x_val"], d["y_val"])).batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)
    return train_data, validation


def _batches(d, batch_size):
    """The same (epoch data factory, validation data) as :func:`_pipelines` without tf.data, for JAX and
    PyTorch: a ``keras.utils.PyDataset`` gathering each batch through the epochs' seeded permutations, so
    the batches (each epoch's last one partial) are exactly the tf.data ones."""
    import keras

    x, y = d["x_train"], d["y_train"]

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self, perms):
            super().__init__()
            self.index = [perm[start:start + batch_size] for perm in perms for start in range(0, len(perm), batch_size)]

        def __len__(self):
            return len(self.index)

        def __getitem__(self, i):
            return x[self.index[i]], y[self.index[i]]

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        val_x, val_y = d["x_val"], d["y_val"]

        class Validation(keras.utils.PyDataset):
            def __len__(self):
                return math.ceil(len(val_x) / batch_size)

            def __getitem__(self, i):
                return val_x[i * batch_size:(i + 1) * batch_size], val_y[i * batch_size:(i + 1) * batch_size]

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


def _steps_per_execution(recipe):
    """The recipe's steps per compiled call; 1 on PyTorch, whose trainer takes one step at a time."""
    return 1 if backend_name() == "torch" else recipe.steps_per_execution


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
    from callbacks._autodiff import to_numpy

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
