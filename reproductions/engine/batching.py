"""Batching: each epoch's seeded visiting order (and augmentation) as batches, through tf.data on TensorFlow and a
``keras.utils.PyDataset`` on JAX and PyTorch, the same batches on every backend."""

from __future__ import annotations

import math

import numpy as np


def epoch_steps(recipe, train_size):
    """Training steps in one of ``recipe``'s epochs: a partial batch closes each of its passes."""
    return recipe.passes * max(1, math.ceil(train_size / recipe.batch_size))


def epoch_orders(recipe, seed, epoch, n):
    """The orders of an epoch's passes over ``n`` examples: ``default_rng([seed, epoch])`` for a one-pass
    epoch (as always), ``default_rng([seed, epoch, p])`` for pass p of a longer one; in index order without
    ``shuffle``."""
    if not recipe.shuffle:
        return [np.arange(n)] * recipe.passes
    if recipe.passes == 1:
        return [np.random.default_rng([seed, epoch]).permutation(n)]
    return [np.random.default_rng([seed, epoch, p]).permutation(n) for p in range(recipe.passes)]


def epoch_table(perm, epoch, augment, seed, n):
    """One epoch's rows in visiting order: the image index, then (with ``augment``) its crop's row
    offset, column offset and whether it is mirrored (1) or not (0), int32."""
    if augment is None:
        return np.asarray(perm, dtype=np.int32)
    rows, cols, flips = augment.draws(seed, epoch, n)
    return np.stack([perm, rows[perm], cols[perm], flips[perm]], axis=1).astype(np.int32)


def crop_indices(table, h, w, arange=np.arange, where=np.where):
    """Row and column indices (batch, h) and (batch, w) into the padded images for a batch's table rows
    (image, row offset, column offset, flipped): a mirrored crop reads its columns right to left.
    ``arange``/``where``: NumPy's, or TensorFlow's inside the tf.data pipeline."""
    rows = table[:, 1:2] + arange(h)[None, :]
    j = arange(w)[None, :]
    cols = table[:, 2:3] + where(table[:, 3:4] == 1, w - 1 - j, j)
    return rows, cols


def _augmented_numpy(xp_images, table, h, w):
    """The augmented batch (NumPy): gather the padded images, then their rows, then their columns."""
    rows, cols = crop_indices(table, h, w)
    batch = xp_images[table[:, 0]]
    batch = np.take_along_axis(batch, rows[:, :, None, None], axis=1)
    return np.take_along_axis(batch, cols[:, None, :, None], axis=2)


def pipelines(d, batch_size, augment=None, seed=0):
    """(epoch pipeline factory, validation pipeline): the arrays become tensors once; each epoch
    gathers its batches through a seeded permutation of indices, so no epoch copies the data.
    With ``augment``, each batch is cut from the zero-padded images by the epoch's crops and flips."""
    import tensorflow as tf

    n = len(d["x_train"])
    y = tf.constant(d["y_train"])
    if augment is None:
        x = tf.constant(d["x_train"])

        def gather(i):
            return tf.gather(x, i), tf.gather(y, i)
    else:
        h, w = d["x_train"].shape[1:3]
        xp = tf.constant(augment.padded(d["x_train"]))

        def gather(table):
            rows, cols = crop_indices(table, h, w, arange=lambda k: tf.range(k, dtype=tf.int32), where=tf.where)
            batch = tf.gather(xp, table[:, 0])
            batch = tf.gather(batch, rows, axis=1, batch_dims=1)
            return tf.gather(batch, cols, axis=2, batch_dims=1), tf.gather(y, table[:, 0])

    full = n // batch_size

    def pass_batches(table):
        """One pass's table as batches: its full batches cut by one reshape, then the partial last one (no
        per-row work in the pipeline; against batching row by row: benchmarks/pipeline_batching.py)."""
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(table[: full * batch_size], [full, batch_size, *table.shape[1:]])
        )
        if n % batch_size:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(table[full * batch_size :]))
        return batches

    def train_data(orders):
        """The batches of every pass in ``orders`` ((order, epoch) pairs) in turn, each pass's last one partial."""
        tables = np.stack([epoch_table(perm, e, augment, seed, n) for perm, e in orders])
        return (
            tf.data.Dataset.from_tensor_slices(tables)
            .flat_map(pass_batches)
            # flat_map hides the length; Keras needs it to end each epoch without "ran out of data"
            .apply(tf.data.experimental.assert_cardinality(len(tables) * math.ceil(n / batch_size)))
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        validation = (
            tf.data.Dataset.from_tensor_slices((d["x_val"], d["y_val"]))
            .batch(batch_size)
            .cache()
            .prefetch(tf.data.AUTOTUNE)
        )
    return train_data, validation


def batches(d, batch_size, augment=None, seed=0):
    """The same (epoch data factory, validation data) as :func:`pipelines` without tf.data, for JAX and
    PyTorch: a ``keras.utils.PyDataset`` gathering each batch through the epochs' seeded permutations, so
    the batches (each epoch's last one partial, augmented the same way) are exactly the tf.data ones."""
    import keras

    x, y = d["x_train"], d["y_train"]
    n = len(x)
    xp = augment.padded(x) if augment is not None else None
    h, w = x.shape[1:3] if augment is not None else (None, None)

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self, orders):
            super().__init__()
            tables = [epoch_table(perm, e, augment, seed, n) for perm, e in orders]
            self.index = [t[start : start + batch_size] for t in tables for start in range(0, n, batch_size)]

        def __len__(self):
            return len(self.index)

        def __getitem__(self, i):
            t = self.index[i]
            if augment is None:
                return x[t], y[t]
            return _augmented_numpy(xp, t, h, w), y[t[:, 0]]

    validation = None
    if d.get("x_val") is not None and len(d["x_val"]):
        val_x, val_y = d["x_val"], d["y_val"]

        class Validation(keras.utils.PyDataset):
            def __len__(self):
                return math.ceil(len(val_x) / batch_size)

            def __getitem__(self, i):
                return val_x[i * batch_size : (i + 1) * batch_size], val_y[i * batch_size : (i + 1) * batch_size]

        validation = Validation()
    return EpochBatches, validation
