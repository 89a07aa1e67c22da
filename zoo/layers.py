"""Small serializable layers the lecture models need and Keras lacks."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["Step", "QuadraticFeatures", "ZeroPadShortcut", "BatchNormalization"]


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


@keras.saving.register_keras_serializable(package="zoo")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` whose training step runs TensorFlow's fused kernel (same name,
    weights and arithmetic, so weight files and structures of Keras' layer fit it).

    Keras 3 normalizes with separate moment, subtract, multiply and add ops; on the TensorFlow CPU
    build those element-wise passes (compiled without AVX2/AVX-512, unlike its oneDNN convolutions)
    take most of a ResNet step, and one ``FusedBatchNormV3`` per layer is about 1.4× faster end to end
    (benchmarks/engine_step.py). The outputs, gradients and moving averages are Keras' own (the moving
    variance is the biased batch variance, as Keras keeps it); every other case (another backend,
    inference, a frozen layer, a mask, renorm, synchronized, not 4-D channels-last float32, epsilon
    below the kernel's 1.001e-5) runs the parent's code unchanged.
    """

    def _fusable(self, inputs, training, mask):
        return (
            training is True
            and self.trainable
            and mask is None
            and not self.renorm
            and not self.synchronized
            and keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
            and inputs.dtype == "float32"
            and self.epsilon >= 1.001e-5
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        channels = inputs.shape[-1]
        gamma = self.gamma if self.scale else tf.ones([channels], inputs.dtype)
        beta = self.beta if self.center else tf.zeros([channels], inputs.dtype)
        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs,
            scale=gamma,
            offset=beta,
            mean=tf.zeros([0], inputs.dtype),
            variance=tf.zeros([0], inputs.dtype),
            epsilon=self.epsilon,
            exponential_avg_factor=1.0,
            data_format="NHWC",
            is_training=True,
        )
        # the kernel returns the unbiased (Bessel-corrected) variance; Keras averages the biased one
        n = tf.cast(tf.size(inputs) // channels, variance.dtype)
        variance = variance * ((n - 1.0) / tf.maximum(n, 1.0))
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return outputs
