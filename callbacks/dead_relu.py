"""DeadReLUDetector: the fraction of ReLU units that output <= eps for every probe input."""

from __future__ import annotations

import math
import warnings

import numpy as np

from keras_lecture_zoo.callbacks._periodic import PeriodicCheck
from keras_lecture_zoo.callbacks._probe import Probe, activation_kind, all_layers, iter_input_batches
from keras_lecture_zoo.callbacks.autodiff import to_numpy
from keras_lecture_zoo.zoo.validation import check_positive_int

__all__ = ["DeadReLUDetector"]


class DeadReLUDetector(PeriodicCheck):
    """Measure dead ReLU units on a probe set, at train begin and every ``frequency`` epochs.

    A unit (a Dense unit, or an output channel of a conv layer) is *dead* when its
    output is <= ``eps`` for every input of the probe set, measured in inference mode
    and streamed over at most ``max_batches`` batches. Every ReLU form counts:
    ``activation="relu"``/``"relu6"`` on any layer, ``Activation("relu")``, ``ReLU``
    layers (not leaky ones); a ReLU applied as a bare function inside a subclassed
    model's ``call`` (``keras.ops.relu(x)``) is not a layer and is not seen. With
    ``report_dormant=True``, units of other
    non-linearities whose mean |activation| is below ``dormant_tau`` times their
    layer's average are reported as *dormant* (Sokar et al. 2023).

    Into ``logs`` (so History, CSVLogger and TensorBoard record them; place this
    callback before CSVLogger): ``dead_relu_fraction`` and ``dead_relu/<layer>``
    (and ``dormant_fraction``, ``dormant/<layer>``); NaN on epochs without a check.
    A unit whose probe activations include NaN or inf is not counted as dead (nor alive):
    ``dead_relu_nonfinite_fraction`` reports their share, with a warning, and the dead
    fractions are taken over the finite units only (NaN when there are none, and in a
    model without ReLU units, where nothing is measured).

    Args:
        probe_data: inputs to probe: an array, an (x, y) tuple, a ``tf.data.Dataset``
            or a ``keras.utils.PyDataset`` (labels are ignored).
        eps: a unit is dead if its output never exceeds this value.
        frequency: check every this many epochs (and at train begin).
        batch_size: batch size when ``probe_data`` is an array.
        max_batches: cap on probe batches per check (None: all).
        warn_threshold: warn when the overall dead fraction exceeds it (None: never).
        stop_threshold: stop training when it exceeds this (None: never).
        report_dormant, dormant_tau: see above.
        verbose: 1 prints one line per check.
    """

    def __init__(
        self,
        probe_data,
        *,
        eps=0.0,
        frequency=1,
        batch_size=256,
        max_batches=10,
        warn_threshold=0.4,
        stop_threshold=None,
        report_dormant=False,
        dormant_tau=0.025,
        check_on_train_begin=True,
        verbose=0,
    ):
        super().__init__()
        if probe_data is None:
            raise ValueError("`probe_data` is required: an array, (x, y) tuple, tf.data.Dataset or PyDataset.")
        check_positive_int(frequency, "frequency", minimum=1)
        check_positive_int(batch_size, "batch_size", minimum=1)
        if max_batches is not None and (not isinstance(max_batches, int) or max_batches < 1):
            raise ValueError(f"`max_batches` must be None or an integer >= 1, got {max_batches!r}.")
        for name, value in (("warn_threshold", warn_threshold), ("stop_threshold", stop_threshold)):
            if value is not None and not (isinstance(value, (int, float)) and 0 <= value <= 1):
                raise ValueError(f"`{name}` must be None or a fraction in [0, 1], got {value!r}.")
        if not isinstance(eps, (int, float)) or eps < 0:
            raise ValueError(f"`eps` must be a number >= 0, got {eps!r}.")
        if not isinstance(dormant_tau, (int, float)) or dormant_tau < 0:
            raise ValueError(f"`dormant_tau` must be a number >= 0, got {dormant_tau!r}.")
        self.probe_data = probe_data
        self.eps = float(eps)
        self.frequency = frequency
        self.batch_size = batch_size
        self.max_batches = max_batches
        self.warn_threshold = warn_threshold
        self.stop_threshold = stop_threshold
        self.report_dormant = bool(report_dormant)
        self.dormant_tau = float(dormant_tau)
        self.check_on_train_begin = check_on_train_begin
        self.verbose = verbose
        self.records = []
        self.stop_reason = None
        self._previous = {}
        self._probe = None

    # ------------------------------------------------------------------ measurement

    def watched_layers(self, model=None):
        """(layer, kind) pairs this detector measures in ``model`` (default: the trained model)."""
        model = model if model is not None else self.model
        kinds = [(layer, activation_kind(layer)) for layer in all_layers(model)]
        return [(layer, kind) for layer, kind in kinds if kind == "relu" or (kind == "other" and self.report_dormant)]

    def measure(self, model=None):
        """Probe ``model`` now; return {layer name: {"kind", "units", "dead" mask, "dormant" mask}}."""
        model = model if model is not None else self.model
        watched = self.watched_layers(model)
        if not watched:
            return {}
        layers = [layer for layer, _ in watched]
        if self._probe is None or self._probe.model is not model or self._probe.layers != layers:
            self._probe = Probe(model, layers, abs_for=[layer for layer, kind in watched if kind == "other"])
        stats = self._probe.run(iter_input_batches(self.probe_data, self.batch_size, self.max_batches))
        # NaN/inf inputs or weights poison every unit, even where a fused kernel turned relu(NaN) into 0
        poisoned = self._probe.nonfinite_input or not all(np.isfinite(to_numpy(w.value)).all() for w in model.weights)
        result = {}
        for layer, kind in watched:
            s = stats.get(id(layer))
            if s is None:
                continue  # the layer was not reached by this model's forward pass
            nonfinite = np.ones_like(s.nonfinite) if poisoned else s.nonfinite
            entry = {"kind": kind, "units": int(s.max.shape[0]), "nonfinite": nonfinite}
            if kind == "relu":
                entry["dead"] = (s.max <= self.eps) & ~nonfinite
            else:
                mean_abs = s.mean_abs
                entry["dormant"] = mean_abs <= self.dormant_tau * max(float(mean_abs.mean()), 1e-30)
            result[layer.name] = entry
        return result

    def check(self, epochs_completed, logs=None):
        """Measure, record a summary row per layer, update ``logs`` and act on thresholds."""
        result = self.measure()
        total_units = total_dead = dormant_units = dormant_count = nonfinite_units = relu_units = 0
        values = {}
        for name, entry in result.items():
            row = {"epochs_completed": epochs_completed, "layer": name, "kind": entry["kind"], "units": entry["units"]}
            nonfinite = entry["nonfinite"]
            finite_units = int((~nonfinite).sum())
            if "dead" in entry:
                dead = entry["dead"]
                prev = self._previous.get(name)
                row.update(
                    dead=int(dead.sum()),
                    nonfinite=int(nonfinite.sum()),
                    dead_fraction=float(dead.sum() / finite_units) if finite_units else math.nan,
                )
                if prev is not None and prev.shape == dead.shape:
                    row.update(
                        stayed_dead=int((dead & prev).sum()),
                        newly_dead=int((dead & ~prev).sum()),
                        revived=int((~dead & prev).sum()),
                    )
                self._previous[name] = dead
                values[f"dead_relu/{name}"] = row["dead_fraction"]
                total_units += finite_units
                total_dead += int(dead.sum())
                nonfinite_units += int(nonfinite.sum())
                relu_units += dead.size
            else:
                dormant = entry["dormant"]
                row.update(dormant=int(dormant.sum()), dormant_fraction=float(dormant.mean()))
                values[f"dormant/{name}"] = row["dormant_fraction"]
                dormant_units += dormant.size
                dormant_count += int(dormant.sum())
            self.records.append(row)
        overall = total_dead / total_units if total_units else math.nan  # NaN: no ReLU unit was measured
        values["dead_relu_fraction"] = overall
        values["dead_relu_nonfinite_fraction"] = nonfinite_units / relu_units if relu_units else math.nan
        if nonfinite_units:
            warnings.warn(
                f"{nonfinite_units}/{relu_units} ReLU units had non-finite (NaN or inf) activations on the probe set "
                f"after {epochs_completed} epoch(s): the weights or the probe inputs are not finite. They are not "
                "counted as dead; see dead_relu_nonfinite_fraction.",
                stacklevel=2,
            )
        if self.report_dormant:
            values["dormant_fraction"] = dormant_count / dormant_units if dormant_units else math.nan
        if logs is not None:
            logs.update(values)
        if self.verbose:
            print(
                f"DeadReLUDetector after {epochs_completed} epoch(s): {total_dead}/{total_units} ReLU units dead "
                f"({overall:.1%})" + (f", {nonfinite_units} non-finite" if nonfinite_units else "")
            )
        if self.warn_threshold is not None and math.isfinite(overall) and overall > self.warn_threshold:
            warnings.warn(
                f"{overall:.1%} of ReLU units are dead after {epochs_completed} epoch(s) "
                f"(threshold {self.warn_threshold:.0%}); consider a lower learning rate.",
                stacklevel=2,
            )
        if (
            self.stop_threshold is not None
            and math.isfinite(overall)
            and overall > self.stop_threshold
            and self.model is not None
        ):
            self.stop_reason = f"dead fraction {overall:.1%} > stop_threshold {self.stop_threshold:.0%}"
            self.model.stop_training = True
        return values

    # ------------------------------------------------------------------ callback hooks

    def get_state(self):
        """JSON-able records and last dead masks, so a resumed run (``set_state``) continues them."""
        return {"records": self.records, "previous": {k: v.astype(int).tolist() for k, v in self._previous.items()}}

    def set_state(self, state):
        """Restore :meth:`get_state`'s output; the next ``on_train_begin`` keeps it instead of starting over."""
        self.records = list(state["records"])
        self._previous = {k: np.asarray(v, dtype=bool) for k, v in state["previous"].items()}
        self._restored = True

    def on_train_begin(self, logs=None):
        if getattr(self, "_restored", False):
            self._restored = False
            return
        self.records = []
        self.stop_reason = None
        self._previous = {}
        if not self.watched_layers():
            warnings.warn("DeadReLUDetector found no ReLU layers in the model; nothing will be measured.", stacklevel=2)
        if self.check_on_train_begin:
            self.check(0)

    def log_keys(self):
        """The keys every epoch's logs get, from the watched layers (NaN on epochs without a check)."""
        keys = []
        for layer, kind in self.watched_layers():
            keys.append(f"dead_relu/{layer.name}" if kind == "relu" else f"dormant/{layer.name}")
        keys += ["dead_relu_fraction", "dead_relu_nonfinite_fraction"]
        return keys + (["dormant_fraction"] if self.report_dormant else [])

    # ------------------------------------------------------------------ reporting

    def summary(self):
        """One row per layer and check (a list of dicts; ``pandas.DataFrame(summary())`` makes a table)."""
        return list(self.records)

    def dead_units(self, layer_name):
        """Indices of the units of ``layer_name`` dead at the last check."""
        if layer_name not in self._previous:
            raise ValueError(f"`layer_name` must be one of {sorted(self._previous)}, got {layer_name!r}.")
        return np.flatnonzero(self._previous[layer_name])
