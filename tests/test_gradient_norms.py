"""GradientNormMonitor: exact gradient norms, logs, records and argument errors."""

import math

import keras
import numpy as np
import pytest

from keras_lecture_zoo.callbacks import GradientNormMonitor, kernel_gradient_norms

pytestmark = pytest.mark.every_backend

RNG = np.random.default_rng(0)


def _linear(units_in=3, units_out=2):
    inputs = keras.Input((units_in,))
    return keras.Model(inputs, keras.layers.Dense(units_out, use_bias=False, name="lin")(inputs))


def test_norm_equals_the_closed_form_mse_gradient():
    model = _linear()
    x, y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 2))
    w = model.get_layer("lin").kernel.numpy().astype("float64")
    expected = np.linalg.norm(2.0 / (8 * 2) * x.T @ (x @ w - y))  # L = mean over samples and outputs
    norms = kernel_gradient_norms(model, x.astype("float32"), y.astype("float32"), "mse")
    assert list(norms) == ["lin"]
    assert norms["lin"] == pytest.approx(expected, rel=1e-5)


def test_callback_records_and_logs_every_checked_epoch():
    keras.utils.set_random_seed(1)
    inputs = keras.Input((4,))
    h = keras.layers.Dense(6, activation="sigmoid", name="dense_a")(inputs)
    h = keras.layers.Dense(6, activation="sigmoid", name="dense_b")(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(h))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = RNG.normal(size=(32, 4)).astype("float32"), RNG.integers(0, 3, 32)
    monitor = GradientNormMonitor((x, y), layers=["dense_*"], batch_size=16, frequency=2)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[monitor])
    assert [r["epoch"] for r in monitor.records] == [0, 2, 4]
    assert list(monitor.records[0]["norms"]) == ["dense_a", "dense_b"]
    logged = history.history["grad_norm/dense_a"]
    assert math.isnan(logged[0]) and math.isnan(logged[2])
    assert logged[1] == monitor.records[1]["norms"]["dense_a"]
    ratio = history.history["grad_norm_ratio"][3]
    assert ratio == pytest.approx(monitor.records[2]["norms"]["dense_a"] / monitor.records[2]["norms"]["dense_b"])
    # the callback's numbers are the plain function's on the same batch
    assert monitor.records[2]["norms"] == kernel_gradient_norms(model, x[:16], y[:16], model.loss, ["dense_*"])


def test_deep_sigmoid_gradients_shrink_toward_the_input():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((20,))
    h = inputs
    for i in range(10):
        h = keras.layers.Dense(32, activation="sigmoid", name=f"dense_{i}")(h)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(h))
    norms = kernel_gradient_norms(
        model,
        RNG.normal(size=(64, 20)).astype("float32"),
        RNG.integers(0, 2, 64),
        "sparse_categorical_crossentropy",
        ["dense_*"],
    )
    values = list(norms.values())
    assert values[0] < values[-1] / 100  # sigmoid' <= 1/4 per layer


def test_argument_errors():
    with pytest.raises(ValueError, match="`data` must be an \\(x, y\\) tuple"):
        GradientNormMonitor(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="`frequency` must be an integer >= 1"):
        GradientNormMonitor((np.zeros((2, 2)), np.zeros(2)), frequency=0)
    with pytest.raises(ValueError, match="`layers` must be None or a list of glob patterns"):
        GradientNormMonitor((np.zeros((2, 2)), np.zeros(2)), layers="dense_*")
    with pytest.raises(ValueError, match="matches `layers`"):
        kernel_gradient_norms(_linear(), np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32"), "mse", ["conv*"])
