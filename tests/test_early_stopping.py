"""EarlyStopping: same decisions as Keras where they overlap, plus NaN safety, saving, thresholds, resume."""

import math

import keras
import numpy as np
import pytest

from keras_lecture_zoo.callbacks import EarlyStopping

pytestmark = pytest.mark.every_backend


def _tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _drive(callback, values, monitor="val_loss", model=None):
    """Feed a scripted metric sequence; return the epochs seen before training stopped."""
    model = model or _tiny_model()
    callback.set_model(model)
    model.stop_training = False
    callback.on_train_begin()
    seen = 0
    for epoch, value in enumerate(values):
        model.set_weights([np.full((2, 1), float(epoch), "float32"), np.zeros(1, "float32")])
        callback.on_epoch_end(epoch, {monitor: value})
        seen += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return seen, model


SEQUENCES = [
    [1.0, 0.9, 0.95, 0.97, 0.99, 0.8, 0.85],
    [0.5, 0.5, 0.5, 0.5],
    [3.0, 2.0, 1.0, 0.5, 0.25],
    [1.0, 1.1, 1.2, 0.7, 0.71, 0.72, 0.73, 0.74],
]
CONFIGS = [
    {"patience": 0},
    {"patience": 2},
    {"patience": 1, "min_delta": 0.06},
    {"patience": 2, "baseline": 0.85},
    {"patience": 1, "start_from_epoch": 2},
    {"patience": 2, "restore_best_weights": True},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("values", SEQUENCES, ids=["bumpy", "flat", "improving", "late_best"])
def test_same_decisions_as_keras(config, values):
    ours, theirs = EarlyStopping(**config), keras.callbacks.EarlyStopping(**config)
    seen_ours, model_ours = _drive(ours, values)
    seen_theirs, model_theirs = _drive(theirs, values)
    assert seen_ours == seen_theirs
    assert (ours.stopped_epoch, ours.best_epoch, ours.wait, ours.best) == (
        theirs.stopped_epoch,
        theirs.best_epoch,
        theirs.wait,
        theirs.best,
    )
    for a, b in zip(model_ours.get_weights(), model_theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_same_decisions_as_keras_in_max_mode():
    values = [0.5, 0.6, 0.59, 0.61, 0.6, 0.6, 0.6]
    ours = EarlyStopping(monitor="val_accuracy", mode="max", patience=2)
    theirs = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=2)
    assert _drive(ours, values, "val_accuracy")[0] == _drive(theirs, values, "val_accuracy")[0] == 6
    assert ours.best == theirs.best == 0.61 and ours.best_epoch == theirs.best_epoch == 3


def test_nan_first_value_is_never_the_best():
    es = EarlyStopping(patience=2, check_finite=False)
    seen, _ = _drive(es, [math.nan, 1.0, 0.9, 0.95])
    assert es.best == 0.9 and es.best_epoch == 2 and seen == 4
    es = EarlyStopping(patience=5)
    seen, _ = _drive(es, [math.nan, 1.0])
    assert seen == 1 and es.stop_reason == "non_finite" and es.best is None
    es = EarlyStopping(patience=5)
    _drive(es, [1.0, math.inf, 0.5])
    assert es.stop_reason == "non_finite" and es.stopped_epoch == 1 and es.best == 1.0


def test_thresholds():
    es = EarlyStopping(patience=10, stopping_threshold=0.5)
    assert _drive(es, [1.0, 0.7, 0.5, 0.4])[0] == 3 and es.stop_reason == "stopping_threshold"
    es = EarlyStopping(patience=10, divergence_threshold=5.0)
    assert _drive(es, [1.0, 3.0, 6.0, 0.1])[0] == 3 and es.stop_reason == "divergence_threshold"
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=10, stopping_threshold=0.9)
    assert _drive(es, [0.5, 0.95], "val_accuracy")[0] == 2


class _Script(keras.callbacks.Callback):
    """Writes a scripted 'score' into logs (placed before EarlyStopping) and keeps each epoch's weights."""

    def __init__(self, values):
        super().__init__()
        self.values, self.weights = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def _fit(model, callbacks, epochs):
    x = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")
    return model.fit(x, x[:, :1], epochs=epochs, verbose=0, callbacks=callbacks)


def test_restores_best_weights_without_early_stop():
    model = _tiny_model()
    script = _Script([0.5, 0.3, 0.4, 0.45, 0.41])
    es = EarlyStopping(monitor="score", mode="min", patience=10, restore_best_weights=True)
    history = _fit(model, [script, es], 5)
    assert es.stopped_epoch == 0 and es.stop_reason is None and es.best_epoch == 1
    for a, b in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(a, b)
    assert history.early_stopping == {"best": 0.3, "best_epoch": 1, "stopped_epoch": 0, "stop_reason": None}


