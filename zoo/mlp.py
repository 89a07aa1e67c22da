"""Fully connected models: softmax regression, the MNIST MLPs and the 1-D universal approximator."""

from __future__ import annotations

import keras

from keras_lecture_zoo.zoo.registry import register_model
from keras_lecture_zoo.zoo.validation import (
    check_activation,
    check_classifier_activation,
    check_input_shape,
    check_layer_count,
    check_name,
    check_positive_int,
    check_rate,
)

__all__ = [
    "mlp",
    "softmax_regression",
    "mnist_mlp_lecture",
    "mnist_mlp_1000",
    "mnist_mlp_keras",
    "fashion_mlp",
    "universal_approximator",
    "deep_mlp",
    "activation_mlp",
    "regularized_mlp",
    "ACTIVATIONS",
]

MNIST_SHAPE = (28, 28, 1)


@register_model(lecture="L001-L004", family="mlp")
def mlp(
    input_shape=None,
    hidden_units=(128,),
    hidden_activation="relu",
    dropout_rate=0.0,
    num_classes=10,
    classifier_activation="softmax",
    kernel_initializer="glorot_uniform",
    name=None,
):
    """Generic Flatten → [Dense(h, act) → Dropout]* → Dense(num_classes) classifier.

    The other MLP builders are fixed settings of this one; ``input_shape`` may be
    an image shape such as (28, 28, 1) or a flat vector such as (784,).
    """
    input_shape = check_input_shape(input_shape, MNIST_SHAPE)
    if isinstance(hidden_units, int):
        hidden_units = (hidden_units,)
    try:
        hidden_units = check_layer_count(hidden_units)
    except TypeError:
        raise ValueError(
            f"`hidden_units` must be an integer or a sequence of integers, got {hidden_units!r}."
        ) from None
    hidden_activation = check_activation(hidden_activation, "hidden_activation")
    dropout_rate = check_rate(dropout_rate, "dropout_rate")
    num_classes = check_positive_int(num_classes, "num_classes")
    classifier_activation = check_classifier_activation(classifier_activation, num_classes)

    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(
            units, activation=hidden_activation, kernel_initializer=kernel_initializer, name=f"dense_{i}"
        )(x)
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=classifier_activation, kernel_initializer=kernel_initializer, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=check_name(name, "mlp"))


@register_model(lecture="L004", family="mlp", expected_params=7850)
def softmax_regression(input_shape=None, num_classes=10, classifier_activation="softmax", name=None):
    """Softmax regression 784 → 10 (L004): h(x) = softmax(Wᵀx + b), 7,850 parameters."""
    return mlp(
        input_shape,
        hidden_units=(),
        num_classes=num_classes,
        classifier_activation=classifier_activation,
        name=check_name(name, "softmax_regression"),
    )


@register_model(lecture="L001", family="mlp", expected_params=25450)
def mnist_mlp_lecture(input_shape=None, hidden_units=32, num_classes=10, classifier_activation="softmax", name=None):
    """L001's Keras MNIST network 784 → 32 relu → 10.

    The slide's diagram is ambiguous about the output activation (it shows both
    sigmoid and relu); we use softmax with cross-entropy, the usual reading.
    """
    return mlp(
        input_shape,
        hidden_units=(hidden_units,),
        num_classes=num_classes,
        classifier_activation=classifier_activation,
        name=check_name(name, "mnist_mlp_lecture"),
    )


@register_model(lecture="L002", family="mlp", expected_params=795010)
def mnist_mlp_1000(
    input_shape=None, hidden_activation="relu", num_classes=10, classifier_activation="softmax", name=None
):
    """L002's parameter-count example 784 → 1000 → 10: 785,000 + 10,010 = 795,010 parameters."""
    return mlp(
        input_shape,
        hidden_units=(1000,),
        hidden_activation=hidden_activation,
        num_classes=num_classes,
        classifier_activation=classifier_activation,
        name=check_name(name, "mnist_mlp_1000"),
    )


@register_model(lecture="Keras mnist_mlp example", family="mlp", expected_params=669706)
def mnist_mlp_keras(input_shape=None, dropout_rate=0.2, num_classes=10, classifier_activation="softmax", name=None):
    """Keras's mnist_mlp example: 512 relu → dropout 0.2 → 512 relu → dropout 0.2 → 10 softmax."""
    return mlp(
        input_shape,
        hidden_units=(512, 512),
        dropout_rate=dropout_rate,
        num_classes=num_classes,
        classifier_activation=classifier_activation,
        name=check_name(name, "mnist_mlp_keras"),
    )


@register_model(lecture="TensorFlow basic classification tutorial", family="mlp", expected_params=101770)
def fashion_mlp(input_shape=None, hidden_units=128, num_classes=10, classifier_activation="softmax", name=None):
    """The TensorFlow Fashion-MNIST tutorial's MLP: Flatten → 128 relu → 10 (101,770 parameters)."""
    return mlp(
        input_shape,
        hidden_units=(hidden_units,),
        num_classes=num_classes,
        classifier_activation=classifier_activation,
        name=check_name(name, "fashion_mlp"),
    )


