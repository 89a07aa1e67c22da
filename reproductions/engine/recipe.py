"""What a run trains: a :class:`Recipe` (builder, optimizer, loss, schedule) and its :class:`Augmentation`, as
data the run record describes; and the one rule that derives every random stream of a seed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

import numpy as np


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
