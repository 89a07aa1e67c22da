"""The engine's He et al. augmentation (pad, random crop, mirror): a pure function of seed and epoch, the
same batches through tf.data and through NumPy, crops that are windows of the padded image, and a
resumed augmented run equal to an uninterrupted one."""

import keras
import numpy as np
import pytest

from keras_lecture_zoo.reproductions import engine
from keras_lecture_zoo.reproductions.engine import Augmentation, Recipe, batching
from keras_lecture_zoo.reproductions.suite import configure_determinism

pytestmark = pytest.mark.every_backend


def _images(n=40, h=6, w=5, c=2):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, h, w, c)).astype("float32")
    return {
        "x_train": x,
        "y_train": (np.arange(n) % 3).astype("int32"),
        "x_val": None,
        "y_val": None,
        "x_test": x[:8],
        "y_test": (np.arange(8) % 3).astype("int32"),
    }


def _batches_of(factory, perms, span):
    data = factory(list(zip(perms, span)))
    if isinstance(data, keras.utils.PyDataset):
        return [data[i] for i in range(len(data))]
    return [(np.asarray(a), np.asarray(b)) for a, b in data]


def test_every_augmented_image_is_a_window_of_its_padded_image_mirrored_when_drawn():
    d, aug = _images(), Augmentation(pad=2, flip=True)
    perm = np.random.default_rng(0).permutation(40)
    factory, _ = batching.batches(d, 16, aug, seed=5)
    batches = _batches_of(factory, [perm], [3])
    xs, ys = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    rows, cols, flips = aug.draws(5, 3, 40)
    padded = aug.padded(d["x_train"])
    assert xs.shape == d["x_train"].shape and flips.any() and not flips.all()
    for k, i in enumerate(perm):
        window = padded[i, rows[i] : rows[i] + 6, cols[i] : cols[i] + 5]
        np.testing.assert_array_equal(xs[k], window[:, ::-1] if flips[i] else window)
        assert ys[k] == d["y_train"][i]


def test_draws_are_a_function_of_seed_and_epoch_and_stay_inside_the_border():
    aug = Augmentation(pad=4)
    a, b = aug.draws(1, 2, 500), aug.draws(1, 2, 500)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert any((u != v).any() for u, v in zip(a, aug.draws(1, 3, 500)))
    assert a[0].min() == 0 and a[0].max() == 8 and a[1].max() == 8
    assert not Augmentation(flip=False).draws(1, 2, 50)[2].any()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data is the TensorFlow path")
def test_tf_data_and_numpy_give_the_same_augmented_batches():
    d, aug = _images(), Augmentation(pad=3)
    perms = [np.random.default_rng([1, e]).permutation(40) for e in (0, 1)]
    tf_factory, _ = batching.pipelines(d, 16, aug, seed=1)
    np_factory, _ = batching.batches(d, 16, aug, seed=1)
    a, b = _batches_of(tf_factory, perms, [0, 1]), _batches_of(np_factory, perms, [0, 1])
    assert [x.shape[0] for x, _ in a] == [16, 16, 8, 16, 16, 8]
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data is the TensorFlow path")
@pytest.mark.parametrize("n, batch, sizes", [(40, 16, [16, 16, 8] * 2), (32, 16, [16, 16] * 2), (12, 16, [12, 12])])
def test_tf_data_and_numpy_give_the_same_plain_batches_in_the_same_order(n, batch, sizes):
    """Without augmentation too (full batches cut by one reshape, then the partial one), over two passes."""
    d = _images(n)
    perms = [np.random.default_rng([2, e]).permutation(n) for e in (0, 1)]
    a = _batches_of(batching.pipelines(d, batch, None, seed=2)[0], perms, [0, 1])
    b = _batches_of(batching.batches(d, batch, None, seed=2)[0], perms, [0, 1])
    assert [x.shape[0] for x, _ in a] == [x.shape[0] for x, _ in b] == sizes
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(np.concatenate([y for _, y in a]), d["y_train"][np.concatenate(perms)])


def test_augmentation_of_non_images_is_refused():
    with pytest.raises(ValueError, match=r"augment needs image arrays \(N, H, W, C\), got shape \(4, 3\)"):
        Augmentation().padded(np.zeros((4, 3), "float32"))


def _build(_seed):
    inputs = keras.Input((6, 5, 2))
    h = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(h)))


def test_a_resumed_augmented_run_ends_with_the_uninterrupted_numbers(tmp_path):
    configure_determinism()
    d = _images()

    def recipe(epochs):
        return Recipe(
            build=_build,
            optimizer=lambda: keras.optimizers.SGD(0.05, momentum=0.9),
            loss="sparse_categorical_crossentropy",
            epochs=epochs,
            batch_size=16,
            augment=Augmentation(pad=2),
        )

    whole, m1 = engine.train(recipe(4), d, seed=2, work_dir=tmp_path / "whole", verbose=0)
    engine.train(recipe(2), d, seed=2, work_dir=tmp_path / "split", verbose=0)
    resumed, m2 = engine.train(recipe(4), d, seed=2, work_dir=tmp_path / "split", verbose=0)
    assert resumed["history"] == whole["history"]
    assert whole["recipe"]["augment"] == {"pad": 2, "flip": True}
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_array_equal(a, b)
    plain, _ = engine.train(
        Recipe(**{**recipe(4).__dict__, "augment": None}), d, seed=2, work_dir=tmp_path / "plain", verbose=0
    )
    assert plain["history"] != whole["history"]  # the augmentation reached the training batches
