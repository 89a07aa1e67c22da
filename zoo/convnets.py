"""Small convnets: L000's FashionSimpleNet and keras.io's simple MNIST convnet."""

from __future__ import annotations

import keras

from keras_lecture_zoo.zoo.registry import register_model
from keras_lecture_zoo.zoo.validation import (
    check_classifier_activation,
    check_input_shape,
    check_name,
    check_positive_int,
    check_rate,
)

__all__ = ["fashion_simplenet", "mnist_convnet"]

_IMAGE_SHAPE = (28, 28, 1)


def _image_input(input_shape, min_side):
    """Validated (H, W, C) input with both sides at least ``min_side``."""
    shape = check_input_shape(input_shape, _IMAGE_SHAPE, min_rank=3, max_rank=3)
    if any(d is not None and d < min_side for d in shape[:2]):
        raise ValueError(f"`input_shape` needs height and width >= {min_side}, got {shape}.")
    return keras.Input(shape=shape, name="image")


def _classifier(x, num_classes, classifier_activation):
    num_classes = check_positive_int(num_classes, "num_classes")
    activation = check_classifier_activation(classifier_activation, num_classes)
    return keras.layers.Dense(num_classes, activation=activation, name="predictions")(x)


@register_model(lecture="L000", family="convnets", expected_params=421642)
def fashion_simplenet(input_shape=None, num_classes=10, dropout_rate=0.5, classifier_activation="softmax", name=None):
    """L000's FashionSimpleNet: conv3×3(32)-relu-pool, conv3×3(64)-relu-pool, dropout, 128 relu, 10.

    'same' padding as the PyTorch original's padding=1, so 28×28 → 14 → 7 and the
    classifier sees 64·7·7 features; 421,642 parameters. PyTorch's ``nn.Dropout()``
    default rate is 0.5. The lecture trains it with cross-entropy on logits; we end
    in softmax by default (``classifier_activation=None`` gives logits).
    """
    inputs = _image_input(input_shape, 4)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(check_rate(dropout_rate, "dropout_rate"), name="dropout")(x)
    x = keras.layers.Dense(128, activation="relu", name="fc1")(x)
    outputs = _classifier(x, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=check_name(name, "fashion_simplenet"))


@register_model(lecture="keras.io Simple MNIST convnet", family="convnets", expected_params=34826)
def mnist_convnet(input_shape=None, num_classes=10, dropout_rate=0.5, classifier_activation="softmax", name=None):
    """keras.io 'Simple MNIST convnet': conv32-pool-conv64-pool-flatten-dropout-dense, 34,826 params."""
    inputs = _image_input(input_shape, 10)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(2, name="pool2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(check_rate(dropout_rate, "dropout_rate"), name="dropout")(x)
    outputs = _classifier(x, num_classes, classifier_activation)
    return keras.Model(inputs, outputs, name=check_name(name, "mnist_convnet"))
