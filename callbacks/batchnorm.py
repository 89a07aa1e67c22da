"""BatchNorm statistics recomputed from a data set: the one helper behind check_overfit's inference-mode
loss and the residual targets' evaluation of briefly trained nets."""

from __future__ import annotations

import keras


def batchnorm_layers(model):
    """Every BatchNormalization layer of ``model``, nested ones included."""
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def recalibrate_batchnorm(model, x, batch_size=256):
    """Recompute every BatchNorm layer's moving mean and variance as the plain average of its batch
    statistics over ``x`` (training-mode forward passes, no weight update; as SWA's bn_update).

    After a few hundred steps, BatchNorm's exponential moving averages (momentum 0.99) still hold
    0.99^steps of their initial values (14% after 192 steps), so inference-mode numbers of a
    briefly trained net measure stale statistics rather than the net; this removes that.
    """
    layers = batchnorm_layers(model)
    if not layers:
        return model
    saved = [layer.momentum for layer in layers]
    try:
        for i, start in enumerate(range(0, len(x), batch_size)):
            for layer in layers:  # running mean of batch statistics: new = old·i/(i+1) + batch/(i+1)
                layer.momentum = i / (i + 1)
            model(x[start : start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return model
