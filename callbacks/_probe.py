"""Find activation layers in any Keras model and record their outputs during a probe pass.

Works on Sequential, functional, subclassed and nested models alike: instead of
building a sub-model from symbolic outputs (impossible for subclassed models), the
``call`` of each watched layer is wrapped for the duration of the probe only.
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
from keras import ops

from keras_lecture_zoo.callbacks.autodiff import backend, compile_stateless, to_numpy, values_of

_RELU_NAMES = {"relu", "relu6"}
_NEVER_DEAD = (keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.ELU)


def all_layers(model):
    """Every layer inside ``model`` (recursively, each once), excluding the model itself."""
    flatten = getattr(model, "_flatten_layers", None)
    if flatten is not None:
        return list(flatten(include_self=False, recursive=True))
    seen, out, stack = set(), [], list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop(0)
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return out


def activation_kind(layer):
    """'relu' for a unit that can die (ReLU/relu6 in any form), 'other' for another
    non-linearity (a candidate for dormancy), None for layers without an activation."""
    if isinstance(layer, keras.Model):
        return None
    if isinstance(layer, keras.layers.ReLU):
        return "relu" if float(layer.negative_slope) == 0.0 else "other"
    if isinstance(layer, _NEVER_DEAD):
        return "other"
    activation = getattr(layer, "activation", None)
    if activation is None or not callable(activation):
        return None
    name = getattr(activation, "__name__", "")
    if name in _RELU_NAMES:
        return "relu"
    if name == "linear":
        return None
    return "other"


def channel_axis(layer):
    """Axis of the units: the channel axis of conv-style layers, else the last axis."""
    return 1 if getattr(layer, "data_format", None) == "channels_first" else -1


class UnitStats:
    """Running per-unit max, mean |activation| and non-finite flag of one layer's output."""

    def __init__(self, layer):
        self.layer = layer
        self.axis = channel_axis(layer)
        self.max = None
        self.abs_sum = None
        self.nonfinite = None
        self.count = 0

    def reduce(self, output, with_abs):
        """Per-unit (max, sum |x| or 0, any non-finite value, number of positions) of one batch, as
        tensors (graph-safe). The max of finite values only: a reduction may drop a NaN silently."""
        rank = len(output.shape)
        axis = self.axis % rank
        axes = tuple(i for i in range(rank) if i != axis)
        positions = ops.cast(ops.size(output) // ops.shape(output)[axis], "float64")
        abs_sum = ops.sum(ops.abs(ops.cast(output, "float64")), axis=axes) if with_abs else ops.zeros((), "float64")
        finite = ops.isfinite(output)
        nonfinite = ops.any(ops.logical_not(finite), axis=axes)
        return ops.max(output, axis=axes), abs_sum, nonfinite, positions

    def add(self, batch_max, batch_abs, nonfinite, positions):
        batch_max, batch_abs = np.asarray(batch_max), np.asarray(batch_abs, dtype="float64")
        nonfinite = np.asarray(nonfinite, dtype=bool)
        if self.max is None:
            self.max, self.abs_sum, self.nonfinite = batch_max, batch_abs, nonfinite
        else:
            self.max = np.maximum(self.max, batch_max)
            self.abs_sum = self.abs_sum + batch_abs
            self.nonfinite = self.nonfinite | nonfinite
        self.count += int(positions)

    @property
    def mean_abs(self):
        return self.abs_sum / max(self.count, 1)


@contextlib.contextmanager
def intercepting(layers, sink):
    """Within the block, each call of a layer in ``layers`` appends (layer id, its output) to ``sink``."""
    originals = {}
    for layer in layers:
        if id(layer) in originals:
            continue
        originals[id(layer)] = (layer, layer.__dict__.get("call"))
        original_call = layer.call

        def wrapped(*args, __call=original_call, __key=id(layer), **kwargs):
            out = __call(*args, **kwargs)
            sink.append((__key, out))
            return out

        object.__setattr__(layer, "call", wrapped)
    try:
        yield sink
    finally:
        for layer, instance_call in originals.values():
            if instance_call is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", instance_call)


class Probe:
    """Per-unit statistics of chosen layers over batches, from one compiled forward function.

    The layers are intercepted only while the function is traced (TensorFlow, JAX) or run (PyTorch);
    the per-unit reductions are part of the function, so each probe batch costs one inference pass.
    The variables are the function's arguments (:mod:`callbacks.autodiff`), so a compiled probe
    always sees the model's current weights, on every backend.
    """

    def __init__(self, model, layers, abs_for=()):
        self.model = model
        self.layers = list(layers)
        abs_for = {id(layer) for layer in abs_for}  # layers whose mean |activation| is needed
        self._stats_for = {id(layer): UnitStats(layer) for layer in self.layers}

        def forward(x):
            sink = []
            graph = _current_graph()
            with intercepting(self.layers, sink):
                model(x, training=False)
            # keep this pass's tensors only (Keras may build layers symbolically or in a scratch graph)
            sink = [(key, out) for key, out in sink if _belongs(out, graph)]
            self._order = [key for key, _ in sink]  # Python side effect: runs while tracing
            finite_input = ops.all(ops.stack([ops.all(ops.isfinite(t)) for t in keras.tree.flatten(x)]))
            return finite_input, [self._stats_for[key].reduce(out, key in abs_for) for key, out in sink]

        self._order = []
        self._forward = forward
        self._fn = None

    def run(self, batches):
        """{layer id: UnitStats} accumulated over ``batches`` (layers not reached are absent);
        ``nonfinite_input`` tells afterwards whether any probe input was NaN or inf (a fused kernel
        may turn relu(NaN) into 0, so the outputs alone cannot show it)."""
        stats = {key: UnitStats(s.layer) for key, s in self._stats_for.items()}
        self.nonfinite_input = False
        for x in batches:
            if self._fn is None:
                if not self.model.variables:
                    self.model(x, training=False)  # build a lazily built model before compiling
                self._variables = list(self.model.variables)
                self._fn = compile_stateless(self._forward, self._variables)
            finite_input, outputs = self._fn(values_of(self._variables), x)
            finite_input, outputs = to_numpy((finite_input, outputs))
            self.nonfinite_input |= not bool(finite_input)
            for key, (batch_max, batch_abs, nonfinite, positions) in zip(self._order, outputs):
                stats[key].add(batch_max, batch_abs, nonfinite, positions)
        return {key: s for key, s in stats.items() if s.max is not None}


def _current_graph():
    """TensorFlow's graph being traced (None on other backends)."""
    if backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.compat.v1.get_default_graph()


def _belongs(output, graph):
    """Whether a recorded layer output is a value of the pass being run, not a symbolic build-time one."""
    if isinstance(output, keras.KerasTensor):
        return False
    if graph is not None:
        return getattr(output, "graph", None) is graph
    return True


def iter_input_batches(data, batch_size, max_batches):
    """Input batches (x only) from arrays, (x, y) tuples, tf.data datasets or PyDatasets."""
    if isinstance(data, keras.utils.PyDataset):
        n = len(data) if max_batches is None else min(len(data), max_batches)
        for i in range(n):
            yield _first(data[i])
        return
    if hasattr(data, "take") and hasattr(data, "element_spec"):  # tf.data.Dataset
        it = data if max_batches is None else data.take(max_batches)
        for element in it:
            yield _first(element)
        return
    x = _first(data)
    leaves = keras.tree.flatten(x)
    n = len(leaves[0])
    if n == 0:
        raise ValueError("`probe_data` is empty.")
    starts = range(0, n, batch_size)
    if max_batches is not None:
        starts = list(starts)[:max_batches]
    for start in starts:
        yield keras.tree.map_structure(lambda a: a[start : start + batch_size], x)


def _first(element):
    if isinstance(element, tuple) and len(element) in (2, 3):
        return element[0]
    return element