@register_model(lecture="L001-L002", family="mlp", expected_params=31)
def universal_approximator(width=10, hidden_activation="sigmoid", input_shape=None, name=None):
    """One hidden layer 1 → width → 1 (linear output) for the Cybenko approximation experiment."""
    width = check_positive_int(width, "width")
    return mlp(
        check_input_shape(input_shape, (1,), max_rank=1),
        hidden_units=(width,),
        hidden_activation=hidden_activation,
        num_classes=1,
        classifier_activation="linear",
        name=check_name(name, "universal_approximator"),
    )


_RELU_FAMILY = ("relu", "relu6", "elu", "selu", "gelu", "silu", "leaky_relu")


@register_model(lecture="L004", family="mlp", expected_params=398986)
def deep_mlp(
    depth=20,
    width=128,
    hidden_activation="sigmoid",
    residual=False,
    input_shape=None,
    num_classes=10,
    classifier_activation="softmax",
    kernel_initializer=None,
    name=None,
):
    """Deep narrow MLP for the vanishing-gradient lesson: sigmoid, ReLU or residual, 20 weight layers.

    ``depth`` weight layers: ``depth − 1`` hidden Dense layers of ``width`` and the classifier.

    ``residual=True`` keeps the same layers but pairs the hidden ones after the first into blocks
    ``h ← act(h + Dense(act(Dense(h))))`` (ResNet v1 form, ``depth`` must be even), so the same
    parameter count with and without shortcuts; each block's second layer starts with its
    initializer's variance divided by the number of blocks (Fixup-style), since without
    normalisation the blocks' outputs would otherwise add up and overflow. ``kernel_initializer``
    defaults to He-normal for ReLU-like activations and Glorot-uniform otherwise.
    Hidden layers are named ``dense_1`` … ``dense_{depth-1}``.
    """
    depth = check_positive_int(depth, "depth", minimum=2)
    width = check_positive_int(width, "width")
    if residual and depth % 2:
        raise ValueError(
            f"`depth` must be even with residual=True (a stem layer, 2-layer blocks, the classifier), got {depth}."
        )
    hidden_activation = check_activation(hidden_activation, "hidden_activation")
    input_shape = check_input_shape(input_shape, MNIST_SHAPE)
    num_classes = check_positive_int(num_classes, "num_classes")
    classifier_activation = check_classifier_activation(classifier_activation, num_classes)
    if kernel_initializer is None:
        kernel_initializer = "he_normal" if hidden_activation in _RELU_FAMILY else "glorot_uniform"

    def dense(i, activation):
        return keras.layers.Dense(
            width, activation=activation, kernel_initializer=kernel_initializer, name=f"dense_{i}"
        )

    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    x = dense(1, hidden_activation)(x)
    if residual:
        blocks = (depth - 2) // 2
        # Fixup-style branch scaling (Zhang et al. 2019): without normalisation, each block's output
        # variance would add up, (1 + 1)^blocks; shrinking the branch's last layer to variance
        # 1/blocks of its initializer keeps the sum bounded, (1 + 1/blocks)^blocks < e.
        scaled = keras.initializers.get(kernel_initializer)
        if isinstance(scaled, keras.initializers.VarianceScaling):
            scaled = keras.initializers.VarianceScaling(
                scale=scaled.scale / max(1, blocks),
                mode=scaled.mode,
                distribution=scaled.distribution,
                seed=scaled.seed,
            )
        for b, i in enumerate(range(2, depth, 2), start=1):
            branch = keras.layers.Dense(width, kernel_initializer=scaled, name=f"dense_{i + 1}")
            y = branch(dense(i, hidden_activation)(x))
            x = keras.layers.Add(name=f"block{b}_add")([x, y])
            x = keras.layers.Activation(hidden_activation, name=f"block{b}_out")(x)
    else:
        for i in range(2, depth):
            x = dense(i, hidden_activation)(x)
    outputs = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    kind = "residual" if residual else str(hidden_activation if isinstance(hidden_activation, str) else "custom")
    return keras.Model(inputs, outputs, name=check_name(name, f"deep_mlp_{kind}_{depth}"))


# The activations compared in L002/L004, each as the layer that applies it after a linear Dense.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu", "softplus", "softsign")
# Glorot & Bengio (2010)'s "standard" initialisation U[-1/sqrt(fan_in), 1/sqrt(fan_in)]: variance 1/(3 fan_in).
STANDARD_INIT = "standard"


def _activation_layer(activation, name):
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.01, name=name)  # the lecture's 0.01, not Keras' 0.2
    if activation == "prelu":
        return keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25), name=name)  # He et al. 2015
    return keras.layers.Activation(activation, name=name)


