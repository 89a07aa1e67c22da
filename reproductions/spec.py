"""What a reproduction target declares: its references, its data and model, its training recipe."""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any, Callable

__all__ = [
    "Reference",
    "Trained",
    "learned",
    "Prediction",
    "Progress",
    "Change",
    "Retired",
    "Profile",
    "Export",
    "Target",
    "CLASSES",
    "VERDICTS",
    "REPRODUCED",
    "FAILS_AS_PREDICTED",
    "NOT_REPRODUCED",
    "NOT_TRAINED",
    "SCHEDULE_SHORT",
    "DIVERGED",
    "NO_DATA",
    "MISSED",
]

MAX_SEED = 2**32 - 1  # Keras and NumPy seeds are unsigned 32-bit
REPRODUCED, NOT_REPRODUCED, DIVERGED, NO_DATA = "reproduced", "not reproduced", "diverged", "no finite seeds"
FAILS_AS_PREDICTED = "reproduced: fails as predicted"
NOT_TRAINED = "not trained"
# The closed vocabulary, by precedence: a row whose trained conditions fail is "not trained", whatever else it
# declares; then reproduced (or fails as predicted, for a cited prediction with a passing control) or not.
VERDICTS = (NOT_TRAINED, REPRODUCED, FAILS_AS_PREDICTED, NOT_REPRODUCED, DIVERGED, NO_DATA)
MISSED = (NOT_REPRODUCED, NOT_TRAINED, DIVERGED, NO_DATA)  # verdicts that need a cause line
# Never a verdict: a qualifier of a "not reproduced" row, granted only on measured evidence (report.qualifier)
SCHEDULE_SHORT = "schedule short"
KINDS = ("fit", "exact", "custom")
PROFILES = ("full", "quick")  # a target's two profiles: the published run and a fast check of the same code
# Row classes, in the order the results index lists them:
#   published: a number from a paper, a lecture or an official example, with a tolerance from the source's
#              own spread or a stated rule;  claim: a qualitative statement from the lectures or papers,
#              judged as an effect that must stand out of the seed-to-seed noise;  exact: a closed-form value;
#   sanity: a check of our own code (a builder can overfit, a gradient is right).
CLASSES = ("published", "claim", "exact", "sanity")
CLAIM_MIN_SEEDS = 2  # one seed cannot show an effect beyond the seed-to-seed noise
CLAIM_MIN_SEEDS_FOR_MEAN = 3  # the mean-over-standard-errors rule needs at least this many seeds
CLAIM_STANDARD_ERRORS = 2.0
LEARNED_ERROR = 0.5  # "trained": an error rate at most this, far from chance (0.9 for ten classes)
_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}
_DIRECTION = {">": 1, ">=": 1, "<": -1, "<=": -1}


@dataclasses.dataclass(frozen=True)
class Trained:
    """A condition every seed must meet before a claim about trained networks is judged, e.g.
    ``Trained("test_error_resnet56", "<=", 0.5, "ResNet-56 learned (chance is 0.9)")``."""

    metric: str
    compare: str
    value: float
    what: str

    def __post_init__(self):
        if self.compare not in _COMPARE:
            raise ValueError(
                f"Trained {self.metric!r}: `compare` must be one of {sorted(_COMPARE)}, got {self.compare!r}."
            )

    def holds(self, metrics: dict) -> bool:
        v = metrics.get(self.metric)
        return v is not None and math.isfinite(v) and _COMPARE[self.compare](v, self.value)

    def text(self) -> str:
        return f"{self.metric} {self.compare} {self.value:g} ({self.what})"


def learned(metric: str, who: str) -> Trained:
    """The project's usual "trained" condition: error ``metric`` at most LEARNED_ERROR."""
    return Trained(metric, "<=", LEARNED_ERROR, f"{who} learned; chance is 0.9")


