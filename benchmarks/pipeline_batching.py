"""Benchmark: the engine's tf.data epochs with each pass's full batches cut by one reshape (the engine's
pipeline) against the same pipeline batching the rows one by one (``Dataset.batch``, its form before
2026-12-06), through ``engine.train`` on the 5×1000 tanh MLP with minibatch 10 (Glorot & Bengio's deep
nets: thousands of tiny steps per epoch, where per-row work in the pipeline competes with the training
for the two cores). Both give the same batches in the same order (tests/test_augmentation.py); only the
time differs. Rounds alternate the two sides (``side_by_side``); best-of-rounds, medians and the median of the
per-round ratios are printed.

    python benchmarks/pipeline_batching.py --data-dir ../shared/datasets --rounds 8
"""

import argparse
import math
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import engine_step, side_by_side  # noqa: E402
from keras_lecture_zoo.reproductions import engine  # noqa: E402
from keras_lecture_zoo.reproductions.engine import batching  # noqa: E402

reshaped = batching.pipelines  # the engine's own pipeline (swapped per side)


def row_by_row_pipelines(d, batch_size, augment=None, seed=0):
    """The engine's pipelines with the training batches made by ``Dataset.batch`` over single rows."""
    import tensorflow as tf

    if augment is not None:
        raise ValueError("this benchmark compares the plain (unaugmented) pipeline")
    _, validation = reshaped(d, batch_size, augment, seed)
    n = len(d["x_train"])
    x, y = tf.constant(d["x_train"]), tf.constant(d["y_train"])

    def train_data(orders):
        tables = np.stack([batching.epoch_table(perm, e, augment, seed, n) for perm, e in orders])
        return (
            tf.data.Dataset.from_tensor_slices(tables)
            .flat_map(lambda t: tf.data.Dataset.from_tensor_slices(t).batch(batch_size))
            .apply(tf.data.experimental.assert_cardinality(len(tables) * math.ceil(n / batch_size)))
            .map(lambda i: (tf.gather(x, i), tf.gather(y, i)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE)
        )

    return train_data, validation


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"))
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    engine.configure_determinism()
    case = engine_step.mlp_case(args.data_dir, args.images)
    steps = math.ceil(args.images / case["recipe"].batch_size)
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, {os.cpu_count()} CPUs")
    print(f"{case['title']}: {steps} steps per epoch, {args.epochs} epochs per run, seconds per epoch after the first")

    def side(pipelines):
        def measure():
            batching.pipelines = pipelines
            try:
                return engine_step.engine_fit(case, args.epochs)[0]
            finally:
                batching.pipelines = reshaped

        return measure

    times = side_by_side.alternate({"reshape": side(reshaped), "row by row": side(row_by_row_pipelines)}, args.rounds)
    for name, t in times.items():
        print(f"  {name:10s}: best {min(t):.3f} s, median {statistics.median(t):.3f} s")
    print(f"  reshape / row by row: {side_by_side.ratio(times, 'reshape', 'row by row')}")


if __name__ == "__main__":
    main()
