"""The runner: trains a target over seeds, deterministically and resumably, and writes its results.

Per seed, a fit target trains one epoch per ``fit`` call on a permutation drawn from
(seed, epoch); after every epoch the model and optimizer variables, the Dropout seed
generators, the history and the callbacks' state are checkpointed as ONE file
(``<output>/.work/<target>/seed_<s>/checkpoint.npz``, replaced by one rename), so a killed run
resumes at the last finished epoch and ends with the numbers an uninterrupted run gives.
Every piece of work carries a fingerprint of what produced it (target, profile, config, data
set, strategy, code); ``--resume`` over work with another fingerprint is refused. Results are
staged in a temporary directory and swapped in whole, so a crash never leaves half a results set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np

from reproductions import distribute, report
from reproductions.errors import CheckpointError, ResumeMismatch, RunRefused
from reproductions.fileio import _jsonable, atomic_path, atomic_write_json, fault_point, target_lock
from reproductions.spec import MAX_SEED, Target

__all__ = ["Context", "run_targets", "run_target", "run_seed", "train_model", "fit_full_batch_steps", "LECTURE_COLUMNS"]

LECTURE_COLUMNS = report.LECTURE_COLUMNS
STRATEGIES = distribute.STRATEGIES
_ONE_DEVICE = distribute.Distribution("default", None, 1, ["default device"])


@dataclasses.dataclass
class Context:
    """What a target's data/callback factories may look at."""

    target: Target
    profile: object
    quick: bool
    data_dir: Path | None
    output_dir: Path
    seed: int = 0
    seed_dir: Path | None = None
    extras: dict = dataclasses.field(default_factory=dict)   # JSON-able per-seed details (exact/custom)
    history: list = dataclasses.field(default_factory=list)  # per-epoch rows (custom targets)
    epoch_seconds: dict = dataclasses.field(default_factory=dict)  # network -> wall time of each epoch
    verbose: int = 1
    dataset: str | None = None  # a target's alternative data set (``--dataset``); None: its default
    distribution: object = None  # a distribute.Distribution (``--strategy``); None: one device
    fingerprint: dict | None = None  # what produced this work (see :func:`fingerprint`); stored in checkpoints


def configure_determinism():
    """Op determinism for bitwise-repeatable CPU runs (once per process)."""
    import tensorflow as tf

    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    tf.config.experimental.enable_op_determinism()


# --------------------------------------------------------------------------- fingerprints


_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_SOURCE_PACKAGES = ("zoo", "callbacks", "reproductions")


