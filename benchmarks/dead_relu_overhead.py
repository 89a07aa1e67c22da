"""Benchmark: FashionSimpleNet training epochs with vs without DeadReLUDetector (default settings).

Alternates plain and detector epochs (after a warm-up; the order reversed every other round, ``side_by_side``)
so both see the same machine state.
At default settings the detector checks once per epoch plus once at train begin; the timed
detector fits run the per-epoch check only (the one-off begin check is timed separately),
so the ratio is the steady per-epoch overhead. Goal: ratio <= 1.03.

    python benchmarks/dead_relu_overhead.py --data-dir ../shared/datasets --rounds 4
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from benchmarks import side_by_side  # noqa: E402
from keras_lecture_zoo import zoo  # noqa: E402
from keras_lecture_zoo.callbacks import DeadReLUDetector  # noqa: E402
from keras_lecture_zoo.zoo import data  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"))
    parser.add_argument("--rounds", type=int, default=4, help="plain/detector epoch pairs to time")
    parser.add_argument("--train-size", type=int, default=54000)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    s = data.load("fashion_mnist", args.data_dir, validation_size=0.1)
    x, y = s.x_train[: args.train_size], s.y_train[: args.train_size]
    keras.utils.set_random_seed(0)
    model = zoo.fashion_simplenet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:2048], y[:2048], batch_size=args.batch_size, epochs=1, verbose=0)  # warm-up / tracing
    detector = DeadReLUDetector(s.x_val, check_on_train_begin=False)  # otherwise defaults: 10 x 256 probe images
    detector.set_model(model)
    detector.check(0)  # warm-up of the probe path

    def epoch(callbacks):
        def measure():
            start = time.perf_counter()
            model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0, callbacks=callbacks)
            return time.perf_counter() - start

        return measure

    times = side_by_side.alternate({"plain": epoch([]), "detector": epoch([detector])}, args.rounds)
    plain, probed = times["plain"], times["detector"]
    check_times = []
    for _ in range(3):
        start = time.perf_counter()
        detector.check(0)
        check_times.append(time.perf_counter() - start)
    # Epoch times on this shared 2-core machine swing by up to 2x from run to run, so the
    # best epoch of each kind is compared (interference only ever adds time).
    ratio = side_by_side.ratio(times, "detector", "plain")
    print(f"FashionSimpleNet, {len(x)} images/epoch, batch {args.batch_size}, {args.rounds} rounds")
    print(f"  plain epochs    {', '.join(f'{t:.2f}' for t in plain)} s (best {min(plain):.2f})")
    print(f"  detector epochs {', '.join(f'{t:.2f}' for t in probed)} s (best {min(probed):.2f})")
    print(f"  one check (10 x 256 probe images): best {min(check_times):.3f} s")
    print(
        f"ratio detector / plain (best epochs, one check each): {ratio.best:.3f}  {side_by_side.goal(ratio.best, 1.03)}"
    )
    print(f"ratio (best plain epoch + 1 check) / best plain epoch: {(min(plain) + min(check_times)) / min(plain):.3f}")
    print(f"one-off train-begin check: {min(check_times):.3f} s per fit")
    print(f"ratio detector / plain, all measures (noisier on medians: they include epochs slowed by the host): {ratio}")


if __name__ == "__main__":
    main()