@dataclasses.dataclass(frozen=True)
class Prediction:
    """Where a source predicts that a network fails in the very setup a row runs: the citation (slide or page),
    that setup in the source's words, and ``control``, the metric of another row of the same run (the same
    network with the predicted cause removed) that must be reproduced for the failure to count as predicted."""

    cite: str
    setup: str
    control: str

    def __post_init__(self):
        for name in ("cite", "setup", "control"):
            if not getattr(self, name):
                raise ValueError(f"Prediction: `{name}` must be given (a failure counts as predicted only with it).")

    def text(self) -> str:
        return f"predicted by {self.cite} ({self.setup}); positive control: {self.control}"


@dataclasses.dataclass(frozen=True)
class Progress:
    """The training curve that says whether a row's metric was still improving when its schedule ended: history
    column ``column`` (``better``: "lower" or "higher") of each of ``networks`` (the history's Network column;
    () for a target that trains one network). A "not reproduced" row gets the "schedule short" qualifier only
    when this curve was still improving by more than the seed-to-seed noise. The schedule's length is the
    profile's epochs, or its option ``epochs_option`` for a custom target that keeps it there."""

    column: str
    better: str
    networks: tuple = ()
    epochs_option: str = "epochs"  # where a custom target's profile options keep its schedule's length

    def __post_init__(self):
        if self.better not in ("lower", "higher"):
            raise ValueError(f"Progress {self.column!r}: `better` must be 'lower' or 'higher', got {self.better!r}.")


