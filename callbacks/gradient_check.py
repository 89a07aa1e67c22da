"""GradientCheck: central finite differences vs autodiff for sampled entries of every trainable variable."""

from __future__ import annotations

import dataclasses
import math
import warnings

import keras
import numpy as np
from keras import ops

from keras_lecture_zoo.callbacks._periodic import PeriodicCheck
from keras_lecture_zoo.callbacks.autodiff import (
    compile_stateless,
    float64_supported,
    to_numpy,
    value_and_gradients,
    values_of,
)
from keras_lecture_zoo.zoo.validation import check_positive_int

__all__ = ["GradientCheck", "GradientCheckError", "GradientCheckReport", "check_gradients", "BANDS"]

# cs231n's reading of the relative error |a - n| / (|a| + |n|)
BANDS = ((1e-7, "good"), (1e-4, "acceptable"), (1e-2, "suspicious"), (math.inf, "wrong"))


def band(rel_error):
    """Name of the band a relative error falls in ('non-finite' for NaN or inf)."""
    if not math.isfinite(rel_error):
        return "non-finite"
    return next(name for limit, name in BANDS if rel_error <= limit)


class GradientCheckError(AssertionError):
    """Raised by ``GradientCheck(raise_on_failure=True)`` when autodiff and numeric gradients disagree."""


@dataclasses.dataclass
class EntryResult:
    variable: str
    index: tuple
    autodiff: float
    numeric: float
    rel_error: float
    kink: bool
    failed: bool


@dataclasses.dataclass
class GradientCheckReport:
    """All checked entries, with the dtype used and the failure tolerance."""

    entries: list
    dtype: str
    tolerance: float
    loss: float

    @property
    def failures(self):
        return [e for e in self.entries if e.failed]

    @property
    def kinks(self):
        return [e for e in self.entries if e.kink]

    @property
    def passed(self):
        return not self.failures

    def max_rel_error(self, variable=None):
        """Largest relative error over non-kink entries (of one variable, if named); NaN if any is NaN."""
        errs = [e.rel_error for e in self.entries if not e.kink and (variable is None or e.variable == variable)]
        return _nan_max(errs)

    def per_variable(self):
        """{variable: max relative error over its non-kink entries} (NaN where a gradient is non-finite)."""
        out = {}
        for e in self.entries:
            out.setdefault(e.variable, [])
            if not e.kink:
                out[e.variable].append(e.rel_error)
        return {k: _nan_max(v) for k, v in out.items()}

    def describe_failure(self, entry):
        return (
            f"gradient check failed for variable {entry.variable!r} entry {entry.index}: "
            f"autodiff {entry.autodiff:.9g}, numeric {entry.numeric:.9g}, "
            f"relative error {entry.rel_error:.3g} ({band(entry.rel_error)}; tolerance {self.tolerance:g}, "
            f"{self.dtype})"
        )


def _nan_max(values):
    values = list(values)
    return math.nan if any(math.isnan(v) for v in values) else max(values, default=0.0)


# ---------------------------------------------------------------------------- float64 copy


def _to_float64_config(obj):
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            if key == "dtype" and (
                value in ("float32", "float16", "bfloat16")
                or (isinstance(value, dict) and value.get("class_name") == "DTypePolicy")
            ):
                out[key] = "float64"
            else:
                out[key] = _to_float64_config(value)
        return out
    if isinstance(obj, list):
        return [_to_float64_config(v) for v in obj]
    return obj


def float64_copy(model, sample_x):
    """A float64 clone of ``model`` with the same weights, or None if the model cannot be cloned
    or the backend computes no float64 (JAX without x64)."""
    if not float64_supported()[0]:
        return None
    previous = keras.config.dtype_policy()
    try:
        config = _to_float64_config(keras.saving.serialize_keras_object(model))
        keras.config.set_dtype_policy("float64")
        copy = keras.saving.deserialize_keras_object(config)
        copy(keras.tree.map_structure(lambda a: _cast(a, "float64"), sample_x), training=False)
    except Exception:  # any model whose config does not round-trip
        return None
    finally:
        keras.config.set_dtype_policy(previous)
    if len(copy.weights) != len(model.weights) or any(
        tuple(a.shape) != tuple(b.shape) for a, b in zip(copy.weights, model.weights)
    ):
        return None
    sync_weights(model, copy)
    return copy


