"""Benchmark: a FashionSimpleNet seed through the runner vs the same training with a bare model.fit.

The runner's extra work per epoch: one fit call per epoch on a seeded permutation, the checkpoint (model +
optimizer + state, atomic), the history row and the persistent callbacks. The runner side is the seed's wall
time as the runner records it (build to evaluation, like the bare side); the once-per-target report writing is
printed apart. Both sides train the same epochs on the same data and batch size, with the same validation set,
early-stopping callback and final test evaluation. Rounds alternate the two (``side_by_side``); the best of
each is compared (interference on this shared machine only adds time), beside the medians and the median of
the per-round ratios. Goal: ratio <= 1.03.

    python benchmarks/runner_overhead.py --data-dir ../shared/datasets --epochs 2 --rounds 3
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks import side_by_side  # noqa: E402
from keras_lecture_zoo.callbacks import EarlyStopping  # noqa: E402
from keras_lecture_zoo.reproductions import targets  # noqa: E402
from keras_lecture_zoo.reproductions.spec import Profile  # noqa: E402
from keras_lecture_zoo.reproductions.suite import Context, RunSettings, configure_determinism, run_target  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_determinism()

    base = targets.get("fashion.simplenet")
    target = dataclasses.replace(base, full=Profile(seeds=1, epochs=args.epochs))
    ctx = Context(target, RunSettings(output_dir=Path("."), data_dir=args.data_dir))
    d = target.data(ctx)  # load once; both sides use these arrays

    def bare(tmp):
        keras.utils.set_random_seed(0)
        model = target.recipe.build(0)
        model.compile(optimizer=target.recipe.optimizer(), loss=target.recipe.loss, metrics=list(target.recipe.metrics))
        stop = EarlyStopping(
            monitor="val_loss", patience=3, restore_best_weights=True, save_best_path=Path(tmp) / "best.keras"
        )
        model.fit(
            d["x_train"],
            d["y_train"],
            batch_size=target.recipe.batch_size,
            epochs=args.epochs,
            validation_data=(d["x_val"], d["y_val"]),
            callbacks=[stop],
            verbose=0,
        )
        model.evaluate(d["x_test"], d["y_test"], verbose=0)

    def runner(tmp):
        """Seconds of the seed (build, per-epoch fits, checkpoints, evaluation), as the runner records it."""
        run_target(
            target,
            RunSettings(output_dir=Path(tmp), profile="full", seeds=[0], data_dir=ctx.data_dir, verbose=0),
            record={"command": "benchmark"},
        )
        return float(pd.read_csv(Path(tmp) / target.name / "metrics.csv")["wall_time_s"].iloc[0])

    with tempfile.TemporaryDirectory() as tmp:
        bare(tmp)  # warm-up: first-call costs (tracing, allocator) paid by neither side
        extra = []  # the runner's once-per-target work after the seeds: tables, figure, record, swap

        def bare_side():
            start = time.perf_counter()
            bare(tmp)
            return time.perf_counter() - start

        def runner_side():
            start = time.perf_counter()
            seed_time = runner(tmp)
            extra.append(time.perf_counter() - start - seed_time)
            return seed_time

        times = side_by_side.alternate(
            {"bare": bare_side, "runner": runner_side},
            args.rounds,
            show=lambda s: f"{s:.2f} s for {args.epochs} epochs",
        )
    b, rn = min(times["bare"]), min(times["runner"])
    print(
        f"FashionSimpleNet, {len(d['x_train'])} train images, batch {target.recipe.batch_size}, {args.epochs} epochs "
        "per run"
    )
    print(f"  bare model.fit: {', '.join(f'{t:.2f}' for t in times['bare'])} s (best {b:.2f})")
    print(f"  runner:         {', '.join(f'{t:.2f}' for t in times['runner'])} s (best {rn:.2f})")
    ratio = side_by_side.ratio(times, "runner", "bare")
    print(f"ratio runner / bare fit: {ratio}  {side_by_side.goal(ratio.best, 1.03)}")
    print(f"once per target, not per epoch: results tables + curves + record {min(extra):.2f} s")


if __name__ == "__main__":
    main()