@dataclasses.dataclass(frozen=True)
class Change:
    """An earlier criterion of a row, kept after a results commit: what it was, the date it was replaced
    (ISO), and why."""

    criterion: str
    until: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Retired:
    """A row dropped after a results commit: its metric, its last criterion, the date (ISO) and why."""

    metric: str
    criterion: str
    until: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Reference:
    """One results row: a reference (a published number, a claim, a closed form, a sanity check) that one
    of our per-seed metrics is judged against.

    ``cls`` is the row's class (see CLASSES). Give either ``tolerance`` (reproduced when |mean over
    seeds − value| <= tolerance; a published row says where its tolerance comes from in
    ``tolerance_rule``) or ``compare``. A ``compare`` row of class ``claim`` needs an effect of at
    least ``margin`` beyond ``value`` that stands out of the seed noise: every seed beyond it, or, with
    at least 3 seeds, the mean beyond it by two standard errors. Its ``trained`` conditions must hold
    in every seed, else the verdict is "not trained" (any class may declare them, and they come first);
    ``predicts_failure`` (a :class:`Prediction`) marks a claim that a network fails where the source says
    so, which passes when the failure happens and its positive control succeeds. Other ``compare`` rows
    need the comparison in every seed. ``history`` keeps the row's earlier criteria; ``deterministic``
    marks a method with no randomness (run once, n = 1); ``progress`` names the curve that can earn a miss
    the "schedule short" qualifier.
    """

    metric: str
    value: float
    source: str
    tolerance: float | None = None
    compare: str | None = None
    label: str = ""
    cls: str = dataclasses.field(default=None, kw_only=True)
    margin: float = dataclasses.field(default=0.0, kw_only=True)
    trained: tuple = dataclasses.field(default=(), kw_only=True)
    predicts_failure: Prediction | None = dataclasses.field(default=None, kw_only=True)
    tolerance_rule: str = dataclasses.field(default="", kw_only=True)
    history: tuple = dataclasses.field(default=(), kw_only=True)
    deterministic: bool = dataclasses.field(default=False, kw_only=True)
    progress: Progress | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        where = f"Reference for {self.metric!r}"
        if self.cls not in CLASSES:
            raise ValueError(f"{where}: `cls` (the row's class) must be one of {list(CLASSES)}, got {self.cls!r}.")
        if (self.tolerance is None) == (self.compare is None):
            raise ValueError(f"{where}: give exactly one of `tolerance` or `compare`.")
        if self.compare is not None and self.compare not in _COMPARE:
            raise ValueError(f"{where}: `compare` must be one of {sorted(_COMPARE)}, got {self.compare!r}.")
        if self.cls == "claim":
            if self.compare not in _DIRECTION:
                raise ValueError(f"{where}: a claim compares with one of {sorted(_DIRECTION)}, got {self.compare!r}.")
            if not self.margin > 0:
                raise ValueError(f"{where}: a claim needs an effect size, `margin` > 0, got {self.margin!r}.")
        elif self.margin or self.predicts_failure:
            raise ValueError(f"{where}: `margin` and `predicts_failure` belong to claims, not {self.cls!r} rows.")
        if self.predicts_failure is not None and not isinstance(self.predicts_failure, Prediction):
            raise ValueError(
                f"{where}: `predicts_failure` is a Prediction (citation, setup, positive control), "
                f"got {self.predicts_failure!r}."
            )
        if self.progress is not None and not isinstance(self.progress, Progress):
            raise ValueError(f"{where}: `progress` is a Progress, got {self.progress!r}.")
        if self.cls == "published" and self.tolerance is not None and not self.tolerance_rule:
            raise ValueError(f"{where}: a published row says where its tolerance comes from (`tolerance_rule`).")
        for t in self.trained:
            if not isinstance(t, Trained):
                raise ValueError(f"{where}: `trained` holds Trained conditions, got {t!r}.")
        for c in self.history:
            if not isinstance(c, Change):
                raise ValueError(f"{where}: `history` holds Change records, got {c!r}.")

    def criterion(self) -> str:
        if self.tolerance is not None:
            rule = f"± {self.tolerance:g}"
        elif self.cls == "claim":
            edge = self.value + _DIRECTION[self.compare] * self.margin
            rule = (
                f"every seed {self.compare} {edge:g} (n ≥ {CLAIM_MIN_SEEDS}), or the mean by "
                f"{CLAIM_STANDARD_ERRORS:g} standard errors (n ≥ {CLAIM_MIN_SEEDS_FOR_MEAN})"
            )
        else:
            rule = f"every seed {self.compare} {self.value:g}"
        if self.trained:
            rule += "; trained: " + ", ".join(t.text() for t in self.trained)
        return rule

    def holds(self, v) -> bool:
        """Whether one value meets a ``compare`` row's comparison."""
        return _COMPARE[self.compare](v, self.value)

    def effects(self, values) -> list:
        """A claim's effect per seed beyond its margin (positive = beyond)."""
        d = _DIRECTION[self.compare]
        return [d * (v - self.value) - self.margin for v in values]

    def verdict(self, values, diverged=0, trained=None, control=True) -> str:
        """Judge the finite per-seed ``values``; ``trained`` is one bool per value (its seed met every
        ``trained`` condition), None when the row has none; ``control``: whether a predicted failure's positive
        control was reproduced in the same run."""
        trained = [True] * len(values) if trained is None else trained
        pairs = [(v, t) for v, t in zip(values, trained) if v is not None and math.isfinite(v)]
        finite = [v for v, _ in pairs]
        if not finite:
            return DIVERGED if diverged else NO_DATA
        if self.trained and not all(t for _, t in pairs):
            return NOT_TRAINED
        if self.tolerance is not None:
            ok = abs(statistics.fmean(finite) - self.value) <= self.tolerance + 1e-12
        elif self.cls == "claim":
            ok = claim_holds(self.effects(finite))
        else:
            ok = all(self.holds(v) for v in finite)
        if not ok or (self.predicts_failure and not control):
            return NOT_REPRODUCED
        return FAILS_AS_PREDICTED if self.predicts_failure else REPRODUCED


