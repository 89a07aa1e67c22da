"""check_overfit: a healthy model memorises a small random-label set, a crippled one cannot; on every backend."""

import keras
import numpy as np
import pytest

from keras_lecture_zoo.callbacks import check_overfit

pytestmark = pytest.mark.every_backend

RNG = np.random.default_rng(0)


def test_passes_a_healthy_model_and_fails_a_crippled_one_a_healthy_model_and_fails_a_crippled_one():
    keras.utils.set_random_seed(0)
    x = RNG.normal(size=(40, 6)).astype("float32")
    y = RNG.integers(0, 3, 40)  # random labels: only memorising fits them
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    report = check_overfit(
        model, x, y, loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01), max_steps=500
    )
    assert report.passed and report.final_loss <= 0.01 and report.train_accuracy == 1.0
    assert report.curve[0][0] == 0 and report.steps == report.curve[-1][0] < 500
    linear = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    bad = check_overfit(
        linear, x, y, loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01), max_steps=100
    )
    assert not bad.passed and bad.steps == 100 and "did NOT reach" in bad.describe()


def test_argument_errors():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    with pytest.raises(ValueError, match="No loss"):
        check_overfit(model, x, y)
    with pytest.raises(ValueError, match="`max_steps` must be an integer >= 1"):
        check_overfit(model, x, y, loss="mse", max_steps=0)
    with pytest.raises(ValueError, match="`threshold` must be a number > 0"):
        check_overfit(model, x, y, loss="mse", threshold=0)
    with pytest.raises(ValueError, match="same number"):
        check_overfit(model, x, y[:3], loss="mse")
