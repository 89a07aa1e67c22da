"""Train / validation / test splits of the IDX sets and of tensorflow-datasets' CIFAR-10, and tf.data pipelines."""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_lecture_zoo.zoo.data.idx import ENV_OFFLINE, MissingDataError, _offline, _spec, load_arrays

__all__ = ["Splits", "load", "load_tfds", "load_datasets", "to_dataset", "TFDS_DATASETS", "CIFAR10_CLASSES"]


@dataclasses.dataclass
class Splits:
    """Train / validation / test arrays of one data set (validation may be empty)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple = ()

    @property
    def train(self):
        return self.x_train, self.y_train

    @property
    def val(self):
        return self.x_val, self.y_val

    @property
    def test(self):
        return self.x_test, self.y_test

    def datasets(self, batch_size=128, *, shuffle_seed=0):
        """(train, val or None, test) ``tf.data`` pipelines; train is shuffled with ``shuffle_seed``."""
        train = to_dataset(self.x_train, self.y_train, batch_size, shuffle=True, seed=shuffle_seed)
        val = to_dataset(self.x_val, self.y_val, batch_size) if len(self.x_val) else None
        return train, val, to_dataset(self.x_test, self.y_test, batch_size)


def _validation_count(validation_size, n) -> int:
    if validation_size is None or validation_size == 0:
        return 0
    if isinstance(validation_size, bool):
        raise ValueError(f"`validation_size` must be a fraction in (0, 1) or a count, got {validation_size!r}.")
    if isinstance(validation_size, float) and 0 < validation_size < 1:
        return int(round(n * validation_size))
    if isinstance(validation_size, (int, np.integer)) and 0 < validation_size < n:
        return int(validation_size)
    raise ValueError(
        f"`validation_size` must be a fraction in (0, 1) or a count in [1, {n - 1}], got {validation_size!r}."
    )


def load(
    name,
    data_dir=None,
    *,
    validation_size=0,
    split_seed=None,
    normalize=True,
    flatten=False,
) -> Splits:
    """Load MNIST or Fashion-MNIST as verified numpy arrays with a deterministic validation split.

    ``validation_size``: a fraction in (0, 1) or a count taken from the 60,000 training
    images. With ``split_seed=None`` the validation set is the *last* images (what
    ``keras.Model.fit(validation_split=...)`` does); with an int seed it is a seeded
    random subset. Images are float32 in [0, 1] of shape (N, 28, 28, 1), or
    (N, 784) with ``flatten=True``; ``normalize=False`` keeps uint8. Labels are int32.
    """
    spec = _spec(name)
    raw = load_arrays(spec.name, data_dir)
    x_train, y_train = raw["x_train"], raw["y_train"].astype("int32")
    x_test, y_test = raw["x_test"], raw["y_test"].astype("int32")
    n_val = _validation_count(validation_size, len(x_train))
    if split_seed is None:
        order = np.arange(len(x_train))
    else:
        if not isinstance(split_seed, (int, np.integer)) or isinstance(split_seed, bool) or split_seed < 0:
            raise ValueError(f"`split_seed` must be None or a non-negative integer, got {split_seed!r}.")
        order = np.random.default_rng(int(split_seed)).permutation(len(x_train))
    train_idx, val_idx = order[: len(order) - n_val], order[len(order) - n_val :]
    if split_seed is not None:
        train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)

    def prep(x):
        x = x.reshape(len(x), -1) if flatten else x[..., np.newaxis]
        return (x.astype("float32") / np.float32(255.0)) if normalize else x

    return Splits(
        prep(x_train[train_idx]),
        y_train[train_idx],
        prep(x_train[val_idx]),
        y_train[val_idx],
        prep(x_test),
        y_test,
        spec.class_names,
    )


TFDS_DATASETS = ("cifar10",)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_tfds(name, data_dir=None, *, validation_size=0, normalize=True, download=True) -> Splits:
    """Load a tensorflow-datasets image set (``"cifar10"``) as :class:`Splits` arrays.

    ``data_dir`` is tfds' own data directory (None: tfds' default, ``~/tensorflow_datasets``);
    ``download=False`` (or ``ZOO_OFFLINE=1``) fails instead of fetching, and any failure to obtain the
    data raises :class:`MissingDataError` in one line. The validation set is the last
    ``validation_size`` training images, as in :func:`load`. Images are float32 in [0, 1]
    (N, 32, 32, 3); labels int32. No checksum of ours: tfds verifies its own downloads.
    """
    from keras_lecture_zoo.zoo.validation import check_choice

    check_choice(name, "name", TFDS_DATASETS)
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:  # pragma: no cover - tfds is a dependency
        raise ImportError("load_tfds needs tensorflow-datasets (pip install tensorflow-datasets).") from err

    offline = _offline()

    def arrays(split):
        try:
            ds = tfds.load(name, split=split, as_supervised=True, data_dir=data_dir, download=download and not offline)
        except AssertionError as exc:  # tfds' "could not find data in ..." when it may not download
            why = f"${ENV_OFFLINE}=1 forbids the download" if offline and download else "download=False"
            raise MissingDataError(
                f"{name} is not in tensorflow-datasets' folder {data_dir or '~/tensorflow_datasets'} and {why}. "
                f"Fix: prepare it there once with network access, or pass data_dir= to the folder that holds it."
            ) from exc
        except Exception as exc:  # the download itself failed (no network, a refused or cut connection)
            if isinstance(
                exc, (MissingDataError, ValueError, TypeError, ImportError)
            ):  # ours, a bad argument, a broken install
                raise
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise MissingDataError(
                f"could not download {name} with tensorflow-datasets into {data_dir or '~/tensorflow_datasets'}: "
                f"{detail}. Fix: retry with network access, or pass data_dir= to a folder that holds it prepared."
            ) from exc
        xs, ys = [], []
        for x, y in tfds.as_numpy(ds.batch(4096)):
            xs.append(x)
            ys.append(y)
        return np.concatenate(xs), np.concatenate(ys).astype("int32")

    x_train, y_train = arrays("train")
    x_test, y_test = arrays("test")
    n_val = _validation_count(validation_size, len(x_train))
    cut = len(x_train) - n_val

    def prep(x):
        return (x.astype("float32") / np.float32(255.0)) if normalize else x

    return Splits(
        prep(x_train[:cut]), y_train[:cut], prep(x_train[cut:]), y_train[cut:], prep(x_test), y_test, CIFAR10_CLASSES
    )


def to_dataset(x, y=None, batch_size=128, *, shuffle=False, seed=None, drop_remainder=False):
    """A batched, prefetched ``tf.data.Dataset`` over arrays; shuffled per epoch with ``seed``."""
    import tensorflow as tf

    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def load_datasets(name, data_dir=None, *, batch_size=128, shuffle_seed=0, **load_kwargs):
    """(train, val or None, test) ``tf.data`` pipelines; see :func:`load` for the options."""
    return load(name, data_dir, **load_kwargs).datasets(batch_size, shuffle_seed=shuffle_seed)
