"""Every registered model builds, has the right output shape, counts and round-trips through .keras."""

import keras
import numpy as np
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.zoo.registry import register_model
from tests._small_models import LONG_BUILD, SLOW_BUILD, build_small, depth_marks

pytestmark = pytest.mark.every_backend

ALL_MODELS = zoo.list_models()
SWEEP = [pytest.param(n, marks=depth_marks(n, SLOW_BUILD, LONG_BUILD)) for n in ALL_MODELS]


def _sample_input(model, batch=3, seed=0):
    shape = (batch,) + tuple(model.input_shape[1:])
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape).astype("float32")


def test_registry_holds_every_lecture_model():
    expected = {
        "and_gate",
        "or_gate",
        "nand_gate",
        "not_gate",
        "and3_sigmoid",
        "festival_a",
        "festival_b",
        "perceptron",
        "xor_model1",
        "xor_model2",
        "xor_model3",
        "softmax_regression",
        "mnist_mlp_lecture",
        "mnist_mlp_1000",
        "mnist_mlp_keras",
        "fashion_mlp",
        "fashion_simplenet",
        "mnist_convnet",
        "circle_classifier",
        "universal_approximator",
    }
    assert expected <= set(ALL_MODELS)


@pytest.mark.parametrize("name", SWEEP)
def test_builds_with_expected_output_shape(name):
    model = build_small(name)
    assert isinstance(model, keras.Model)
    x = _sample_input(model)
    y = model.predict(x, verbose=0)
    assert y.shape == (3,) + tuple(model.output_shape[1:])
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("name", [n for n in ALL_MODELS if zoo.get_entry(n).expected_params is not None])
def test_parameter_count(name):
    assert zoo.build(name).count_params() == zoo.get_entry(name).expected_params


@pytest.mark.parametrize(
    "name,params",
    [
        ("mnist_mlp_1000", 795_010),
        ("softmax_regression", 7_850),
        ("fashion_simplenet", 421_642),
        ("mnist_convnet", 34_826),
    ],
)
def test_parameter_counts_from_the_references(name, params):
    assert zoo.build(name).count_params() == params


@pytest.mark.parametrize("name", SWEEP)
def test_keras_round_trip(name, tmp_path):
    model = build_small(name)
    x = _sample_input(model, seed=1)
    before = model.predict(x, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model)
    assert restored.name == model.name
    np.testing.assert_array_equal(restored.predict(x, verbose=0), before)
    for a, b in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_output_shape_follows_num_classes():
    assert zoo.build("fashion_simplenet", num_classes=7).output_shape == (None, 7)
    assert zoo.build("mnist_convnet", input_shape=(32, 32, 3)).output_shape == (None, 10)
    assert zoo.build("softmax_regression", input_shape=(784,)).count_params() == 7850


def test_list_models_wildcards():
    assert zoo.list_models("xor_model*") == ["xor_model1", "xor_model2", "xor_model3"]
    assert zoo.list_models("*mnist*") == ["mnist_convnet", "mnist_mlp_1000", "mnist_mlp_keras", "mnist_mlp_lecture"]
    assert zoo.list_models("no_such_*") == []
    assert zoo.list_models() == sorted(zoo.list_models())


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"Unknown model name 'fashion_simplnet'.*fashion_simplenet"):
        zoo.build("fashion_simplnet")
    with pytest.raises(ValueError, match="list_models"):
        zoo.build("zzzz")


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register_model(lambda: None, name="and_gate")


def test_list_models_rejects_non_string_pattern():
    with pytest.raises(TypeError, match="pattern"):
        zoo.list_models(3)