def sync_weights(source, target):
    """Copy ``source``'s weights into ``target``, cast to each target variable's dtype."""
    for s, t in zip(source.weights, target.weights):
        t.assign(to_numpy(s.value).astype(t.dtype))


def _no_float64_message(model):
    supported, how = float64_supported()
    reason = "its config does not clone to float64" if supported else f"float64 is off on this backend ({how})"
    return f"Could not check {model.name!r} in float64: {reason}; checking in {model.dtype} with looser tolerances."


def _cast(a, dtype):
    a = np.asarray(a)
    return a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a


# ---------------------------------------------------------------------------- the check


def _loss_function(model, loss, dtype="float64"):
    """The loss as a function computed in ``dtype``, or for a multi-output model a list or dict of them (one per
    output, as ``compile`` takes them). A ``keras.losses.Loss`` object is rebuilt with that dtype (Keras 3 turns
    ``dtype=None`` into float32, which loses a 1e-6 finite-difference step)."""
    loss = loss if loss is not None else getattr(model, "loss", None)
    if loss is None:
        raise ValueError("No loss to check: compile the model or pass `loss=` (a Keras loss name, object or function).")
    if isinstance(loss, (list, tuple)):
        return [_one_loss(item, dtype) for item in loss]
    if isinstance(loss, dict):
        return {key: _one_loss(item, dtype) for key, item in loss.items()}
    return _one_loss(loss, dtype)


def _one_loss(loss, dtype):
    if isinstance(loss, str):
        return keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        config["dtype"] = dtype
        config["reduction"] = "sum_over_batch_size"
        try:
            return loss.__class__.from_config(config)
        except Exception:
            return loss
    return loss


def _per_output(model, loss_fn, ys, pred):
    """(loss, target, prediction) for each output the loss covers: every output of a multi-output model, summed
    with weight 1 as Keras sums them (a single loss applies to each output)."""
    if not isinstance(pred, (list, tuple, dict)):
        if isinstance(loss_fn, (list, dict)):
            raise ValueError(f"`loss` gives {len(loss_fn)} losses, but model {model.name!r} has one output.")
        return [(loss_fn, ys, pred)]
    names = list(pred) if isinstance(pred, dict) else list(getattr(model, "output_names", None) or range(len(pred)))
    outputs = dict(pred) if isinstance(pred, dict) else dict(zip(names, pred))
    targets = ys if isinstance(ys, dict) else dict(zip(names, ys)) if isinstance(ys, (list, tuple)) else None
    if targets is None or set(targets) != set(names):
        raise ValueError(
            f"model {model.name!r} has {len(names)} outputs ({', '.join(map(str, names))}): give `y` as a "
            "list or dict with one target per output."
        )
    if isinstance(loss_fn, dict):
        losses = loss_fn
    elif isinstance(loss_fn, list):
        if len(loss_fn) != len(names):
            raise ValueError(f"`loss` gives {len(loss_fn)} losses for the {len(names)} outputs of {model.name!r}.")
        losses = dict(zip(names, loss_fn))
    else:
        losses = {name: loss_fn for name in names}
    missing = [n for n in names if n not in losses]
    if missing:
        raise ValueError(f"`loss` names no loss for output(s) {', '.join(map(str, missing))} of {model.name!r}.")
    return [(losses[n], targets[n], outputs[n]) for n in names if losses[n] is not None]


