"""Small serializable layers the lecture models need and Keras lacks."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["Step", "QuadraticFeatures", "ZeroPadShortcut"]


@keras.saving.register_keras_serializable(package="zoo")
class Step(keras.layers.Layer):
    """Heaviside threshold unit: ``high`` where ``z >= 0``, else ``low``.

    The lectures' perceptron activation h(z) = 1 if z >= 0 else 0 (``low=0``);
    ``low=-1`` gives the ±1 output of the Rosenblatt rule. The derivative is 0
    everywhere (undefined at 0), so gradient descent cannot train through it.
    """

    def __init__(self, low=0.0, high=1.0, **kwargs):
        super().__init__(**kwargs)
        low, high = float(low), float(high)
        if not low < high:
            raise ValueError(f"`low` must be smaller than `high`, got low={low}, high={high}.")
        self.low, self.high = low, high

    def call(self, inputs):
        return ops.where(
            inputs >= 0,
            ops.full_like(inputs, self.high),
            ops.full_like(inputs, self.low),
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="zoo")
class QuadraticFeatures(keras.layers.Layer):
    """Append the squares of the inputs: (x, y) → (x, y, x², y²) (L003's feature map)."""

    def call(self, inputs):
        return ops.concatenate([inputs, ops.square(inputs)], axis=-1)

    def compute_output_shape(self, input_shape):
        last = None if input_shape[-1] is None else 2 * input_shape[-1]
        return tuple(input_shape[:-1]) + (last,)


@keras.saving.register_keras_serializable(package="zoo")
class ZeroPadShortcut(keras.layers.Layer):
    """ResNet option-A shortcut (He et al. 2016, CIFAR): subsample by ``stride`` and zero-pad channels.

    Parameter-free: the extra ``filters − C`` output channels are zeros, split evenly before and after
    the input channels as in the common CIFAR implementations.
    """

    def __init__(self, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.stride = int(filters), int(stride)

    def call(self, inputs):
        x = inputs[:, :: self.stride, :: self.stride, :] if self.stride > 1 else inputs
        extra = self.filters - x.shape[-1]
        if extra <= 0:
            return x
        before = extra // 2
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [before, extra - before]])

    def compute_output_shape(self, input_shape):
        def sub(d):
            return None if d is None else -(-d // self.stride)

        return (input_shape[0], sub(input_shape[1]), sub(input_shape[2]), max(self.filters, input_shape[-1]))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "stride": self.stride}
