"""The one-file checkpoint: model and optimizer variables, Dropout seed generators, history, callback states, epoch
times and the run's fingerprint in ONE file replaced by one rename, so a killed run resumes at its last finished
epoch with the numbers an uninterrupted run gives."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from keras_lecture_zoo.reproductions.errors import CheckpointError
from keras_lecture_zoo.reproductions.fileio import _jsonable, atomic_path, fault_point
from keras_lecture_zoo.reproductions.fingerprint import check_fingerprint

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


def to_numpy_value(variable):
    """A Keras variable's value as NumPy on any backend (detached from PyTorch's autograd)."""
    from keras_lecture_zoo.callbacks.autodiff import to_numpy

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


@dataclasses.dataclass
class Progress:
    """How far a network's training got: what its checkpoint holds beside the variables."""

    epochs_done: int = 0
    history: list = dataclasses.field(default_factory=list)
    callback_states: list | None = None
    seconds: list = dataclasses.field(default_factory=list)  # wall time of each epoch
    stopped: bool = False  # a callback stopped the training (an early stop): a resumed run must not train on


def save_checkpoint(work_dir, model, progress, fingerprint):
    """Model and optimizer variables, Dropout seed generators and the ``progress`` (history, callback states,
    epoch times, an early stop) with the run's fingerprint as ONE file, replaced by one rename: a kill leaves
    the old checkpoint or the new one, never weights of one epoch with the progress of another."""
    arrays = {f"model_{i}": np.asarray(v) for i, v in enumerate(model.get_weights())}
    arrays.update({f"opt_{i}": to_numpy_value(v) for i, v in enumerate(model.optimizer.variables)})
    states = [_split_state(i, s, arrays) for i, s in enumerate(progress.callback_states or [])]
    state = {
        "format": _FORMAT,
        "epochs_done": progress.epochs_done,
        "history": progress.history,
        "seed_generators": [to_numpy_value(g.state).tolist() for g in _seed_generators(model)],
        "callback_states": states,
        "n_model": len(model.get_weights()),
        "n_optimizer": len(model.optimizer.variables),
        "epoch_seconds": list(progress.seconds),
        "fingerprint": fingerprint,
        "stopped": bool(progress.stopped),
    }
    arrays[_STATE_KEY] = np.frombuffer(json.dumps(state, default=_jsonable).encode(), dtype=np.uint8)
    with atomic_path(work_dir / CHECKPOINT, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)
        fault_point("checkpoint-written")  # the temp file is complete; the rename is next


def has_checkpoint(work_dir):
    """Whether ``work_dir`` holds a checkpoint (of this format or the old two-file one, which loading refuses)."""
    return (work_dir / CHECKPOINT).is_file() or (work_dir / "state.json").is_file()


def read_checkpoint(work_dir, fingerprint):
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


def load_checkpoint(work_dir, model, fingerprint=None):
    """Restore a checkpoint into a freshly built and compiled ``model``; returns its :class:`Progress`."""
    arrays, state = read_checkpoint(work_dir, fingerprint)
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
    return Progress(state["epochs_done"], state["history"], states, state["epoch_seconds"], bool(state.get("stopped")))