def check_gradients(
    model,
    x,
    y,
    *,
    loss=None,
    num_entries=5,
    seed=0,
    use_float64=True,
    epsilon=None,
    tolerance=None,
    eval_model=None,
):
    """Compare autodiff and central-difference gradients of the loss on (x, y).

    For each trainable variable, ``num_entries`` seeded entries (all if fewer) are
    perturbed by ±``epsilon``; relative error |a − n| / (|a| + |n|). Evaluation is in
    inference mode (dropout off) on a float64 copy when possible: on TensorFlow; on JAX and
    PyTorch Keras computes float64 in float32, so the check runs in float32 and a warning says why. Entries whose
    one-sided slopes disagree by as much as the mismatch (a ReLU or max-pool kink
    crossed by the perturbation) are flagged ``kink`` and not counted as failures.
    """
    if not model.trainable_variables:
        model(keras.tree.map_structure(lambda a: _cast(a, model.dtype), x), training=False)  # build lazily built models
    if not model.trainable_variables:
        raise ValueError(f"Model {model.name!r} has no trainable variables: there is no gradient to check.")
    target = eval_model
    if target is None and use_float64:
        target = float64_copy(model, x)
        if target is None:
            warnings.warn(_no_float64_message(model), stacklevel=2)
    if target is None:
        target = model
    dtype = "float64" if all(v.dtype == "float64" for v in target.trainable_variables) else str(model.dtype)
    is64 = dtype == "float64"
    eps = epsilon if epsilon is not None else (1e-6 if is64 else 5e-3)
    tol = tolerance if tolerance is not None else (1e-4 if is64 else 2e-2)
    loss_fn = _loss_function(model, loss, dtype)
    xs = keras.tree.map_structure(lambda a: _cast(a, dtype), x)
    ys = keras.tree.map_structure(lambda a: _cast(a, dtype), y)
    _per_output(model, loss_fn, ys, target(xs, training=False))  # a mismatch is said before the first step

    def objective():
        value = ops.cast(0.0, dtype)
        for fn, truth, pred in _per_output(model, loss_fn, ys, target(xs, training=False)):
            value = value + ops.mean(ops.cast(fn(truth, pred), dtype))
        for extra in target.losses:  # regularisers and add_loss terms
            value = value + ops.cast(extra, dtype)
        return value

    variables = list(target.trainable_variables)
    names = [getattr(v, "path", v.name) for v in model.trainable_variables]
    base, grads = value_and_gradients(objective, variables)
    evaluate = compile_stateless(objective, variables)
    current = [to_numpy(v) for v in values_of(variables)]
    # resolution of a central difference: rounding of the loss values divided by the step;
    # an absolute error below it cannot be told apart, so it counts as agreement
    resolution = 16 * np.finfo(dtype).eps * max(1.0, abs(base)) / eps
    floor = resolution / tol
    rng = np.random.default_rng(seed)
    entries = []
    for k, (name, grad) in enumerate(zip(names, grads)):
        original = current[k]
        flat = original.reshape(-1)
        chosen = (
            np.arange(flat.size)
            if flat.size <= num_entries
            else np.sort(rng.choice(flat.size, num_entries, replace=False))
        )
        for i in chosen:
            w = flat[i]
            values = []
            for delta in (eps, -eps):
                perturbed = flat.copy()
                perturbed[i] = w + delta
                trial = list(current)
                trial[k] = perturbed.reshape(original.shape)
                values.append(float(to_numpy(evaluate(trial))))
            plus, minus = values
            numeric = (plus - minus) / (2 * eps)
            autodiff = float(grad.reshape(-1)[i])
            index = tuple(int(j) for j in np.unravel_index(i, original.shape))
            if not all(math.isfinite(v) for v in (autodiff, numeric, plus, minus, base)):
                # a NaN or inf gradient or loss is a failure: no comparison with it can pass
                entries.append(EntryResult(name, index, autodiff, numeric, math.nan, False, True))
                continue
            diff = abs(autodiff - numeric)
            rel = diff / max(abs(autodiff) + abs(numeric), floor)
            slope_jump = abs((plus - base) / eps - (base - minus) / eps)
            kink = rel > tol and slope_jump >= 0.5 * diff
            entries.append(EntryResult(name, index, autodiff, numeric, rel, kink, rel > tol and not kink))
    return GradientCheckReport(entries, dtype, tol, base)