def source_digest():
    """SHA-256 over the .py files of the installed zoo, callbacks and reproductions packages: the
    version of the code that runs, whatever the current directory or git state."""
    import hashlib

    if not hasattr(source_digest, "_value"):
        h = hashlib.sha256()
        for package in _SOURCE_PACKAGES:
            for path in sorted((_PACKAGE_ROOT / package).rglob("*.py")):
                h.update(str(path.relative_to(_PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
        source_digest._value = h.hexdigest()
    return source_digest._value


def fingerprint(target, quick, dataset=None, distribution=None):
    """What produced a target's work: resumed work must have been made by the same of each."""
    dist = distribution or _ONE_DEVICE
    return {
        "target": target.name,
        "profile": "quick" if quick else "full",
        "config": json.loads(json.dumps(target.config(quick), default=str)),
        "dataset": dataset or (target.datasets[0] if target.datasets else None),
        "strategy": {"name": dist.name, "replicas": dist.replicas},
        "code": source_digest(),
    }


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
                keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                parts.append("config: " + ", ".join(f"{k} {a.get(k)!r} there, {b.get(k)!r} now" for k in keys))
            else:
                parts.append(f"{key}: {a!r} there, {b!r} now")
    return "; ".join(parts)


def check_fingerprint(found, wanted, where):
    """Raise :class:`ResumeMismatch` unless the stored fingerprint ``found`` equals ``wanted``."""
    if found != wanted:
        raise ResumeMismatch(
            f"--resume refused: the unfinished work in {where} was made by a different run "
            f"({_fingerprint_difference(found, wanted)}); rerun without --resume to start over"
        )


# --------------------------------------------------------------------------- helpers


def _seed_generators(model):
    import keras

    gens = []
    for layer in model._flatten_layers(include_self=True):
        for value in vars(layer).values():
            if isinstance(value, keras.random.SeedGenerator):
                gens.append(value)
    return gens


def _history_row(epoch, logs):
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
    """Wraps a target's callbacks so they live across the runner's one-epoch ``fit`` calls:
    ``on_train_begin`` reaches them once per seed, ``on_train_end`` when the seed ends."""

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


CHECKPOINT = "checkpoint.npz"
_STATE_KEY = "__state__"


def _save_checkpoint(seed_dir, model, epochs_done, history, callback_states, seconds, fingerprint_):
    """Model and optimizer variables, Dropout seed generators, history, callback states, epoch times
    and the fingerprint as ONE file, replaced by one rename: a kill leaves the old checkpoint or the
    new one, never weights of one epoch with the progress of another."""
    arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(model.get_weights())}
    arrays.update({f"opt_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.optimizer.variables)})
    states = []
    for i, state in enumerate(callback_states):
        if isinstance(state, dict) and state.get("best_weights") is not None:
            for j, w in enumerate(state["best_weights"]):
                arrays[f"cb{i}_w{j}"] = w
            state = {**state, "best_weights": len(state["best_weights"])}
        states.append(state)
    state = {
        "format": 2,
        "epochs_done": epochs_done,
        "history": history,
        "seed_generators": [g.state.numpy().tolist() for g in _seed_generators(model)],
        "callback_states": states,
        "n_model": len(model.get_weights()),
        "n_optimizer": len(model.optimizer.variables),
        "epoch_seconds": list(seconds),
        "fingerprint": fingerprint_,
    }
    arrays[_STATE_KEY] = np.frombuffer(json.dumps(state, default=_jsonable).encode(), dtype=np.uint8)
    with atomic_path(seed_dir / CHECKPOINT, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
        fault_point("checkpoint-written")  # the temp file is complete; the rename is next


def has_checkpoint(seed_dir):
    return (seed_dir / CHECKPOINT).is_file() or (seed_dir / "state.json").is_file()


def _read_checkpoint(seed_dir, fingerprint_):
    """The checkpoint's arrays and state, verified: one readable file of this format whose history
    matches its epoch count and whose fingerprint matches this run; else :class:`CheckpointError`."""
    import zipfile

    path = seed_dir / CHECKPOINT
    again = "rerun without --resume to start that work over"
    if (seed_dir / "state.json").is_file():
        raise CheckpointError(f"checkpoint in {seed_dir} is in the old two-file format (state.json + checkpoint.npz), "
                              f"which a kill could leave inconsistent; {again}")
    try:
        with np.load(path) as npz:
            arrays = {k: npz[k] for k in npz.files}
        state = json.loads(arrays.pop(_STATE_KEY).tobytes())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"checkpoint {path} is damaged ({type(exc).__name__}: {exc}); {again}") from None
    history = state.get("history") or []
    if state.get("format") != 2 or len(history) != state.get("epochs_done") or (
            history and history[-1].get("Epoch") != state["epochs_done"]):
        raise CheckpointError(f"checkpoint {path} is inconsistent (epochs_done {state.get('epochs_done')!r} but "
                              f"{len(history)} history rows); {again}")
    if fingerprint_ is not None:
        check_fingerprint(state.get("fingerprint"), fingerprint_, path)
    return arrays, state


def _load_checkpoint(seed_dir, model, fingerprint_=None):
    """Restore a checkpoint into a freshly built and compiled ``model``; returns its progress."""
    arrays, state = _read_checkpoint(seed_dir, fingerprint_)
    model.optimizer.build(model.trainable_variables)
    if len(model.optimizer.variables) != state["n_optimizer"] or len(model.get_weights()) != state["n_model"]:
        raise CheckpointError(f"checkpoint in {seed_dir} does not match the target's model or optimizer; "
                              "rerun without --resume")
    model.set_weights([arrays[f"model_{i}"] for i in range(state["n_model"])])
    for i, v in enumerate(model.optimizer.variables):
        v.assign(arrays[f"opt_{i}"])
    states = []
    for i, s in enumerate(state["callback_states"]):
        if isinstance(s, dict) and isinstance(s.get("best_weights"), int):
            s = {**s, "best_weights": [arrays[f"cb{i}_w{j}"] for j in range(s["best_weights"])]}
        states.append(s)
    for gen, value in zip(_seed_generators(model), state["seed_generators"]):
        gen.state.assign(np.asarray(value, dtype=gen.state.dtype))
    return state["epochs_done"], state["history"], states, state["epoch_seconds"]


# --------------------------------------------------------------------------- one seed


def _run_compute(target, ctx):
    metrics = {k: float(v) for k, v in target.compute(ctx.seed, ctx).items()}
    diverged = None
    last = ctx.history[-1] if ctx.history else {}
    # several networks per seed (a "Network" column) record each one's divergence in their metrics
    if last and "Network" not in last and not math.isfinite(last.get("Train Loss") or 0.0):
        diverged = ctx.history[-1]["Epoch"]
    return {"metrics": metrics, "history": ctx.history, "extras": ctx.extras, "diverged_epoch": diverged,
            "epoch_seconds": ctx.epoch_seconds}


def _default_evaluate(model, d):
    values = model.evaluate(d["x_test"], d["y_test"], verbose=0, return_dict=True)
    return {f"test_{k}": float(v) for k, v in values.items()}


def _run_fit(target, ctx, d, verbose):
    """Train one seed of a fit target; returns metrics, per-epoch history and divergence."""
    outcome, _ = train_model(target, ctx, d, verbose)
    return outcome


def train_model(target, ctx, d, verbose=None):
    """Train one seed of a fit-style ``target`` (its build/optimizer/loss/callbacks) on ``d`` with
    per-epoch checkpoints in ``ctx.seed_dir``; returns (outcome, trained model).

    Custom targets that compare several networks call this once per network, each with its own
    ``seed_dir``, so a killed run resumes inside the network it was training.
    """
    import keras

    verbose = ctx.verbose if verbose is None else verbose

    epochs = ctx.profile.epochs
    seed_dir = ctx.seed_dir
    resumed = has_checkpoint(seed_dir)
    keras.utils.set_random_seed(ctx.seed)
    dist = ctx.distribution
    with (dist.strategy.scope() if dist is not None else contextlib.nullcontext()):
        # model, optimizer and metrics are created inside the strategy's scope (mirrored variables)
        model = target.build(ctx.seed)
        model.compile(
            optimizer=target.optimizer(),
            loss=target.loss,
            metrics=list(target.metrics),
            steps_per_execution=target.steps_per_execution,
        )
    custom_step = None
    if dist is not None and dist.custom_loop:
        custom_step = distribute.train_step(model, target.loss, dist.strategy, _accuracy_kind(target))
        model._distribute_strategy = None  # evaluate/predict on each worker alone (keras-team/keras#20585)
    start, history, cb_states, seconds = 0, [], None, []
    if resumed:
        start, history, cb_states, seconds = _load_checkpoint(seed_dir, model, ctx.fingerprint)
        print(f"  resuming seed {ctx.seed} after epoch {start}", flush=True)
    callbacks = _Persistent(target.callbacks(ctx) if target.callbacks else [], model)
    callbacks.begin(cb_states)
    diverged = None
    if target.full_batch_steps and custom_step is None:
        t0 = time.perf_counter()
        history, diverged = _fit_full_batch(model, d, epochs, target)
        seconds = [(time.perf_counter() - t0) / max(1, len(history))] * len(history)
    else:
        train, validation = _pipelines(d, target.batch_size)
        for epoch in range(start, epochs):
            perm = np.random.default_rng([ctx.seed, epoch]).permutation(len(d["x_train"]))
            keras.utils.set_random_seed(ctx.seed * 100_003 + epoch)  # any global-RNG op in this epoch
            t0 = time.perf_counter()
            if custom_step is not None:
                logs = _custom_epoch(model, custom_step, d, perm, target, epoch, callbacks.forward)
            else:
                h = model.fit(
                    train(perm), epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                    validation_data=validation, callbacks=[callbacks.forward], verbose=1 if verbose > 1 else 0,
                )
                logs = {k: v[-1] for k, v in h.history.items()}
            seconds.append(time.perf_counter() - t0)
            history.append(_history_row(epoch + 1, logs))
            if verbose == 1:
                shown = ", ".join(f"{k} {v:.4f}" for k, v in history[-1].items() if k != "Epoch" and v is not None and "/" not in k)
                left = (epochs - epoch - 1) * float(np.mean(seconds[-5:]))
                eta = f", ETA {_fmt_seconds(left)}" if epoch + 1 < epochs else ""
                print(f"  epoch {epoch + 1}/{epochs}: {shown} ({seconds[-1]:.1f} s{eta})", flush=True)
            if not math.isfinite(logs.get("loss", 0.0)):
                diverged = epoch + 1
                break
            stop = model.stop_training
            _save_checkpoint(seed_dir, model, epoch + 1, history, callbacks.states(), seconds, ctx.fingerprint)
            if stop:
                break
    callbacks.end()
    metrics = {} if diverged else (target.evaluate or _default_evaluate)(model, d)
    extras = target.inspect(model, d, ctx) if target.inspect and not diverged else {}
    metrics.update(extras.pop("metrics", {}))
    if target.history_metrics and history and not diverged:
        metrics.update(target.history_metrics(history))
    metrics["epochs_run"] = float(len(history) and history[-1]["Epoch"])
    for cb in callbacks.callbacks:
        if getattr(cb, "best_epoch", None) is not None and hasattr(cb, "stop_reason"):
            metrics["best_epoch"] = float(cb.best_epoch + 1)
    outcome = {"metrics": metrics, "history": history, "extras": extras, "diverged_epoch": diverged,
               "epoch_seconds": {model.name: seconds}}
    return outcome, model


def _accuracy_kind(target):
    """How the custom distributed step counts 'accuracy': 'sparse' (integer labels), 'binary' or None."""
    if "accuracy" not in target.metrics:
        return None
    loss = target.loss if isinstance(target.loss, str) else type(target.loss).__name__
    return "binary" if "binary" in str(loss).lower() else "sparse"


def _custom_epoch(model, step, d, perm, target, epoch, forward):
    """One epoch of the multiworker step over the seeded permutation, with the callbacks' hooks and
    the logs ``fit`` would give (loss, accuracy, val_loss, val_accuracy)."""
    import tensorflow as tf

    forward.on_epoch_begin(epoch)
    total = hits = 0.0
    b = target.batch_size
    for i, start in enumerate(range(0, len(perm), b)):
        idx = perm[start:start + b]
        forward.on_train_batch_begin(i)
        value, correct = step(tf.constant(d["x_train"][idx]), tf.constant(d["y_train"][idx]))
        total += float(value) * len(idx)
        hits += float(correct)
        forward.on_train_batch_end(i)
    logs = {"loss": total / len(perm)}
    if "accuracy" in target.metrics:
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

    def train(perm):
        return (
            tf.data.Dataset.from_tensor_slices(perm)
            .batch(batch_size)
            .map(lambda i: (tf.gather(x, i), tf.gather(y, i)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        validation = tf.data.Dataset.from_tensor_slices((d["x_val"], d["y_val"])).batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)
    return train, validation


def fit_full_batch_steps(model, x, y, steps, callbacks=()):
    """``steps`` full-batch updates of a compiled ``model`` on (x, y), as one ``fit`` of ``steps``
    batches: the same updates as ``fit(x, y, batch_size=len(x), epochs=steps)`` without the per-epoch
    overhead (26× faster on XOR; benchmarks/xor_fast_path.py)."""
    reps = np.tile(np.arange(len(x)), steps)
    return model.fit(x[reps], y[reps], batch_size=len(x), epochs=1, shuffle=False, verbose=0, callbacks=list(callbacks))


def _fit_full_batch(model, d, epochs, target):
    """Fast path for full-batch targets: ``epochs`` updates as one fit of ``epochs`` steps.

    With the whole training set in every batch, epoch e of the plain recipe is step e
    here (the same batch, the same update); running them in one fit with
    ``steps_per_execution`` removes the per-epoch overhead of ``fit``.
    """
    import keras

    x, y = d["x_train"], d["y_train"]
    if target.batch_size != len(x):
        raise ValueError(f"full_batch_steps needs batch_size == len(x_train) ({len(x)}), got {target.batch_size}.")
    loss_fn = keras.losses.get(target.loss)
    history = []
    state = {"diverged": None}

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = int(self.model.optimizer.iterations.numpy())
            pred = self.model(x, training=False)
            loss = float(np.mean(keras.ops.convert_to_numpy(loss_fn(y, pred))))
            acc = float(np.mean((keras.ops.convert_to_numpy(pred) > 0.5) == (y > 0.5)))
            history.append(_history_row(step, {"loss": loss, "accuracy": acc}))
            if not math.isfinite(loss):
                state["diverged"] = step
                self.model.stop_training = True

    fit_full_batch_steps(model, x, y, epochs, callbacks=[Record()])
    return history, state["diverged"]


# --------------------------------------------------------------------------- one target


def check_seeds(seeds):
    """``seeds`` as a list of distinct ints in [0, 2**32 - 1], at least one; else ValueError."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("`seeds` must name at least one seed, got none.")
    bad = [s for s in seeds if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or not 0 <= s <= MAX_SEED]
    if bad:
        raise ValueError(f"`seeds` must be integers in [0, {MAX_SEED}], got {bad[0]!r}.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"`seeds` must be distinct, got {seeds!r}.")
    return [int(s) for s in seeds]


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _custom_gradient_registry():
    """TensorFlow's global registry of gradient functions, or None. Every graph-mode trace of a
    ``tf.custom_gradient`` function adds a 'CustomGradient-<n>' entry that is never removed, and it
    keeps that trace's whole graph alive: a run of many seeds grows ~6 MB per seed through it."""
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
        return registry if isinstance(registry, dict) else None
    except (ImportError, AttributeError):
        return None


@contextlib.contextmanager
def _forget_traced_gradients():
    """Drop the custom-gradient entries that the traces made within the block registered (their
    lookups happened while tracing, so finished traces no longer need them)."""
    registry = _custom_gradient_registry()
    before = set(registry) if registry is not None else set()
    try:
        yield
    finally:
        if registry is not None:
            for key in [k for k in registry if k not in before and str(k).startswith("CustomGradient-")]:
                registry.pop(key, None)


def run_seed(target, seed, *, quick, data_dir, output_dir, verbose=1, dataset=None, data=None, distribution=None,
             fingerprint_=None):
    """Run one seed of ``target`` into ``output_dir/.work/<target>/seed_<seed>/done.json`` and return
    its outcome. No lock and no results folder: :func:`run_target` (and its ``--jobs`` workers,
    one process per seed) call this and assemble the results. The Keras session is cleared first,
    so a long run of many seeds stays flat in memory. ``fingerprint_``: the run's fingerprint, already
    checked against the work folder by :func:`run_target`; a ``--jobs`` worker passes None and checks here."""
    import keras

    keras.backend.clear_session()
    work = Path(output_dir) / ".work" / target.name
    seed_dir = work / f"seed_{seed}"
    fp = fingerprint_
    if fp is None:
        fp = fingerprint(target, quick, dataset, distribution)
        stored = _read_json(work / "fingerprint.json")
        if stored is not None:
            check_fingerprint(stored, fp, work)
    seed_dir.mkdir(parents=True, exist_ok=True)
    base = Context(target, target.profile(quick), quick, data_dir, Path(output_dir), verbose=verbose, dataset=dataset,
                   distribution=distribution, fingerprint=fp)
    if target.kind == "fit" and data is None:
        data = target.data(base)
    t0 = time.time()
    ctx = dataclasses.replace(base, seed=seed, seed_dir=seed_dir, extras={}, history=[], epoch_seconds={})
    keras.utils.set_random_seed(seed)
    with _forget_traced_gradients():
        outcome = _run_fit(target, ctx, data, verbose) if target.kind == "fit" else _run_compute(target, ctx)
    outcome["wall_time"] = time.time() - t0
    outcome["fingerprint"] = fp
    atomic_write_json(seed_dir / "done.json", outcome)
    fault_point("seed-done")
    return outcome


class SeedProcessError(RuntimeError):
    """A ``--jobs`` worker process exited with an error (its log says why)."""


def _die_with_parent(parent):
    """preexec_fn of a ``--jobs`` worker: the kernel SIGKILLs it when its parent dies, however."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's finally still ends its workers on a catchable signal
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _run_seed_processes(target, seeds, jobs, *, quick, data_dir, output_dir, verbose, dataset, lock=None):
    """``--jobs``: each seed in its own ``python -m reproductions _seed`` process, ``jobs`` at a time,
    each with ``cores // jobs`` intra-op threads; its output goes to ``seed_<s>/log.txt``. Workers
    inherit the target's lock (it stays held while any lives) and die with this process."""
    import functools
    import subprocess
    import sys

    threads = max(1, (os.cpu_count() or 1) // jobs)
    work = Path(output_dir) / ".work" / target.name
    queue, running, failed = list(seeds), {}, []
    started = time.time()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                seed = queue.pop(0)
                seed_dir = work / f"seed_{seed}"
                seed_dir.mkdir(parents=True, exist_ok=True)
                argv = [sys.executable, "-m", "reproductions", "_seed", target.name, str(seed), "--output-dir",
                        str(output_dir), "--threads", str(threads), "--verbose", str(min(verbose, 1))]
                argv += ["--quick"] if quick else []
                argv += ["--data-dir", str(data_dir)] if data_dir is not None else []
                argv += ["--dataset", dataset] if dataset else []
                log = open(seed_dir / "log.txt", "w")
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
                                        pass_fds=(lock.fileno(),) if lock is not None else ())
                running[seed] = (proc, log, time.time())
                print(f"  seed {seed}: started in process {proc.pid} ({threads} threads; log {seed_dir / 'log.txt'})",
                      flush=True)
            time.sleep(0.5)
            for seed, (proc, log, t0) in list(running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del running[seed]
                status = "finished" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
                print(f"  seed {seed}: {status} after {_fmt_seconds(time.time() - t0)}; "
                      f"{len(queue) + len(running)} to go, {_fmt_seconds(time.time() - started)} so far", flush=True)
                if proc.returncode != 0:
                    failed.append((seed, proc.returncode))
    finally:
        for proc, log, _ in running.values():  # interrupted: no worker outlives this process
            proc.kill()
            proc.wait()
            log.close()
    if failed:
        tails = {}
        for seed, _ in failed:
            lines = (work / f"seed_{seed}" / "log.txt").read_text(errors="replace").strip().splitlines()
            tails[seed] = lines[-1] if lines else "no output"
        if all(code == 2 for _, code in failed):  # every worker refused (bad data, a fingerprint): one line
            raise RunRefused(tails[failed[0][0]].removeprefix("error: "))
        shown = "; ".join(f"seed {seed}: {tails[seed]}" for seed, _ in failed)
        raise SeedProcessError(f"{len(failed)} seed process(es) of {target.name} failed ({shown}); the finished "
                               "seeds are kept, rerun with --resume to continue")


def run_target(target, seeds, *, quick, data_dir, output_dir, resume, verbose=1, position=(1, 1), record=None,
               dataset=None, jobs=1, distribution=None):
    """Run ``target`` for ``seeds`` and write ``output_dir/<target>/``; returns the summary rows.
    ``jobs`` > 1 runs the seeds as that many parallel processes (the same numbers as a serial run);
    ``distribution`` (:func:`distribute.setup`) trains the runner's networks under a tf.distribute strategy.

    A refusal (bad data, a damaged checkpoint, ``resume`` over another run's work) leaves nothing
    this call created: no seed folders, no lock, no output folder."""
    from zoo.data import ChecksumError

    output_dir = Path(output_dir)
    work = output_dir / ".work" / target.name
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"`jobs` must be a positive integer, got {jobs!r}.")
    if jobs > 1 and distribution is not None and distribution.name != "default":
        raise ValueError(f"--jobs {jobs} runs seeds as separate single-device processes; it cannot be combined with "
                         f"--strategy {distribution.name} (which gives one seed all devices). Use one or the other.")
    if dataset is not None and dataset not in target.datasets:
        raise ValueError(f"`dataset` must be one of {list(target.datasets)} for {target.name}, got {dataset!r}.")
    seeds = check_seeds(seeds)
    fp = fingerprint(target, quick, dataset, distribution)
    output_existed = output_dir.exists()
    try:
        with target_lock(output_dir / ".work", target.name) as lock:
            fresh = not (resume and work.exists())
            before = set(work.iterdir()) if work.exists() else set()
            try:
                return _run_target_locked(target, seeds, fp, work, lock, quick=quick, data_dir=data_dir,
                                          output_dir=output_dir, resume=resume, verbose=verbose, position=position,
                                          record=record, dataset=dataset, jobs=jobs, distribution=distribution)
            except (RunRefused, ChecksumError):
                if fresh:
                    shutil.rmtree(work, ignore_errors=True)
                elif work.exists():
                    for path in set(work.iterdir()) - before:
                        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                raise
    except (RunRefused, ChecksumError):
        if not output_existed:
            with contextlib.suppress(OSError):
                output_dir.rmdir()  # only if this call made it and left it empty
        raise


def _run_target_locked(target, seeds, fp, work, lock, *, quick, data_dir, output_dir, resume, verbose, position,
                       record, dataset, jobs, distribution):
    if resume and work.exists():
        check_fingerprint(_read_json(work / "fingerprint.json"), fp, work)
    elif work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_json(work / "fingerprint.json", fp)
    started = time.time()
    pending = [s for s in seeds if not (work / f"seed_{s}" / "done.json").is_file()]
    if jobs > 1 and len(pending) > 1:
        print(f"[target {position[0]}/{position[1]} {target.name}] {len(pending)} seeds in {min(jobs, len(pending))} "
              "parallel processes", flush=True)
        _run_seed_processes(target, pending, min(jobs, len(pending)), quick=quick, data_dir=data_dir,
                            output_dir=output_dir, verbose=verbose, dataset=dataset, lock=lock)
        resume = True
    base = Context(target, target.profile(quick), quick, data_dir, output_dir, verbose=verbose, dataset=dataset)
    d = None  # a fit target's data, loaded once when the first seed runs in this process
    results, seed_times = {}, []
    for i, seed in enumerate(seeds):
        done = work / f"seed_{seed}" / "done.json"
        eta = ""
        if seed_times:
            remaining = (len(seeds) - i) * float(np.mean(seed_times))
            eta = f", ETA {_fmt_seconds(remaining)} for this target"
        print(f"[target {position[0]}/{position[1]} {target.name}] seed {i + 1}/{len(seeds)} (seed={seed}{eta})", flush=True)
        if resume and done.is_file():
            results[seed] = _read_json(done)
            if results[seed] is None:
                raise CheckpointError(f"{done} is damaged; rerun without --resume to start over")
            check_fingerprint(results[seed].get("fingerprint"), fp, done)
            print("  already finished" + (" (resumed)" if jobs == 1 else ""), flush=True)
            continue
        if d is None and target.kind == "fit":
            d = target.data(base)
        outcome = run_seed(target, seed, quick=quick, data_dir=data_dir, output_dir=output_dir, verbose=verbose,
                           dataset=dataset, data=d, distribution=distribution, fingerprint_=fp)
        seed_times.append(outcome["wall_time"])
        results[seed] = outcome
        if outcome["diverged_epoch"]:
            print(f"  seed {seed} diverged at epoch {outcome['diverged_epoch']} (non-finite loss); continuing", flush=True)
    wall = time.time() - started
    run_record = dict(record or {}, target=target.name, seeds=list(seeds), wall_time_seconds=wall, jobs=jobs,
                      dataset=fp["dataset"], config=target.config(quick), fingerprint=fp,
                      seconds_per_epoch=_seconds_per_epoch(results),
                      distribution=(distribution or _ONE_DEVICE).record(target.batch_size if target.kind == "fit" else None),
                      finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    rows = report.write_target(output_dir, target, results, run_record)
    shutil.rmtree(work, ignore_errors=True)
    return rows


def _seconds_per_epoch(results):
    """Wall time per training epoch of each network, over all seeds (mean, min, max, epochs timed)."""
    pooled = {}
    for r in results.values():
        for network, values in (r.get("epoch_seconds") or {}).items():
            pooled.setdefault(network, []).extend(values)
    return {
        network: {"mean": round(float(np.mean(v)), 3), "min": round(float(np.min(v)), 3),
                  "max": round(float(np.max(v)), 3), "epochs": len(v)}
        for network, v in pooled.items() if v
    }


def _fmt_seconds(s):
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def run_targets(names, *, seeds, quick, data_dir, output_dir, resume, strategy="default", verbose=1, record=None,
                dataset=None, jobs=1, cpu_devices=2):
    """Run several targets in order; returns 0 if all ran (verdicts do not change the exit code).

    Under ``strategy="multiworker"`` every worker trains; only the chief writes ``output_dir``
    (the others work in ``output_dir/.worker-<i>/``, removed at the end)."""
    from reproductions import targets

    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {list(STRATEGIES)}, got {strategy!r}.")
    if jobs > 1 and strategy != "default":
        raise ValueError(f"--jobs {jobs} runs seeds as separate single-device processes; it cannot be combined with "
                         f"--strategy {strategy} (which gives one seed all devices). Use one or the other.")
    final_dir = Path(output_dir)
    report.check_index(final_dir)  # refuse before training, not after, if README.md there is not ours
    distribution = distribute.setup(strategy, cpu_devices)  # before TensorFlow starts (logical CPU devices)
    configure_determinism()
    if not distribution.chief:
        output_dir = final_dir / f".worker-{distribution.worker_index}"
    if distribution.name != "default":
        print(f"strategy {distribution.name}: {distribution.replicas} replicas on {distribution.devices}"
              + ("" if distribution.chief else f" (worker {distribution.worker_index}, not the chief: results are the chief's)"),
              flush=True)
    try:
        for k, name in enumerate(names, start=1):
            target = targets.get(name)
            chosen = target.run_seeds(quick, seeds)
            run_target(target, chosen, quick=quick, data_dir=data_dir, output_dir=output_dir, resume=resume,
                       verbose=verbose, position=(k, len(names)), record=record, dataset=dataset, jobs=jobs,
                       distribution=distribution if distribution.name != "default" else None)
        if distribution.chief:
            report.write_index(output_dir)
    finally:
        if not distribution.chief:
            shutil.rmtree(output_dir, ignore_errors=True)
    return 0