def _initializer(activation, kernel_initializer):
    if kernel_initializer is None:
        return "lecun_normal" if activation == "selu" else "glorot_uniform"  # SELU's self-normalising init
    if kernel_initializer == STANDARD_INIT:
        return keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform")
    return kernel_initializer


@register_model(lecture="L002, L004", family="mlp", expected_params=269322)
def activation_mlp(
    activation="relu",
    hidden_units=(256, 256),
    input_shape=None,
    num_classes=10,
    classifier_activation="softmax",
    kernel_initializer=None,
    name=None,
):
    """The activation-comparison MLP: Flatten → [Dense(h) → activation layer]* → Dense(num_classes).

    ``activation`` is one of ``ACTIVATIONS``: leaky_relu has slope 0.01 (the lecture's; Keras' default
    is 0.2) and prelu learns one slope per unit (from 0.25). The activation is its own layer
    (``act_1``, ``act_2``, ...), so callbacks such as DeadReLUDetector see it. ``kernel_initializer``
    defaults to LeCun-normal for SELU (its fixed point needs it) and Glorot-uniform otherwise;
    ``"standard"`` is Glorot & Bengio's U[-1/√fan_in, 1/√fan_in].
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"`activation` must be one of {list(ACTIVATIONS)}, got {activation!r}.")
    input_shape = check_input_shape(input_shape, MNIST_SHAPE)
    if isinstance(hidden_units, int):
        hidden_units = (hidden_units,)
    try:
        hidden_units = check_layer_count(hidden_units)
    except TypeError:
        raise ValueError(
            f"`hidden_units` must be an integer or a sequence of integers, got {hidden_units!r}."
        ) from None
    num_classes = check_positive_int(num_classes, "num_classes")
    classifier_activation = check_classifier_activation(classifier_activation, num_classes)
    init = _initializer(activation, kernel_initializer)
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(units, kernel_initializer=init, name=f"dense_{i}")(x)
        x = _activation_layer(activation, f"act_{i}")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=classifier_activation, kernel_initializer=init, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=check_name(name, f"activation_mlp_{activation}"))


@register_model(lecture="L003, L004", family="mlp", expected_params=2913290)
def regularized_mlp(
    hidden_units=(1024, 1024, 1024),
    input_dropout=0.0,
    dropout_rate=0.0,
    l1=0.0,
    l2=0.0,
    max_norm=None,
    batch_norm=False,
    input_shape=None,
    num_classes=10,
    classifier_activation="softmax",
    name=None,
):
    """The over-parameterised ReLU MLP of the regularisation lessons, each regulariser a switch.

    ``input_dropout``/``dropout_rate``: Dropout on the inputs / after each hidden layer (Srivastava et
    al. 2014 use 0.2 / 0.5); ``l1``, ``l2``: kernel penalties on every Dense; ``max_norm``: a bound c
    on each unit's incoming weight vector (``keras.constraints.MaxNorm``); ``batch_norm``: BatchNorm
    between each hidden Dense and its ReLU (the Dense then has no bias). Defaults: no regulariser.
    """
    input_shape = check_input_shape(input_shape, MNIST_SHAPE)
    if isinstance(hidden_units, int):
        hidden_units = (hidden_units,)
    try:
        hidden_units = check_layer_count(hidden_units)
    except TypeError:
        raise ValueError(
            f"`hidden_units` must be an integer or a sequence of integers, got {hidden_units!r}."
        ) from None
    input_dropout = check_rate(input_dropout, "input_dropout")
    dropout_rate = check_rate(dropout_rate, "dropout_rate")
    for arg, value in (("l1", l1), ("l2", l2)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"`{arg}` must be a number >= 0, got {value!r}.")
    if max_norm is not None and (not isinstance(max_norm, (int, float)) or isinstance(max_norm, bool) or max_norm <= 0):
        raise ValueError(f"`max_norm` must be None or a number > 0, got {max_norm!r}.")
    num_classes = check_positive_int(num_classes, "num_classes")
    classifier_activation = check_classifier_activation(classifier_activation, num_classes)
    regularizer = keras.regularizers.L1L2(l1=float(l1), l2=float(l2)) if (l1 or l2) else None
    constraint = keras.constraints.MaxNorm(float(max_norm), axis=0) if max_norm else None

    def dense(units, name, **kw):
        return keras.layers.Dense(
            units,
            kernel_initializer="he_normal",
            kernel_regularizer=regularizer,
            kernel_constraint=constraint,
            name=name,
            **kw,
        )

    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    if input_dropout:
        x = keras.layers.Dropout(input_dropout, name="input_dropout")(x)
    for i, units in enumerate(hidden_units, start=1):
        x = dense(units, f"dense_{i}", use_bias=not batch_norm)(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
        x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
        if dropout_rate:
            x = keras.layers.Dropout(dropout_rate, name=f"dropout_{i}")(x)
    outputs = dense(num_classes, "predictions", activation=classifier_activation)(x)
    return keras.Model(inputs, outputs, name=check_name(name, "regularized_mlp"))
