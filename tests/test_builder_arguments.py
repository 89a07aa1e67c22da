"""Bad builder arguments raise ValueError naming the argument and what is allowed."""

import pytest

from keras_lecture_zoo import zoo

pytestmark = pytest.mark.every_backend


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("fashion_simplenet", {"num_classes": 0}, r"`num_classes` must be an integer from 1 to 100,000, got 0"),
        (
            "fashion_simplenet",
            {"input_shape": (28, 28)},
            r"`input_shape` must be a tuple of 3 to 3 integers from 1 to 16,384",
        ),
        ("fashion_simplenet", {"input_shape": (2, 2, 1)}, r"`input_shape` needs height and width >= 4"),
        ("fashion_simplenet", {"dropout_rate": 1.5}, r"`dropout_rate` must be a number in \[0, 1\)"),
        ("fashion_simplenet", {"classifier_activation": "softplus"}, r"`classifier_activation` must be one of"),
        ("mnist_convnet", {"input_shape": (8, 8, 1)}, r"`input_shape` needs height and width >= 10"),
        (
            "mnist_mlp_keras",
            {"input_shape": (0, 28)},
            r"`input_shape` must be a tuple of 1 to 3 integers from 1 to 16,384",
        ),
        ("mnist_mlp_keras", {"input_shape": "28x28"}, r"`input_shape`"),
        ("mlp", {"hidden_units": (32, 0)}, r"`hidden_units` must be an integer from 1 to 65,536, got 0"),
        ("mlp", {"hidden_units": "wide"}, r"`hidden_units`"),
        ("mlp", {"hidden_activation": "nope"}, r"`hidden_activation` must be a Keras activation name"),
        ("softmax_regression", {"num_classes": 1, "classifier_activation": "softmax"}, r"use 'sigmoid'"),
        ("universal_approximator", {"width": 0}, r"`width` must be an integer from 1 to 65,536, got 0"),
        ("xor_mlp", {"hidden_units": -2}, r"`hidden_units` must be an integer from 1 to 65,536"),
        ("xor_model1", {"seed": -1}, r"`seed` must be an integer from 0 to 4,294,967,295"),
        ("circle_classifier", {"radius": -1}, r"`radius` must be a positive number"),
        ("and_gate", {"name": ""}, r"`name` must be a non-empty string"),
    ],
)
def test_bad_arguments_raise_value_error(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        zoo.build(name, **kwargs)


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("deep_mlp", {"depth": 10**6}, r"`depth` must be an integer from 2 to 2,000, got 1000000"),
        ("deep_mlp", {"width": 10**9}, r"`width` must be an integer from 1 to 65,536"),
        ("mlp", {"hidden_units": (8,) * 1001}, r"`hidden_units` must list at most 1,000 hidden layers, got 1,001"),
        ("mlp", {"hidden_units": 10**7}, r"`hidden_units` must be an integer from 1 to 65,536"),
        ("mnist_mlp_keras", {"input_shape": (10**6,)}, r"integers from 1 to 16,384"),
        ("wrn", {"depth": 10**6}, r"`depth` must be an integer from 10 to 2,000"),
        ("fashion_simplenet", {"num_classes": 10**9}, r"`num_classes` must be an integer from 1 to 100,000"),
    ],
)
def test_every_size_argument_is_bounded_before_anything_is_allocated(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        zoo.build(name, **kwargs)


def test_the_readme_states_the_size_limits():
    from pathlib import Path

    from keras_lecture_zoo.zoo.validation import SIZE_LIMITS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name, limit in SIZE_LIMITS.items():
        assert f"`{name}` ≤ {limit:,}" in readme, name


def test_unexpected_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        zoo.build("and_gate", num_classes=3)


def test_builders_accept_a_custom_name():
    assert zoo.build("mnist_mlp_lecture", name="mine").name == "mine"
