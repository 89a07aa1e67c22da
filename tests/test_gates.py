"""Exact truth tables of the hand-set gates, the perceptron rule, the XOR MLPs and the circle classifier."""

import keras
import numpy as np
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.zoo import data

pytestmark = pytest.mark.every_backend


def _predict(model, x):
    return model.predict(x, verbose=0).reshape(-1)


@pytest.mark.parametrize(
    "name,gate,z_expected",
    [
        ("and_gate", "and", [-2, -1, -1, 0]),
        ("or_gate", "or", [-1, 0, 0, 1]),
        ("nand_gate", "nand", [3, 1, 1, -1]),
        ("not_gate", "not", [0, -1]),
        ("festival_a", "festival_a", [-2, -1, -1, 0, -1, 0, 0, 1]),
        ("festival_b", "festival_b", [-11, -1, -10, 0, -10, 0, -9, 1]),
    ],
)
def test_step_gates_truth_tables(name, gate, z_expected):
    x, y = data.truth_table(gate)
    model = zoo.build(name)
    z = keras.Model(model.input, model.get_layer("z").output).predict(x, verbose=0).reshape(-1)
    np.testing.assert_array_equal(z, np.array(z_expected, "float32"))
    np.testing.assert_array_equal(_predict(model, x), y.reshape(-1))


def test_lecture_gate_outputs_spelled_out():
    x, _ = data.truth_table("and")
    np.testing.assert_array_equal(_predict(zoo.and_gate(), x), [0, 0, 0, 1])
    np.testing.assert_array_equal(_predict(zoo.or_gate(), x), [0, 1, 1, 1])
    x3, _ = data.truth_table("festival_a")
    # (a): yes iff at least two factors; (b): yes iff factor 3 and at least one other
    np.testing.assert_array_equal(_predict(zoo.festival_a(), x3), [0, 0, 0, 1, 0, 1, 1, 1])
    np.testing.assert_array_equal(_predict(zoo.festival_b(), x3), [0, 0, 0, 1, 0, 1, 0, 1])


def test_and3_sigmoid_table_to_three_decimals():
    x, _ = data.truth_table("and", 3)
    got = np.round(_predict(zoo.and3_sigmoid(), x), 3)
    # L003's table (its row 110 is missing in the slides; σ(-0.5) = 0.378)
    np.testing.assert_array_equal(got, np.array([0.076, 0.182, 0.182, 0.378, 0.182, 0.378, 0.378, 0.622], "float32"))


def test_step_layer_values_and_validation():
    out = zoo.Step(low=-1.0)(np.array([[-0.5, 0.0, 2.0]], "float32"))
    np.testing.assert_array_equal(np.asarray(out), [[-1.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match="`low` must be smaller than `high`"):
        zoo.Step(low=1.0, high=1.0)


@pytest.mark.parametrize("gate", ["and", "or"])
def test_perceptron_rule_converges_on_linearly_separable_gates(gate):
    x, y = data.truth_table(gate)
    t = 2 * y - 1  # ±1 targets
    model = zoo.perceptron()
    model.compile()
    history = model.fit(x, t, batch_size=1, epochs=20, shuffle=False, verbose=0)
    errors = history.history["errors"]
    assert errors[-1] == 0
    np.testing.assert_array_equal(_predict(model, x), t.reshape(-1))


def test_perceptron_rule_never_converges_on_xor():
    x, y = data.xor()
    model = zoo.perceptron()
    model.compile()
    history = model.fit(x, 2 * y - 1, batch_size=1, epochs=30, shuffle=False, verbose=0)
    assert min(history.history["errors"]) > 0


def test_perceptron_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`learning_rate` must be a positive number"):
        zoo.perceptron(learning_rate=0)
    with pytest.raises(ValueError, match="`input_dim` must be an integer from 1 to 1,000,000"):
        zoo.perceptron(input_dim=0)


def test_xor_initializer_is_the_lectures_normal():
    model = zoo.xor_model3(seed=7)
    kernel = model.get_layer("hidden").kernel.numpy()
    assert kernel.shape == (2, 3)
    assert np.all(np.abs(kernel - 0.75) < 0.05)
    np.testing.assert_array_equal(kernel, zoo.xor_model3(seed=7).get_layer("hidden").kernel.numpy())
    assert not np.array_equal(kernel, zoo.xor_model3(seed=8).get_layer("hidden").kernel.numpy())


def test_xor_models_activations():
    assert zoo.xor_model1().get_layer("hidden").activation.__name__ == "sigmoid"
    assert zoo.xor_model2().get_layer("hidden").activation.__name__ == "relu"
    assert zoo.xor_model3().get_layer("hidden").units == 3


def test_circle_classifier_separates_the_circle_data():
    x, y = data.circle(500, seed=3)
    np.testing.assert_array_equal(_predict(zoo.circle_classifier(), x), y.reshape(-1))
    x2, y2 = data.circle(500, radius=0.5, seed=4)
    np.testing.assert_array_equal(_predict(zoo.circle_classifier(radius=0.5), x2), y2.reshape(-1))
