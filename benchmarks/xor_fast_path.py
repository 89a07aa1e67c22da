"""Benchmark: the L001 XOR recipe (4 samples, batch 4, 1000 epochs of Adam) as a plain
``fit(epochs=1000)`` vs the runner's fast path (one fit of 1000 steps, steps_per_execution).

Both start from the same seeded model. Every epoch of the plain recipe is one full batch of
the 4 points, so the two runs make the same 1000 updates; they can differ only in the order
the 4 samples are summed within a batch (the plain fit shuffles them), i.e. in the last bits.
Rounds alternate the two sides (``side_by_side``); prints the speed-up (best-of-rounds, medians, per round) and
the largest differences of weights and predicted probabilities (the last round's models).
Goal: at least 20x faster, results equal.

    python benchmarks/xor_fast_path.py --model xor_model2 --seed 0 --rounds 2
"""

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import side_by_side  # noqa: E402
from keras_lecture_zoo import zoo  # noqa: E402
from keras_lecture_zoo.reproductions import targets  # noqa: E402
from keras_lecture_zoo.reproductions.engine import configure_determinism  # noqa: E402
from keras_lecture_zoo.reproductions.engine.loop import _fit_full_batch  # noqa: E402
from keras_lecture_zoo.zoo import data  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="xor_model2", choices=["xor_model1", "xor_model2", "xor_model3"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    configure_determinism()
    x, y = data.xor()
    target = dataclasses.replace(targets.get(f"xor.keras_{args.model.replace('xor_', '')}"))

    def fresh(steps_per_execution=1):
        keras.utils.set_random_seed(args.seed)
        model = zoo.build(args.model, seed=args.seed)
        model.compile(
            optimizer=keras.optimizers.Adam(),
            loss="mean_squared_error",
            metrics=["accuracy"],
            steps_per_execution=steps_per_execution,
        )
        return model

    fresh().fit(x, y, batch_size=4, epochs=2, verbose=0)  # warm-up of TF itself
    trained = {}

    def plain_side():
        model = fresh()
        start = time.perf_counter()
        model.fit(x, y, batch_size=4, epochs=args.epochs, verbose=0)  # the lecture's call
        trained["plain"] = model
        return time.perf_counter() - start

    def fast_side():
        model = fresh(target.recipe.steps_per_execution)
        start = time.perf_counter()
        _fit_full_batch(model, {"x_train": x, "y_train": y}, args.epochs, target.recipe)
        trained["fast"] = model
        return time.perf_counter() - start

    times = side_by_side.alternate({"plain": plain_side, "fast path": fast_side}, args.rounds)
    plain, fast = trained["plain"], trained["fast"]
    t_plain, t_fast = min(times["plain"]), min(times["fast path"])
    speedup = side_by_side.ratio(times, "plain", "fast path")
    w_diff = max(float(np.max(np.abs(a - b))) for a, b in zip(plain.get_weights(), fast.get_weights()))
    p_plain, p_fast = plain.predict(x, verbose=0).reshape(-1), fast.predict(x, verbose=0).reshape(-1)
    print(f"{args.model}, seed {args.seed}, {args.epochs} epochs of batch 4")
    print(f"  plain fit(epochs={args.epochs}): {t_plain:.2f} s; probabilities {np.round(p_plain, 4)}")
    print(f"  fast path (1 fit of {args.epochs} steps): {t_fast:.2f} s; probabilities {np.round(p_fast, 4)}")
    print(
        f"  optimizer steps: plain {int(plain.optimizer.iterations.numpy())}, fast "
        f"{int(fast.optimizer.iterations.numpy())}"
    )
    print(
        f"  max |weight difference| {w_diff:.2e}, max |probability difference| "
        f"{float(np.max(np.abs(p_plain - p_fast))):.2e}"
    )
    print(f"speed-up plain / fast: {speedup}  {side_by_side.goal(speedup.best, 20, '>=')}")


if __name__ == "__main__":
    main()
