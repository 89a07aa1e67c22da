"""Benchmark: an engine epoch of several passes (``Recipe.passes``) against one pass per epoch, for the same
number of passes over the data, on double_descent.mnist's small nets (4,000 MNIST images, batch 128: 32 steps
a pass), where Keras' per-epoch work (callbacks, logs, the engine's history row) is of the order of the steps.

Both sides are ``engine.train`` as the runner calls it, with the same recipe but for ``passes`` and
``epochs`` (passes × epochs equal), timed from the first epoch's end (building and tracing left out); no
zero-error stop (the clock is the only callback). Rounds alternate the sides (``side_by_side``); best-of-rounds and
medians of the seconds per pass are printed, and their ratio (goal: passes=10 at least 1.5× faster on the smallest net).

    python benchmarks/epoch_passes.py --data-dir ../shared/datasets --rounds 3
"""

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks import side_by_side  # noqa: E402
from benchmarks.engine_step import EpochClock  # noqa: E402  (the same clock on both benchmarks)
from keras_lecture_zoo.reproductions import engine  # noqa: E402
from keras_lecture_zoo.reproductions.targets import _double_descent as dd  # noqa: E402
from keras_lecture_zoo.zoo import data as zdata  # noqa: E402


def _data(data_dir):
    a = zdata.load_arrays("mnist", data_dir)
    x = (a["x_train"][: dd.N].astype("float32") / 255.0).reshape(dd.N, -1)
    labels = a["y_train"][: dd.N].astype("int64")
    onehot = np.eye(dd.K, dtype="float32")[labels]
    return {
        "x_train": x,
        "y_train": onehot,
        "labels": labels,
        "x_val": None,
        "y_val": None,
        "x_test": x[:100],
        "y_test": onehot[:100],
        "labels_test": labels[:100],
    }


def seconds_per_pass(d, width, passes, total):
    """Seconds per pass of ``total`` passes run as ``total / passes`` engine epochs, timed from the first
    epoch's end (building and tracing left out on both sides alike; the net starts afresh each time)."""
    marks = []
    recipe = dataclasses.replace(
        dd.width_recipe(width, d, passes, total // passes),
        evaluate=lambda m, d: {},
        callbacks=lambda _work_dir: [EpochClock(marks)],
    )
    with tempfile.TemporaryDirectory() as tmp:
        engine.train(recipe, d, seed=0, work_dir=tmp, verbose=0)
    return (marks[-1] - marks[0]) / (passes * (len(marks) - 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--total", type=int, default=300, help="passes per measurement (a multiple of --passes)")
    parser.add_argument("--widths", default="4,250,1000")
    args = parser.parse_args(argv)
    d = _data(args.data_dir)
    for width in (int(w) for w in args.widths.split(",")):
        many = f"{args.passes} passes/epoch"
        print(f"H={width} ({dd.parameters(width):,} parameters), {args.total} passes, seconds per pass:", flush=True)
        times = side_by_side.alternate(
            {
                "1 pass/epoch": lambda: seconds_per_pass(d, width, 1, args.total),
                many: lambda: seconds_per_pass(d, width, args.passes, args.total),
            },
            args.rounds,
            show=lambda s: f"{1000 * s:.1f} ms",
        )
        print(
            f"  1 pass/epoch best {1000 * min(times['1 pass/epoch']):.1f} ms/pass (median "
            f"{1000 * statistics.median(times['1 pass/epoch']):.1f}); {many} best {1000 * min(times[many]):.1f} "
            "ms/pass "
            f"(median {1000 * statistics.median(times[many]):.1f})"
        )
        speedup = side_by_side.ratio(times, "1 pass/epoch", many)
        print(f"  speed-up of {many} (the time at 1 pass/epoch over its time): {speedup}", flush=True)


if __name__ == "__main__":
    main()