def claim_holds(effects) -> bool:
    """An effect (beyond its margin) stands out of the seed noise: positive in every seed of at least
    CLAIM_MIN_SEEDS, or with at least CLAIM_MIN_SEEDS_FOR_MEAN seeds a mean above CLAIM_STANDARD_ERRORS standard
    errors. One seed shows no seed noise to stand out of, so it never holds."""
    n = len(effects)
    if n < CLAIM_MIN_SEEDS:
        return False
    if all(e > 0 for e in effects):
        return True
    if n < CLAIM_MIN_SEEDS_FOR_MEAN:
        return False
    mean = statistics.fmean(effects)
    return mean > CLAIM_STANDARD_ERRORS * statistics.stdev(effects) / math.sqrt(n)


@dataclasses.dataclass(frozen=True)
class Profile:
    """Run settings of one profile (full or quick): seeds, epochs and training-set size of a fit recipe, and
    ``options``, a target's own settings that differ between profiles (the widths of a sweep, a grid size),
    so a target reads them from its profile instead of asking which profile runs. ``short_of``: how its schedule
    falls short of the source's (e.g. "2,814 of He et al.'s 64,000 steps"); a full run's "not reproduced" row
    may then carry the "schedule short" qualifier, and only with measured evidence (report.qualifier)."""

    seeds: int
    epochs: int | None = None
    train_size: int | None = None
    options: dict = dataclasses.field(default_factory=dict)
    short_of: str = ""


@dataclasses.dataclass(frozen=True)
class Export:
    """A trained network of a target that the zoo ships as a weight set (``export-weights``): the run's network
    (a fit target's: its model's name), the zoo model and builder arguments that rebuild it, the data set the
    set is named after, the network metric that picks the seed (``choose``: "median", the representative seed;
    "best", e.g. a seed that solves XOR), the run's metrics the manifest keeps (those a reload measures again)
    and the batch size they were measured with."""

    network: str
    model: str
    dataset: str
    builder_args: dict = dataclasses.field(default_factory=dict)
    metric: str = "test_accuracy"
    choose: str = "median"
    metrics: tuple = ("test_accuracy", "test_loss")
    batch_size: int = 32

    def __post_init__(self):
        if self.choose not in ("median", "best"):
            raise ValueError(f"Export {self.network!r}: `choose` must be 'median' or 'best', got {self.choose!r}.")