def test_restores_the_best_weights_when_training_blows_up_to_nan():
    """A real divergence: four epochs of SGD at 0.01, then the rate jumps to 1e4 and the loss overflows
    to inf/NaN; training stops there and the weights are the best finite epoch's, on every backend."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    jump = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 if epoch < 4 else 1e4)
    kept = _Script([0.0] * 20)  # keeps each epoch's weights (its scripted score is not monitored)
    es = EarlyStopping(monitor="loss", patience=20, restore_best_weights=True)
    history = model.fit(x, 3 * x[:, :1], epochs=20, batch_size=8, verbose=0, callbacks=[jump, kept, es])
    losses = history.history["loss"]
    assert all(math.isfinite(v) for v in losses[:4]) and losses[3] < losses[0]
    assert es.stop_reason == "non_finite" and not math.isfinite(losses[-1]) and len(losses) < 20
    best = int(np.argmin(losses[:4]))
    assert es.best_epoch == best and es.best == pytest.approx(losses[best])
    for a, b in zip(model.get_weights(), kept.weights[best]):
        np.testing.assert_array_equal(a, b)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_saves_the_best_model_atomically(tmp_path):
    model = _tiny_model()
    script = _Script([0.5, 0.3, 0.4, 0.2, 0.6, 0.7])
    path = tmp_path / "best" / "model.keras"
    es = EarlyStopping(monitor="score", mode="min", patience=2, save_best_path=path)
    history = _fit(model, [script, es], 6)
    assert es.stop_reason == "patience" and len(history.history["loss"]) == 6
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.keras"]  # no temp files left
    saved = keras.saving.load_model(path)
    for a, b in zip(saved.get_weights(), script.weights[3]):
        np.testing.assert_array_equal(a, b)
    weights_path = tmp_path / "best.weights.h5"
    es = EarlyStopping(monitor="score", mode="min", save_best_path=weights_path, save_weights_only=True)
    _fit(_tiny_model(), [_Script([0.5, 0.3]), es], 2)
    assert weights_path.is_file()


def test_reusable_across_fits():
    model = _tiny_model()
    es = EarlyStopping(monitor="score", mode="min", patience=1)
    _fit(model, [_Script([0.1, 0.2, 0.3]), es], 3)
    assert es.best == 0.1 and es.stop_reason == "patience"
    _fit(model, [_Script([5.0, 4.0, 3.0]), es], 3)
    assert es.best == 3.0 and es.best_epoch == 2 and es.stop_reason is None and es.stopped_epoch == 0


def test_resumed_state_gives_the_uninterrupted_decisions():
    values = [1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77, 0.78]
    whole = EarlyStopping(patience=3, restore_best_weights=True)
    seen_whole, _ = _drive(whole, values)
    first = EarlyStopping(patience=3, restore_best_weights=True)
    _drive(first, values[:4])
    resumed = EarlyStopping(patience=3, restore_best_weights=True)
    resumed.set_state(first.get_state())
    model = _tiny_model()
    resumed.set_model(model)
    model.stop_training = False
    resumed.on_train_begin()
    seen = 4
    for epoch in range(4, len(values)):
        resumed.on_epoch_end(epoch, {"val_loss": values[epoch]})
        seen += 1
        if model.stop_training:
            break
    assert seen == seen_whole
    assert (resumed.best, resumed.best_epoch, resumed.stopped_epoch, resumed.stop_reason) == (
        whole.best,
        whole.best_epoch,
        whole.stopped_epoch,
        whole.stop_reason,
    )


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"mode": "up"}, r"`mode` must be one of \['auto', 'min', 'max'\]"),
        ({"patience": -1}, "`patience` must be an integer >= 0"),
        ({"baseline": math.nan}, "`baseline` must be a finite number"),
        ({"save_best_path": "best.h5"}, "`save_best_path` must end in '.keras'"),
        ({"save_best_path": "best.keras", "save_weights_only": True}, "must end in '.weights.h5'"),
        ({"monitor": ""}, "`monitor` must be a metric name"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**kwargs)


def test_unknown_direction_asks_for_mode():
    es = EarlyStopping(monitor="zebra")
    es.set_model(_tiny_model())
    with pytest.raises(ValueError, match="pass mode='min' or mode='max'"):
        es.on_train_begin()


class Tiny(keras.Model):
    """A subclassed model, to show EarlyStopping needs nothing beyond get/set_weights and save."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x)


def test_subclassed_and_keras_applications_models(tmp_path):
    model = Tiny()
    model.compile(optimizer="sgd", loss="mse")
    script = _Script([0.5, 0.2, 0.4, 0.6])
    es = EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True)
    _fit(model, [script, es], 4)
    assert es.stop_reason == "patience" and es.best_epoch == 1
    for a, b in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(a, b)

    app = keras.applications.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=3)
    app.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    path = tmp_path / "best.keras"
    script = _Script([0.9, 0.8, 0.85])
    app_stop = EarlyStopping(monitor="score", mode="min", patience=5, restore_best_weights=True, save_best_path=path)
    app.fit(x, y, epochs=3, verbose=0, callbacks=[script, app_stop])
    assert app_stop.best_epoch == 1
    np.testing.assert_array_equal(keras.saving.load_model(path).predict(x, verbose=0), app.predict(x, verbose=0))
