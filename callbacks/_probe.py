"""Find activation layers in any Keras model and record their outputs during a probe pass.

Works on Sequential, functional, subclassed and nested models alike: instead of
building a sub-model from symbolic outputs (impossible for subclassed models), the
``call`` of each watched layer is wrapped for the duration of the probe only.
"""

from __future__ import annotations

import contextlib

import numpy as np
import keras
from keras import ops

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
    """Running per-unit max and mean |activation| of one layer's output."""

    def __init__(self, layer):
        self.layer = layer
        self.axis = channel_axis(layer)
        self.max = None
        self.abs_sum = None
        self.count = 0

    def update(self, output):
        x = ops.convert_to_numpy(output)
        axis = self.axis % x.ndim
        x = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
        batch_max = x.max(axis=0)
        batch_abs = np.abs(x).sum(axis=0, dtype="float64")
        if self.max is None:
            self.max, self.abs_sum = batch_max, batch_abs
        else:
            self.max = np.maximum(self.max, batch_max)
            self.abs_sum += batch_abs
        self.count += x.shape[0]

    @property
    def mean_abs(self):
        return self.abs_sum / max(self.count, 1)


@contextlib.contextmanager
def recording(layers):
    """Within the block, every call of a layer in ``layers`` updates its :class:`UnitStats`."""
    stats = {id(layer): UnitStats(layer) for layer in layers}
    originals = {}
    for layer in layers:
        if id(layer) in originals:
            continue
        originals[id(layer)] = (layer, layer.__dict__.get("call"))
        original_call = layer.call

        def wrapped(*args, __call=original_call, __stats=stats[id(layer)], **kwargs):
            out = __call(*args, **kwargs)
            __stats.update(out)
            return out

        object.__setattr__(layer, "call", wrapped)
    try:
        yield stats
    finally:
        for layer, instance_call in originals.values():
            if instance_call is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", instance_call)


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
