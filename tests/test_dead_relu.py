"""DeadReLUDetector: exact dead masks, every ReLU form, any model type, logs, thresholds, streaming."""

import csv
import math

import keras
import numpy as np
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.callbacks import DeadReLUDetector

pytestmark = pytest.mark.every_backend

RNG = np.random.default_rng(0)


def _kill(layer, units):
    kernel, bias = layer.get_weights()
    bias[list(units)] = -1e4
    layer.set_weights([kernel, bias])


def test_dead_masks_match_a_direct_computation():
    model = zoo.fashion_simplenet()
    _kill(model.get_layer("conv1"), [0, 3, 7])
    _kill(model.get_layer("fc1"), range(10))
    x = RNG.uniform(0, 1, size=(200, 28, 28, 1)).astype("float32")
    det = DeadReLUDetector(x, batch_size=64)
    det.set_model(model)
    values = det.check(0)
    for name in ("conv1", "conv2", "fc1"):
        out = keras.Model(model.input, model.get_layer(name).output).predict(x, verbose=0)
        direct = out.reshape(-1, out.shape[-1]).max(axis=0) <= 0
        np.testing.assert_array_equal(det.dead_units(name), np.flatnonzero(direct))
        assert values[f"dead_relu/{name}"] == pytest.approx(direct.mean())
    assert {0, 3, 7} <= set(det.dead_units("conv1").tolist())
    assert set(range(10)) <= set(det.dead_units("fc1").tolist())
    total = sum(len(det.dead_units(n)) for n in ("conv1", "conv2", "fc1"))
    assert values["dead_relu_fraction"] == pytest.approx(total / (32 + 64 + 128))


def test_finds_every_relu_form_and_skips_units_that_cannot_die():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(3, activation="relu", name="dense_relu")(inputs)
    x = keras.layers.Dense(3, name="pre_act")(x)
    x = keras.layers.Activation("relu", name="act_relu")(x)
    x = keras.layers.ReLU(name="relu_layer")(x)
    x = keras.layers.Dense(3, activation="relu6", name="dense_relu6")(x)
    x = keras.layers.ReLU(max_value=6.0, name="relu_capped")(x)
    x = keras.layers.Dense(3, name="pre_leaky")(x)
    x = keras.layers.ReLU(negative_slope=0.1, name="leaky_relu_layer")(x)
    x = keras.layers.LeakyReLU(name="leaky")(x)
    x = keras.layers.Dense(3, activation="tanh", name="dense_tanh")(x)
    x = keras.layers.Reshape((3, 1))(x)
    x = keras.layers.Conv1D(2, 1, activation="relu", name="conv_relu")(x)
    model = keras.Model(inputs, keras.layers.Flatten()(x))
    det = DeadReLUDetector(np.ones((2, 4), "float32"))
    watched = {layer.name for layer, _ in det.watched_layers(model)}
    assert watched == {"dense_relu", "act_relu", "relu_layer", "dense_relu6", "relu_capped", "conv_relu"}
    dormant = DeadReLUDetector(np.ones((2, 4), "float32"), report_dormant=True)
    kinds = {layer.name: kind for layer, kind in dormant.watched_layers(model)}
    assert kinds["leaky_relu_layer"] == kinds["leaky"] == kinds["dense_tanh"] == "other"


def test_conv_units_are_channels():
    inputs = keras.Input((6, 6, 2))
    conv = keras.layers.Conv2D(4, 3, activation="relu", name="conv")
    model = keras.Model(inputs, conv(inputs))
    _kill(conv, [1, 2])
    det = DeadReLUDetector(RNG.normal(size=(10, 6, 6, 2)).astype("float32"))
    det.set_model(model)
    det.check(0)
    assert det.summary()[0]["units"] == 4
    assert set(det.dead_units("conv").tolist()) >= {1, 2}


class SubclassedNet(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu", name="hidden")
        self.relu = keras.layers.ReLU(name="relu")
        self.mid = keras.layers.Dense(8, name="mid")
        self.out = keras.layers.Dense(2, name="out")

    def call(self, x):
        return self.out(self.relu(self.mid(self.hidden(x))))


def test_subclassed_and_nested_models():
    x = RNG.normal(size=(32, 5)).astype("float32")
    sub = SubclassedNet()
    sub(x)
    _kill(sub.hidden, range(4))
    det = DeadReLUDetector(x)
    det.set_model(sub)
    det.check(0)
    assert set(range(4)) <= set(det.dead_units("hidden").tolist())
    inner = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(6, activation="relu", name="inner_dense")], name="inner"
    )
    inputs = keras.Input((5,))
    nested = keras.Model(inputs, keras.layers.Dense(1)(inner(inputs)))
    _kill(inner.get_layer("inner_dense"), [5])
    det = DeadReLUDetector(x)
    det.set_model(nested)
    det.check(0)
    assert 5 in det.dead_units("inner_dense")
    assert "call" not in inner.get_layer("inner_dense").__dict__  # the probe leaves no trace


def test_keras_applications_model():
    model = keras.applications.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=10)
    det = DeadReLUDetector(RNG.uniform(size=(8, 32, 32, 3)).astype("float32"), batch_size=4)
    det.set_model(model)
    values = det.check(0)
    relu_layers = [k for k in values if k.startswith("dead_relu/")]
    assert len(relu_layers) == 27  # MobileNet v1: ReLU(6) after the stem and after each of 13 dw/pw pairs
    assert 0 <= values["dead_relu_fraction"] <= 1


