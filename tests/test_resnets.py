"""The residual and dense family: parameter counts, blocks, shortcuts, input shapes and argument errors."""

import keras
import numpy as np
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.zoo import layers as zlayers
from keras_lecture_zoo.zoo.layers import ZeroPadShortcut
from tests._small_models import SMALL_KWARGS

pytestmark = pytest.mark.every_backend


def _trainable(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


# Trainable parameters for 32×32×3 input and 10 classes. The exact values are those of the papers'
# reference implementations (option-A CIFAR ResNets, DenseNet-BC-100-12, WRN-28-10, ResNeXt-29 8×64d);
# the papers print them rounded to the given number of decimals of a million (the second and third).
COUNTS = {
    "resnet20": (269_722, 0.27, 2),
    "resnet32": (464_154, 0.46, 2),
    "resnet44": (658_586, 0.66, 2),
    "resnet56": (853_018, 0.85, 2),
    "resnet110": (1_727_962, 1.7, 1),
    "densenet_bc": (769_162, 0.8, 1),
    "wrn": (36_479_194, 36.5, 1),
    "resnext29": (34_426_698, 34.4, 1),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_counts(name):
    exact, paper, decimals = COUNTS[name]
    model = zoo.build(name)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert _trainable(model) == exact
    assert round(exact / 1e6, decimals) == pytest.approx(paper)  # the paper's rounded figure


@pytest.mark.parametrize("name", ["resnet20", "resnet32", "resnet44", "resnet56", "wrn", "resnext29"])
def test_within_one_percent_of_the_paper(name):
    """ResNet-110 (1.728M vs "1.7M") and DenseNet-BC (0.769M vs "0.8M") are 1.6% and 3.9% off the
    rounded figures with the papers' exact architectures, so they are held to the rounding above."""
    exact, paper, _ = COUNTS[name]
    assert abs(exact - paper * 1e6) / (paper * 1e6) < 0.01


def test_plain_nets_match_resnets_without_shortcut_parameters():
    for depth in (20, 56):
        res, plain = zoo.build(f"resnet{depth}"), zoo.build(f"plain{depth}")
        assert _trainable(res) == _trainable(plain)  # option A shortcuts have no parameters
        assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
        assert sum(isinstance(layer, keras.layers.Add) for layer in res.layers) == 3 * (depth - 2) // 6
    conv_layers = [layer for layer in zoo.build("plain20").layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(conv_layers) == 19  # + the dense layer = 20 weighted layers


def test_projection_shortcuts_and_preactivation():
    a = zoo.resnet_cifar(20)
    b = zoo.resnet_cifar(20, shortcut="B")
    v2 = zoo.resnet_cifar(20, version=2, shortcut="B")
    # option B adds two 1×1 projections with BN: 16·32 + 2·32 and 32·64 + 2·64 trainable parameters
    assert _trainable(b) - _trainable(a) == 16 * 32 + 2 * 32 + 32 * 64 + 2 * 64
    assert v2.layers[2].name == "stage1_block1_pre_bn"  # BN-ReLU before the first conv of a block
    assert v2.get_layer("final_bn") is not None


def test_zero_pad_shortcut_values():
    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    y = np.asarray(ZeroPadShortcut(7, 2)(x))
    assert y.shape == (2, 2, 2, 7)
    np.testing.assert_array_equal(y[..., 2:5], x[:, ::2, ::2, :])
    assert not y[..., :2].any() and not y[..., 5:].any()
    assert ZeroPadShortcut(7, 2).compute_output_shape((None, 5, 5, 3)) == (None, 3, 3, 7)


def _np(tensor):
    """A backend tensor or variable as NumPy (PyTorch's tensors that require grad included)."""
    return keras.ops.convert_to_numpy(tensor)


def _bn_pair(rng, channels, **kwargs):
    """keras.layers.BatchNormalization and zoo.layers.BatchNormalization with the same random gamma and beta."""
    pair = keras.layers.BatchNormalization(**kwargs), zlayers.BatchNormalization(**kwargs)
    gamma, beta = rng.normal(1, 0.2, channels).astype("float32"), rng.normal(0, 0.2, channels).astype("float32")
    for layer in pair:
        layer.build((None, 5, 5, channels))
        if layer.scale:
            layer.gamma.assign(gamma)
        if layer.center:
            layer.beta.assign(beta)
    return pair


@pytest.mark.parametrize("kwargs", [{}, {"scale": False}, {"center": False, "momentum": 0.5, "epsilon": 1e-4}])
def test_zoo_batchnorm_matches_keras_in_training_and_inference(kwargs):
    """Outputs and moving averages (the biased batch variance, as Keras keeps it) after three training calls,
    then inference with them, agree with Keras' layer to float32 round-off."""
    rng = np.random.default_rng(0)
    keras_bn, zoo_bn = _bn_pair(rng, 6, **kwargs)
    for _ in range(3):
        x = rng.normal(2, 3, (8, 5, 5, 6)).astype("float32")
        np.testing.assert_allclose(_np(zoo_bn(x, training=True)), _np(keras_bn(x, training=True)), rtol=1e-5, atol=2e-6)
    for name in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(_np(getattr(zoo_bn, name)), _np(getattr(keras_bn, name)), rtol=1e-6)
    assert float(np.min(_np(zoo_bn.moving_variance))) > 1.1  # the averages moved toward 9 (Keras starts at 1)
    np.testing.assert_allclose(_np(zoo_bn(x, training=False)), _np(keras_bn(x, training=False)), rtol=1e-5, atol=2e-6)


def _fused_ops(layer, x, training=True):
    import tensorflow as tf

    graph = tf.function(lambda t: layer(t, training=training)).get_concrete_function(tf.constant(x)).graph
    return [op.type for op in graph.get_operations() if op.type.startswith("FusedBatchNorm")]


def test_zoo_batchnorm_trains_through_the_fused_kernel_with_keras_gradients():
    """On TensorFlow a training call is one FusedBatchNormV3, whose gradients for the input, gamma and beta
    are Keras' layer's; inference, 2-D inputs, float64 and an epsilon below the kernel's floor take Keras'
    own path."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the fused kernel is TensorFlow's; other backends run Keras' layer unchanged")
    import tensorflow as tf

    rng = np.random.default_rng(1)
    keras_bn, zoo_bn = _bn_pair(rng, 4)
    x = tf.constant(rng.normal(0, 2, (6, 5, 5, 4)).astype("float32"))
    w = tf.constant(rng.normal(size=(6, 5, 5, 4)).astype("float32"))
    grads = []
    for layer in (keras_bn, zoo_bn):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=True) * w)
        grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    for want, got in zip(*grads):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5 * float(np.abs(want).max()))
    assert _fused_ops(zoo_bn, x) == ["FusedBatchNormV3"]
    assert _fused_ops(keras_bn, x) == []
    assert _fused_ops(zoo_bn, x, training=False) == []
    assert _fused_ops(zlayers.BatchNormalization(epsilon=1e-6), x) == []
    assert _fused_ops(zlayers.BatchNormalization(), rng.normal(size=(6, 4)).astype("float32")) == []
    assert _fused_ops(zlayers.BatchNormalization(dtype="float64"), x.numpy().astype("float64")) == []


def test_resnets_use_the_zoo_batchnorm_and_keep_it_through_dot_keras(tmp_path):
    model = zoo.build("resnet20", input_shape=(8, 8, 3))
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 19 and all(type(layer) is zlayers.BatchNormalization for layer in bns)
    model.save(tmp_path / "r.keras")
    loaded = keras.saving.load_model(tmp_path / "r.keras")
    assert type(loaded.get_layer(bns[0].name)) is zlayers.BatchNormalization
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))


def test_resnext_uses_grouped_convolutions_and_densenet_grows_by_k():
    m = zoo.resnext29(cardinality=4, width=8, input_shape=(8, 8, 3))
    grouped = [layer for layer in m.layers if isinstance(layer, keras.layers.Conv2D) and layer.groups > 1]
    assert len(grouped) == 9 and all(layer.groups == 4 for layer in grouped)
    assert m.get_layer("stage1_block1_conv2").filters == 4 * 8
    d = zoo.densenet_bc(depth=40, growth_rate=12, input_shape=(8, 8, 3))
    # 6 bottleneck layers per block; the stem has 2k channels, each layer adds k, transitions halve
    assert d.get_layer("block1_layer6_concat").output.shape[-1] == 24 + 6 * 12
    assert d.get_layer("transition1_conv").filters == (24 + 6 * 12) // 2


def test_wrn_width_and_dropout():
    m = zoo.wrn(depth=16, widen_factor=4, dropout_rate=0.3, input_shape=(8, 8, 3))
    assert m.get_layer("stage3_block2_conv2").filters == 64 * 4
    assert m.get_layer("stage1_block1_dropout").rate == 0.3


@pytest.mark.parametrize("name", ["resnet20", "plain20", "wrn", "resnext29", "densenet_bc"])
def test_fashion_mnist_shape(name):
    model = zoo.build(name, **{**SMALL_KWARGS[name], "input_shape": (28, 28, 1)})
    y = model.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0)
    assert y.shape == (2, 10)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: zoo.resnet_cifar(21), r"`depth` must be 6n \+ 2"),
        (lambda: zoo.resnet_cifar(20, shortcut="C"), r"`shortcut` must be one of \['A', 'B'\]"),
        (lambda: zoo.resnet_cifar(20, version=3), r"`version` must be one of \[1, 2\]"),
        (lambda: zoo.wrn(depth=27), r"`depth` must be 6n \+ 4"),
        (lambda: zoo.densenet_bc(compression=0), r"`compression` must be in \(0, 1\]"),
        (lambda: zoo.resnext29(cardinality=0), r"`cardinality`"),
        (lambda: zoo.resnet20(input_shape=(2, 2, 3)), r"`input_shape` needs height and width >= 4"),
    ],
)
def test_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_list_models_family():
    assert zoo.list_models("*resnet*") == ["resnet110", "resnet20", "resnet32", "resnet44", "resnet56"]
    assert zoo.list_models("plain*") == ["plain110", "plain20", "plain32", "plain44", "plain56"]