@dataclasses.dataclass
class Target:
    """One experiment: references, how to produce the per-seed metrics, and how to summarise them.

    ``kind="fit"`` targets declare ``data(ctx)`` and one :class:`~reproductions.engine.Recipe` (its epochs
    come from the profile) that the engine trains, checkpoints and evaluates. ``kind="exact"``
    (closed-form) and ``kind="custom"`` (several networks, or scikit-learn) compute metrics in
    ``compute(seed, ctx)``; a custom target trains its networks through ``ctx.train_networks`` (the
    engine), and may put JSON-able per-seed details in ``ctx.extras`` and per-epoch rows in ``ctx.history``.
    ``report(results, folder)`` draws the target's own figures into its results folder and
    returns Markdown for summary.md; ``causes`` maps a metric to a function of the results by seed that
    returns the likely cause of a miss, computed from the run's own numbers (never a fixed string, which
    goes stale with the next run).
    """

    name: str
    title: str
    source: str
    references: tuple
    full: Profile
    quick: Profile
    kind: str = "fit"
    notes: str = ""
    causes: dict = dataclasses.field(default_factory=dict)  # metric -> (results by seed) -> likely cause of a miss
    datasets: tuple = ()  # data sets the target can run on (the first is its default); () = only its own
    report: Callable[[dict, Any], str] | None = None  # (results by seed, results folder) -> Markdown
    # exact and custom targets
    compute: Callable[[int, Any], dict] | None = None
    # fit targets
    data: Callable[[Any], dict] | None = None  # ctx -> {"x_train", "y_train", "x_val", "y_val", "x_test", "y_test"}
    recipe: Any = None  # a reproductions.engine.Recipe without epochs
    # one seed's (metrics, extras) -> metrics derived from them alone; applied when a run is reported and when a
    # stored run is re-judged, so a criterion on a new combination of measured numbers needs no new training
    derive: Callable[[dict, dict], dict] | None = None
    # metrics of rows the source tells apart (Glorot & Bengio's three activations): their windows must not overlap
    contrasts: tuple = ()
    # (results by seed, summary rows) -> findings: invariants of this target a careful reader checks (audit)
    audit: Callable[[dict, list], list] | None = None
    retired: tuple = ()  # Retired rows: criteria dropped after a results commit, shown in the summary
    needs: tuple = ()  # targets whose trained networks this one uses (run before it, into the same folder)
    # Export: trained networks the zoo ships as weight sets (python -m reproductions export-weights)
    exports: tuple = ()
    # why the target's own code runs on TensorFlow only (a tf.GradientTape loop, tf ops); "" for every backend
    tensorflow_only: str = ""
    module: str = dataclasses.field(default="", compare=False)  # the module defining it (set by the registry)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {list(KINDS)}, got {self.kind!r}.")
        needed = ("compute",) if self.kind != "fit" else ("data", "recipe")
        missing = [n for n in needed if getattr(self, n) is None]
        if missing:
            raise ValueError(f"target {self.name!r} ({self.kind}) is missing {missing}.")
        if self.kind == "fit" and self.recipe.epochs is not None:
            raise ValueError(
                f"target {self.name!r}: its recipe's epochs come from its profiles (full=Profile(seeds, "
                f"epochs)), not from the recipe (epochs={self.recipe.epochs!r})."
            )
        fixed = [m for m, c in self.causes.items() if not callable(c)]
        if fixed:
            raise ValueError(
                f"target {self.name!r}: causes of {fixed} must be functions of the results, not fixed text."
            )

    def with_derived(self, results: dict) -> dict:
        """``results`` by seed with each seed's derived metrics added (measured ones win on a clash)."""
        if self.derive is None:
            return results
        out = {}
        for seed, r in results.items():
            derived = {k: float(v) for k, v in self.derive(dict(r["metrics"]), r.get("extras") or {}).items()}
            out[seed] = {**r, "metrics": {**derived, **r["metrics"]}}
        return out

    def profile(self, name: str) -> Profile:
        """The profile called ``name`` ("full" or "quick")."""
        if name not in PROFILES:
            raise ValueError(f"`profile` must be one of {list(PROFILES)}, got {name!r}.")
        return self.full if name == "full" else self.quick

    def run_seeds(self, profile: str, seeds=None) -> list:
        """The seeds a run takes: the ones asked for, else 0..N-1 for the profile's N."""
        return list(seeds) if seeds is not None else list(range(self.profile(profile).seeds))

    def recipe_for(self, profile: str):
        """A fit target's recipe with the profile's epochs."""
        return dataclasses.replace(self.recipe, epochs=self.profile(profile).epochs)

    def config(self, profile: str) -> dict:
        """A JSON-able description of the profile (and a fit target's recipe), for the run record."""
        p = self.profile(profile)
        out = {
            "kind": self.kind,
            "profile": profile,
            "seeds": p.seeds,
            "epochs": p.epochs,
            "train_size": p.train_size,
            "options": dict(p.options),
        }
        if self.kind == "fit":
            out["recipe"] = self.recipe_for(profile).describe()
        return out


def seed_values(results: dict, metric: str) -> list:
    """A metric's finite values over the seeds of ``results`` (for causes computed from a run)."""
    vals = [r["metrics"].get(metric) for r in results.values()]
    return [float(v) for v in vals if v is not None and math.isfinite(v)]


def spread(results: dict, metric: str, digits: int = 4) -> str:
    """'mean (min–max over n seeds)' of a metric, for cause lines."""
    v = seed_values(results, metric)
    if not v:
        return "no finite value"
    if len(v) == 1:
        return f"{v[0]:.{digits}g}"
    return f"{statistics.fmean(v):.{digits}g} ({min(v):.{digits}g}–{max(v):.{digits}g} over {len(v)} seeds)"
