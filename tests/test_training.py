"""Small real training runs that must reach a threshold."""

import keras
import numpy as np
import pytest

from keras_lecture_zoo import zoo
from keras_lecture_zoo.zoo import data


def test_softmax_regression_learns_mnist(data_dir):
    keras.utils.set_random_seed(0)
    s = data.load("mnist", data_dir)
    model = zoo.softmax_regression()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(s.x_train[:20000], s.y_train[:20000], batch_size=100, epochs=1, verbose=0)
    _, acc = model.evaluate(s.x_test, s.y_test, verbose=0)
    assert acc >= 0.88  # TF "MNIST for beginners" reaches ~0.92 with more steps


def test_xor_model3_learns_xor_with_a_larger_learning_rate():
    keras.utils.set_random_seed(1)
    x, y = data.xor()
    model = zoo.xor_model3(seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(x, y, batch_size=4, epochs=300, verbose=0)
    pred = (model.predict(x, verbose=0) > 0.5).astype("float32")
    np.testing.assert_array_equal(pred, y)


@pytest.mark.slow
def test_fashion_simplenet_one_epoch(data_dir):
    keras.utils.set_random_seed(0)
    s = data.load("fashion_mnist", data_dir, validation_size=0.1)
    model = zoo.fashion_simplenet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(s.x_train, s.y_train, batch_size=128, epochs=1, verbose=0)
    _, acc = model.evaluate(s.x_test, s.y_test, verbose=0)
    assert acc >= 0.84


@pytest.mark.slow
def test_mnist_convnet_two_epochs(data_dir):
    keras.utils.set_random_seed(0)
    s = data.load("mnist", data_dir)
    model = zoo.mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(s.x_train, s.y_train, batch_size=128, epochs=2, verbose=0)
    _, acc = model.evaluate(s.x_test, s.y_test, verbose=0)
    assert acc >= 0.975