class GradientCheck(PeriodicCheck):
    """Check gradients at train begin and every ``frequency`` epochs on a small fixed batch.

    Into ``logs``: ``grad_check/<variable path>`` (max relative error over the
    variable's sampled non-kink entries), ``grad_check_max_rel_error``,
    ``grad_check_failures`` and ``grad_check_kinks``; NaN on epochs without a check.
    ``raise_on_failure=True`` raises :class:`GradientCheckError` naming the variable,
    the entry and both gradients.

    Args:
        data: (x, y) arrays or a ``tf.data.Dataset`` of (x, y) batches; the first
            ``batch_size`` samples are used for every check.
        loss: the loss to check (default: the model's compiled loss).
        num_entries: entries sampled per variable (seeded by ``seed``).
        use_float64: check on a float64 copy of the model (falls back to the model's dtype).
        epsilon, tolerance: finite-difference step and failure threshold (dtype-aware defaults).
    """

    def __init__(
        self,
        data,
        *,
        loss=None,
        batch_size=8,
        num_entries=5,
        seed=0,
        frequency=1,
        use_float64=True,
        epsilon=None,
        tolerance=None,
        raise_on_failure=False,
        check_on_train_begin=True,
        verbose=0,
    ):
        super().__init__()
        for name, value in (("batch_size", batch_size), ("num_entries", num_entries), ("frequency", frequency)):
            check_positive_int(value, name, minimum=1)
        self.x, self.y = _fixed_batch(data, batch_size)
        self.loss = loss
        self.num_entries = num_entries
        self.seed = seed
        self.frequency = frequency
        self.use_float64 = use_float64
        self.epsilon = epsilon
        self.tolerance = tolerance
        self.raise_on_failure = raise_on_failure
        self.check_on_train_begin = check_on_train_begin
        self.verbose = verbose
        self.reports = []
        self._copy = None

    def check(self, epochs_completed, logs=None):
        """Run one check now; record the report, update ``logs``, raise if asked."""
        if not self.model.trainable_variables:
            self.model(self.x, training=False)  # a subclassed model may not be built at train begin
        if self.use_float64 and self._copy is None:
            self._copy = float64_copy(self.model, self.x) or False
            if self._copy is False:
                warnings.warn(_no_float64_message(self.model), stacklevel=2)
        if self._copy:
            sync_weights(self.model, self._copy)
        report = check_gradients(
            self.model,
            self.x,
            self.y,
            loss=self.loss,
            num_entries=self.num_entries,
            seed=self.seed,
            use_float64=False,
            epsilon=self.epsilon,
            tolerance=self.tolerance,
            eval_model=self._copy or None,
        )
        report.epochs_completed = epochs_completed
        self.reports.append(report)
        values = {f"grad_check/{k}": v for k, v in report.per_variable().items()}
        values.update(
            grad_check_max_rel_error=report.max_rel_error(),
            grad_check_failures=float(len(report.failures)),
            grad_check_kinks=float(len(report.kinks)),
        )
        if logs is not None:
            logs.update(values)
        if self.verbose:
            print(
                f"GradientCheck after {epochs_completed} epoch(s) ({report.dtype}): max relative error "
                f"{report.max_rel_error():.2e} ({band(report.max_rel_error())}), {len(report.failures)} failures, "
                f"{len(report.kinks)} kinks of {len(report.entries)} entries"
            )
        if report.failures and self.raise_on_failure:
            worst = max(report.failures, key=lambda e: math.inf if math.isnan(e.rel_error) else e.rel_error)
            raise GradientCheckError(report.describe_failure(worst))
        return report

    def log_keys(self):
        """The keys every epoch's logs get: one per trainable variable, then the three summaries."""
        names = [getattr(v, "path", v.name) for v in self.model.trainable_variables]
        return [f"grad_check/{n}" for n in names] + [
            "grad_check_max_rel_error",
            "grad_check_failures",
            "grad_check_kinks",
        ]

    def on_train_begin(self, logs=None):
        self.reports = []
        self._copy = None
        if self.check_on_train_begin:
            self.check(0)


def _fixed_batch(data, batch_size):
    if hasattr(data, "take") and hasattr(data, "element_spec"):
        xs, ys, n = [], [], 0
        for element in data:
            x, y = element[0], element[1]
            xs.append(keras.tree.map_structure(np.asarray, x))
            ys.append(np.asarray(y))
            n += len(ys[-1])
            if n >= batch_size:
                break
        x = keras.tree.map_structure(lambda *a: np.concatenate(a), *xs)
        y = np.concatenate(ys)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise ValueError("`data` must be an (x, y) tuple of arrays or a tf.data.Dataset of (x, y) batches.")
    x = keras.tree.map_structure(lambda a: np.asarray(a)[:batch_size], x)
    return x, np.asarray(y)[:batch_size]
