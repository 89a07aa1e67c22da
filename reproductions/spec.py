"""What a reproduction target declares: its references, its data and model, its training recipe."""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Callable

__all__ = ["Reference", "Profile", "Target", "REPRODUCED", "NOT_REPRODUCED", "DIVERGED", "NO_DATA"]

MAX_SEED = 2**32 - 1  # Keras and NumPy seeds are unsigned 32-bit
REPRODUCED, NOT_REPRODUCED, DIVERGED, NO_DATA = "reproduced", "not reproduced", "diverged", "no finite seeds"
KINDS = ("fit", "exact", "custom")
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}


@dataclasses.dataclass(frozen=True)
class Reference:
    """A published number (or claim) that one of our metrics is compared with.

    Either ``tolerance`` (reproduced when |mean over seeds − value| <= tolerance) or
    ``compare`` (reproduced when ``metric <compare> value`` holds in every seed).
    """

    metric: str
    value: float
    source: str
    tolerance: float | None = None
    compare: str | None = None
    label: str = ""

    def __post_init__(self):
        if (self.tolerance is None) == (self.compare is None):
            raise ValueError(f"Reference for {self.metric!r}: give exactly one of `tolerance` or `compare`.")
        if self.compare is not None and self.compare not in _COMPARE:
            raise ValueError(f"`compare` must be one of {sorted(_COMPARE)}, got {self.compare!r}.")

    def criterion(self) -> str:
        if self.compare is not None:
            return f"every seed {self.compare} {self.value:g}"
        return f"± {self.tolerance:g}"

    def verdict(self, values, diverged=0) -> str:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        if not finite:
            return DIVERGED if diverged else NO_DATA
        if self.compare is not None:
            ok = all(_COMPARE[self.compare](v, self.value) for v in finite)
        else:
            ok = abs(statistics.fmean(finite) - self.value) <= self.tolerance + 1e-12
        return REPRODUCED if ok else NOT_REPRODUCED


@dataclasses.dataclass(frozen=True)
class Profile:
    """Run settings of one profile (full or quick)."""

    seeds: int
    epochs: int | None = None
    train_size: int | None = None


@dataclasses.dataclass
class Target:
    """One experiment.

    ``kind="exact"`` (closed-form) and ``kind="custom"`` (the target runs its own training,
    e.g. scikit-learn or a GradientTape loop) compute metrics in ``compute(seed, ctx)``; they
    may put JSON-able per-seed details in ``ctx.extras`` and per-epoch rows in ``ctx.history``.
    ``kind="fit"`` targets declare a Keras recipe that the runner trains, checkpoints and
    evaluates; ``inspect(model, data, ctx)`` may return JSON-able details of the trained model
    (a ``"metrics"`` entry in them joins the seed's metrics).
    ``report(results, folder)`` draws the target's own figures into its results folder and
    returns Markdown for summary.md; ``causes`` maps a metric to the likely cause of a miss.
    """

    name: str
    title: str
    source: str
    references: tuple
    full: Profile
    quick: Profile
    kind: str = "fit"
    notes: str = ""
    causes: dict = dataclasses.field(default_factory=dict)  # metric -> likely cause when missed
    datasets: tuple = ()  # data sets the target can run on (the first is its default); () = only its own
    report: Callable[[dict, Any], str] | None = None   # (results by seed, results folder) -> Markdown
    # exact and custom targets
    compute: Callable[[int, Any], dict] | None = None
    # fit targets
    data: Callable[[Any], dict] | None = None          # ctx -> {"x_train", "y_train", "x_val", "y_val", "x_test", "y_test"}
    build: Callable[[int], Any] | None = None          # seed -> uncompiled keras.Model
    optimizer: Callable[[], Any] | None = None         # () -> keras optimizer
    loss: Any = None
    metrics: tuple = ("accuracy",)
    batch_size: int = 32
    callbacks: Callable[[Any], list] | None = None     # ctx -> callbacks (created per seed)
    evaluate: Callable[[Any, dict], dict] | None = None  # (model, data) -> metrics; default test loss/accuracy
    full_batch_steps: bool = False                     # fast path: each epoch is one full batch (see runner)
    steps_per_execution: int = 1
    inspect: Callable[[Any, dict, Any], dict] | None = None  # (trained model, data, ctx) -> JSON-able details
    history_metrics: Callable[[list], dict] | None = None  # per-epoch rows -> extra metrics (curve shape)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {list(KINDS)}, got {self.kind!r}.")
        needed = ("compute",) if self.kind != "fit" else ("data", "build", "optimizer", "loss")
        missing = [n for n in needed if getattr(self, n) is None]
        if missing:
            raise ValueError(f"target {self.name!r} ({self.kind}) is missing {missing}.")

    def profile(self, quick: bool) -> Profile:
        return self.quick if quick else self.full

    def config(self, quick: bool) -> dict:
        """A JSON-able description of the recipe, for the run record."""
        p = self.profile(quick)
        out = {"kind": self.kind, "profile": "quick" if quick else "full", "seeds": p.seeds}
        if self.kind == "fit":
            out.update(
                epochs=p.epochs,
                train_size=p.train_size,
                batch_size=self.batch_size,
                loss=self.loss if isinstance(self.loss, str) else type(self.loss).__name__,
                metrics=list(self.metrics),
                optimizer=_describe_optimizer(self.optimizer),
                full_batch_steps=self.full_batch_steps,
                steps_per_execution=self.steps_per_execution,
            )
        return out


def _describe_optimizer(factory):
    try:
        opt = factory()
        cfg = opt.get_config()
        # the name is Keras's per-session counter ("adam_3"), not part of the recipe
        return {"class": type(opt).__name__, **{k: v for k, v in cfg.items()
                                               if k != "name" and (isinstance(v, (int, float, str, bool)) or v is None)}}
    except Exception:
        return repr(factory)