class TrainingSwitch(keras.layers.Layer):
    """Outputs -1 in training mode and +1 in inference mode."""

    def call(self, x, training=None):
        return keras.ops.ones_like(x) * (-1.0 if training else 1.0)


def test_measured_in_inference_mode():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.ReLU(name="r")(TrainingSwitch()(inputs)))
    det = DeadReLUDetector(np.zeros((4, 3), "float32"))
    det.set_model(model)
    assert det.check(0)["dead_relu_fraction"] == 0.0


def test_a_model_without_relu_logs_nan_not_zero():
    """Nothing measured is NaN in the logs, as the docstring says, beside the warning that nothing is measured."""
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="tanh")(inputs))
    det = DeadReLUDetector(np.zeros((4, 3), "float32"), check_on_train_begin=False)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(UserWarning, match="no ReLU layers"):
        history = model.fit(
            np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), epochs=1, verbose=0, callbacks=[det]
        )
    assert math.isnan(history.history["dead_relu_fraction"][0])
    assert math.isnan(history.history["dead_relu_nonfinite_fraction"][0])


class _CountingData(keras.utils.PyDataset):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def __len__(self):
        return 50

    def __getitem__(self, i):
        self.calls += 1
        return np.full((4, 5), float(i), "float32"), np.zeros((4,))


def test_streaming_sources_and_batch_cap():
    sub = SubclassedNet()
    data = _CountingData()
    det = DeadReLUDetector(data, max_batches=3)
    det.set_model(sub)
    det.check(0)
    assert data.calls == 3


def test_a_tf_data_source_is_probed():
    tf = pytest.importorskip("tensorflow", reason="tf.data needs TensorFlow")
    sub = SubclassedNet()
    ds = tf.data.Dataset.from_tensor_slices((RNG.normal(size=(100, 5)).astype("float32"), np.zeros(100))).batch(10)
    det = DeadReLUDetector(ds, max_batches=2)
    det.set_model(sub)
    assert "dead_relu_fraction" in det.check(0)


def _mlp():
    keras.utils.set_random_seed(0)
    model = zoo.mlp(input_shape=(5,), hidden_units=(16, 16), num_classes=2)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def test_logs_reach_history_and_csvlogger(tmp_path):
    x, y = RNG.normal(size=(64, 5)).astype("float32"), RNG.integers(0, 2, 64)
    model = _mlp()
    det = DeadReLUDetector(x, frequency=2)
    log = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[det, keras.callbacks.CSVLogger(str(log))])
    fractions = history.history["dead_relu_fraction"]
    assert len(fractions) == 4 and math.isnan(fractions[0]) and math.isnan(fractions[2])
    assert 0 <= fractions[1] <= 1 and 0 <= fractions[3] <= 1
    assert "dead_relu/dense_1" in history.history
    rows = list(csv.DictReader(log.open()))
    assert len(rows) == 4 and "dead_relu_fraction" in rows[0]
    assert [r["epochs_completed"] for r in det.summary()] == [0, 0, 2, 2, 4, 4]


def test_warns_and_stops_above_thresholds():
    x, y = RNG.normal(size=(64, 5)).astype("float32"), RNG.integers(0, 2, 64)
    model = _mlp()
    _kill(model.get_layer("dense_1"), range(12))
    det = DeadReLUDetector(x, warn_threshold=0.2, stop_threshold=0.3)
    with pytest.warns(UserWarning, match="of ReLU units are dead"):
        history = model.fit(x, y, epochs=5, verbose=0, callbacks=[det])
    assert det.stop_reason.startswith("dead fraction")
    assert len(history.history["loss"]) < 5


def test_tracks_units_between_checks():
    x = RNG.normal(size=(32, 5)).astype("float32")
    model = _mlp()
    det = DeadReLUDetector(x)
    det.set_model(model)
    _kill(model.get_layer("dense_1"), [0, 1, 2])
    det.check(0)
    kernel, bias = model.get_layer("dense_1").get_weights()
    bias[[0]] = 100.0  # revive unit 0
    bias[[5]] = -1e4  # kill unit 5
    model.get_layer("dense_1").set_weights([kernel, bias])
    det.check(1)
    row = [r for r in det.summary() if r["layer"] == "dense_1" and r["epochs_completed"] == 1][0]
    assert row["revived"] == 1 and row["newly_dead"] >= 1 and row["stayed_dead"] >= 2


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"frequency": 0}, "`frequency` must be an integer >= 1"),
        ({"max_batches": 0}, "`max_batches` must be None or an integer >= 1"),
        ({"warn_threshold": 1.5}, "`warn_threshold` must be None or a fraction"),
        ({"eps": -1}, "`eps` must be a number >= 0"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeadReLUDetector(np.zeros((2, 2)), **kwargs)
    with pytest.raises(ValueError, match="`probe_data` is required"):
        DeadReLUDetector(None)


def test_non_finite_probe_activations_are_reported_not_counted_dead():
    import warnings

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="h"), keras.layers.Dense(2)]
    )
    detector = DeadReLUDetector(np.full((32, 4), np.nan, "float32"))
    detector.set_model(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = detector.check(0)
    assert values["dead_relu_nonfinite_fraction"] == 1.0
    assert np.isnan(values["dead_relu_fraction"]) and np.isnan(values["dead_relu/h"])  # not "100% dead"
    assert any("non-finite" in str(w.message) for w in caught)
    assert detector.records[-1]["nonfinite"] == 8 and detector.records[-1]["dead"] == 0
