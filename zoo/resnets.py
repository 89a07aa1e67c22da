"""Residual and dense networks (L004): ResNet/plain CIFAR nets, Wide ResNet, ResNeXt-29 and DenseNet-BC.

Blocks are functions that add named layers to a functional graph (as keras.applications does), so
every model serializes to ``.keras``. The CIFAR design (He et al. 2016, section 4.2): a 3×3 conv with
16 filters, three stages of ``n`` blocks at 16/32/64 filters (stride 2 at the start of stages 2 and 3),
global average pooling and a dense classifier; depth = 6n + 2. BatchNorm layers are
:class:`zoo.layers.BatchNormalization`: Keras' layer (same name, weights and maths) with TensorFlow's fused
kernel in training.
"""

from __future__ import annotations

import keras

from keras_lecture_zoo.zoo.convnets import _classifier, _image_input
from keras_lecture_zoo.zoo.layers import BatchNormalization, ZeroPadShortcut
from keras_lecture_zoo.zoo.registry import register_model
from keras_lecture_zoo.zoo.validation import check_choice, check_name, check_positive_int, check_rate

__all__ = [
    "basic_block",
    "bottleneck_block",
    "dense_layer",
    "dense_block",
    "transition_layer",
    "resnet_cifar",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
    "plain20",
    "plain32",
    "plain44",
    "plain56",
    "plain110",
    "wrn",
    "resnext29",
    "densenet_bc",
]

CIFAR_SHAPE = (32, 32, 3)


# --------------------------------------------------------------------------- building pieces


def _conv(x, filters, kernel, stride=1, groups=1, name=None):
    return keras.layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding="same",
        use_bias=False,
        groups=groups,
        kernel_initializer="he_normal",
        name=name,
    )(x)


def _bn_relu(x, name):
    x = BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.Activation("relu", name=f"{name}_relu")(x)


def _shortcut(x, filters, stride, kind, preact, name):
    """Identity when shapes match; else option A (subsample + zero channels) or B (1×1 projection)."""
    if stride == 1 and x.shape[-1] == filters:
        return x
    if kind == "A":
        return ZeroPadShortcut(filters, stride, name=f"{name}_pad")(x)
    s = _conv(x, filters, 1, stride, name=f"{name}_proj")
    return s if preact else BatchNormalization(name=f"{name}_proj_bn")(s)


def basic_block(x, filters, stride=1, *, preact=False, shortcut="A", dropout_rate=0.0, plain=False, name="block"):
    """Two 3×3 convolutions with a shortcut: post-activation (v1, conv-BN-ReLU) or pre-activation
    (v2, BN-ReLU-conv; Wide ResNet's block with ``dropout_rate`` between the convolutions).
    ``plain=True`` drops the shortcut (the "plain" counterpart of the same stack)."""
    check_choice(shortcut, "shortcut", ("A", "B"))
    if preact:
        pre = _bn_relu(x, f"{name}_pre")
        y = _conv(pre, filters, 3, stride, name=f"{name}_conv1")
        y = _bn_relu(y, f"{name}_mid")
        if dropout_rate:
            y = keras.layers.Dropout(dropout_rate, name=f"{name}_dropout")(y)
        y = _conv(y, filters, 3, name=f"{name}_conv2")
        if plain:
            return y
        needs = stride != 1 or x.shape[-1] != filters
        s = _shortcut(pre if needs else x, filters, stride, shortcut, True, name)
        return keras.layers.Add(name=f"{name}_add")([s, y])
    y = _conv(x, filters, 3, stride, name=f"{name}_conv1")
    y = _bn_relu(y, f"{name}_1")
    if dropout_rate:
        y = keras.layers.Dropout(dropout_rate, name=f"{name}_dropout")(y)
    y = _conv(y, filters, 3, name=f"{name}_conv2")
    y = BatchNormalization(name=f"{name}_2_bn")(y)
    if not plain:
        y = keras.layers.Add(name=f"{name}_add")([_shortcut(x, filters, stride, shortcut, False, name), y])
    return keras.layers.Activation("relu", name=f"{name}_out")(y)


