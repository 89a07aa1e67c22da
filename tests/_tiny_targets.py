"""Small synthetic fit targets for the runner's trust tests (no data files, seconds to run)."""

import os
from pathlib import Path

import keras
import numpy as np

from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target


def tiny_data(ctx):
    rng = np.random.default_rng(123)
    x = rng.normal(size=(240, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    return {
        "x_train": x[:160],
        "y_train": y[:160],
        "x_val": x[160:200],
        "y_val": y[160:200],
        "x_test": x[200:],
        "y_test": y[200:],
    }


def tiny_build(seed):
    inputs = keras.Input((6,))
    h = keras.layers.Dense(16, activation="relu")(inputs)
    h = keras.layers.Dropout(0.3)(h)  # exercises the dropout seed generator across resume
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))


def diverging_build(seed):
    """Seed 1 multiplies its inputs by inf: the loss is NaN from the first batch."""
    inputs = keras.Input((6,))
    scaled = keras.layers.Rescaling(float("inf") if seed == 1 else 1.0)(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(scaled))


class KillOnce(keras.callbacks.Callback):
    """SIGKILLs its own process at the end of epoch ``epoch`` (1-based), once per marker file."""

    def __init__(self, marker, epoch):
        super().__init__()
        self.marker, self.epoch = Path(marker), epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch and not self.marker.exists():
            self.marker.write_text("killed")
            os.kill(os.getpid(), 9)


def tiny_target(name="tiny.mlp", epochs=4, seeds=2, build=tiny_build, callbacks=None):
    return Target(
        name=name,
        title="tiny synthetic MLP",
        source="test",
        data=tiny_data,
        recipe=Recipe(
            build=build,
            optimizer=lambda: keras.optimizers.Adam(0.01),
            loss="sparse_categorical_crossentropy",
            metrics=("accuracy",),
            batch_size=16,
            callbacks=callbacks,
        ),
        references=(Reference("test_accuracy", 0.5, "test", compare=">=", cls="sanity"),),
        full=Profile(seeds=seeds, epochs=epochs),
        quick=Profile(seeds=1, epochs=2),
    )


def two_network_target(fail_marker=None, epochs=3):
    """A custom target training two tiny networks per seed through ``train_networks``; with
    ``fail_marker``, building the second network raises once (a crash between networks)."""
    from keras_lecture_zoo.reproductions.targets._residual import train_networks

    def build_second(seed):
        if fail_marker is not None and not Path(fail_marker).exists():
            Path(fail_marker).write_text("failed")
            raise RuntimeError("simulated crash while building network b")
        return tiny_build(seed)

    def compute(seed, ctx):
        trained = train_networks(
            ctx, tiny_data(ctx), {"a": tiny_build, "b": build_second}, epochs=epochs, batch_size=16
        )
        return {f"test_error_{k}": m["test_error"] for k, (m, _model) in trained.items()}

    return Target(
        name="tiny.two_networks",
        title="two tiny networks",
        source="test",
        kind="custom",
        compute=compute,
        references=(Reference("test_error_a", 0.5, "test", compare="<=", cls="sanity"),),
        full=Profile(seeds=1),
        quick=Profile(seeds=1),
    )