def bottleneck_block(
    x, filters, stride=1, *, inner=None, groups=1, preact=False, shortcut="B", plain=False, name="block"
):
    """1×1 (reduce to ``inner``) → 3×3 (``groups`` groups: ResNeXt's cardinality) → 1×1 (to ``filters``)."""
    check_choice(shortcut, "shortcut", ("A", "B"))
    inner = check_positive_int(inner or filters // 4, "inner")
    src = _bn_relu(x, f"{name}_pre") if preact else x
    y = _conv(src, inner, 1, name=f"{name}_conv1")
    y = _bn_relu(y, f"{name}_1")
    y = _conv(y, inner, 3, stride, groups=groups, name=f"{name}_conv2")
    y = _bn_relu(y, f"{name}_2")
    y = _conv(y, filters, 1, name=f"{name}_conv3")
    if not preact:
        y = BatchNormalization(name=f"{name}_3_bn")(y)
    if not plain:
        needs = stride != 1 or x.shape[-1] != filters
        s = _shortcut(src if (preact and needs) else x, filters, stride, shortcut, preact, name)
        y = keras.layers.Add(name=f"{name}_add")([s, y])
    return y if preact else keras.layers.Activation("relu", name=f"{name}_out")(y)


def dense_layer(x, growth_rate, *, bottleneck=True, dropout_rate=0.0, name="dense"):
    """DenseNet layer: [BN-ReLU-Conv1×1(4k)] → BN-ReLU-Conv3×3(k), concatenated to its input."""
    y = x
    if bottleneck:
        y = _conv(_bn_relu(y, f"{name}_0"), 4 * growth_rate, 1, name=f"{name}_conv1")
        if dropout_rate:
            y = keras.layers.Dropout(dropout_rate, name=f"{name}_dropout1")(y)
    y = _conv(_bn_relu(y, f"{name}_1"), growth_rate, 3, name=f"{name}_conv2")
    if dropout_rate:
        y = keras.layers.Dropout(dropout_rate, name=f"{name}_dropout2")(y)
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def dense_block(x, layers, growth_rate, *, bottleneck=True, dropout_rate=0.0, name="dense_block"):
    """``layers`` dense layers: the channels grow by ``growth_rate`` per layer."""
    for i in range(layers):
        x = dense_layer(x, growth_rate, bottleneck=bottleneck, dropout_rate=dropout_rate, name=f"{name}_layer{i + 1}")
    return x


def transition_layer(x, compression=0.5, *, name="transition"):
    """BN-ReLU-Conv1×1 to ⌊compression·C⌋ channels, then 2×2 average pooling."""
    x = _conv(_bn_relu(x, name), int(x.shape[-1] * compression), 1, name=f"{name}_conv")
    return keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def _head(x, num_classes, classifier_activation, preact_final):
    if preact_final:
        x = _bn_relu(x, "final")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return _classifier(x, num_classes, classifier_activation)


# --------------------------------------------------------------------------- builders


def resnet_cifar(
    depth=20,
    *,
    plain=False,
    version=1,
    shortcut="A",
    input_shape=None,
    num_classes=10,
    classifier_activation="softmax",
    name=None,
):
    """He et al.'s CIFAR ResNet of ``depth`` = 6n + 2 layers (basic blocks, 16-32-64 filters).

    ``version`` 1 is post-activation (the 2016 paper), 2 pre-activation; ``shortcut`` "A" is the
    paper's parameter-free zero-padding shortcut, "B" a 1×1 projection; ``plain=True`` removes
    every shortcut (the paper's plain baseline of the same depth).
    """
    depth = check_positive_int(depth, "depth", minimum=8)
    if (depth - 2) % 6:
        raise ValueError(f"`depth` must be 6n + 2 (20, 32, 44, 56, 110, ...), got {depth}.")
    version = check_choice(version, "version", (1, 2))
    n = (depth - 2) // 6
    inputs = _image_input(input_shape if input_shape is not None else CIFAR_SHAPE, 4)
    x = _conv(inputs, 16, 3, name="stem_conv")
    if version == 1:
        x = _bn_relu(x, "stem")
    for stage, filters in enumerate((16, 32, 64)):
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            x = basic_block(
                x,
                filters,
                stride,
                preact=version == 2,
                shortcut=shortcut,
                plain=plain,
                name=f"stage{stage + 1}_block{b + 1}",
            )
    outputs = _head(x, num_classes, classifier_activation, preact_final=version == 2)
    default = f"{'plain' if plain else 'resnet'}{depth}"
    return keras.Model(inputs, outputs, name=check_name(name, default))


def _cifar_builder(depth, plain):
    kind = "plain" if plain else "resnet"

    def builder(input_shape=None, num_classes=10, classifier_activation="softmax", version=1, shortcut="A", name=None):
        return resnet_cifar(
            depth,
            plain=plain,
            version=version,
            shortcut=shortcut,
            input_shape=input_shape,
            num_classes=num_classes,
            classifier_activation=classifier_activation,
            name=name,
        )

    builder.__name__ = builder.__qualname__ = f"{kind}{depth}"
    builder.__doc__ = (
        f"{'Plain (no shortcuts)' if plain else 'ResNet'}-{depth} for CIFAR-style inputs "
        f"({(depth - 2) // 6} basic blocks per stage); see ``resnet_cifar``."
    )
    return register_model(lecture="L004", family="resnets")(builder)


resnet20, resnet32, resnet44, resnet56, resnet110 = (_cifar_builder(d, False) for d in (20, 32, 44, 56, 110))
plain20, plain32, plain44, plain56, plain110 = (_cifar_builder(d, True) for d in (20, 32, 44, 56, 110))


@register_model(lecture="L004", family="resnets")
def wrn(
    depth=28,
    widen_factor=10,
    dropout_rate=0.0,
    input_shape=None,
    num_classes=10,
    classifier_activation="softmax",
    name=None,
):
    """Wide ResNet WRN-depth-k (Zagoruyko & Komodakis 2016), 36.5M parameters at 28-10.

    Pre-activation basic blocks at 16k/32k/64k filters, (depth − 4)/6 per stage, projection
    shortcuts, optional dropout between the convolutions.
    """
    depth = check_positive_int(depth, "depth", minimum=10)
    if (depth - 4) % 6:
        raise ValueError(f"`depth` must be 6n + 4 (10, 16, 22, 28, 40, ...), got {depth}.")
    k = check_positive_int(widen_factor, "widen_factor")
    dropout_rate = check_rate(dropout_rate, "dropout_rate")
    n = (depth - 4) // 6
    inputs = _image_input(input_shape if input_shape is not None else CIFAR_SHAPE, 4)
    x = _conv(inputs, 16, 3, name="stem_conv")
    for stage, filters in enumerate((16 * k, 32 * k, 64 * k)):
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            x = basic_block(
                x,
                filters,
                stride,
                preact=True,
                shortcut="B",
                dropout_rate=dropout_rate,
                name=f"stage{stage + 1}_block{b + 1}",
            )
    outputs = _head(x, num_classes, classifier_activation, preact_final=True)
    return keras.Model(inputs, outputs, name=check_name(name, f"wrn_{depth}_{k}"))


@register_model(lecture="L004", family="resnets")
def resnext29(cardinality=8, width=64, input_shape=None, num_classes=10, classifier_activation="softmax", name=None):
    """ResNeXt-29 cardinality×width-d (Xie et al. 2017, CIFAR), 34.4M parameters at 8×64d.

    A 64-filter stem, three stages of three bottleneck blocks with ``cardinality`` groups of
    ``width`` channels (doubling per stage) and outputs 256/512/1024.
    """
    cardinality = check_positive_int(cardinality, "cardinality")
    width = check_positive_int(width, "width")
    inputs = _image_input(input_shape if input_shape is not None else CIFAR_SHAPE, 4)
    x = _bn_relu(_conv(inputs, 64, 3, name="stem_conv"), "stem")
    for stage in range(3):
        for b in range(3):
            x = bottleneck_block(
                x,
                256 * 2**stage,
                2 if stage > 0 and b == 0 else 1,
                inner=cardinality * width * 2**stage,
                groups=cardinality,
                shortcut="B",
                name=f"stage{stage + 1}_block{b + 1}",
            )
    outputs = _head(x, num_classes, classifier_activation, preact_final=False)
    return keras.Model(inputs, outputs, name=check_name(name, f"resnext29_{cardinality}x{width}d"))


@register_model(lecture="L004", family="resnets")
def densenet_bc(
    depth=100,
    growth_rate=12,
    compression=0.5,
    dropout_rate=0.0,
    input_shape=None,
    num_classes=10,
    classifier_activation="softmax",
    name=None,
):
    """DenseNet-BC L=depth, growth rate k (Huang et al. 2017, CIFAR), 0.77M parameters at L=100, k=12.

    A 2k-filter stem, three dense blocks of (depth − 4)/6 bottleneck layers with growth rate k,
    transitions compressing by ``compression``.
    """
    depth = check_positive_int(depth, "depth", minimum=10)
    if (depth - 4) % 6:
        raise ValueError(f"`depth` must be 6n + 4 (40, 100, 190, 250, ...), got {depth}.")
    k = check_positive_int(growth_rate, "growth_rate")
    if not 0 < compression <= 1:
        raise ValueError(f"`compression` must be in (0, 1], got {compression!r}.")
    dropout_rate = check_rate(dropout_rate, "dropout_rate")
    n = (depth - 4) // 6
    inputs = _image_input(input_shape if input_shape is not None else CIFAR_SHAPE, 4)
    x = _conv(inputs, 2 * k, 3, name="stem_conv")
    for i in range(3):
        x = dense_block(x, n, k, dropout_rate=dropout_rate, name=f"block{i + 1}")
        if i < 2:
            x = transition_layer(x, compression, name=f"transition{i + 1}")
    outputs = _head(x, num_classes, classifier_activation, preact_final=True)
    return keras.Model(inputs, outputs, name=check_name(name, f"densenet_bc_{depth}_{k}"))
