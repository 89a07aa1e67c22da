"""Benchmark: load + verify full MNIST from the IDX directory vs load the same arrays from an .npz.

Prints times (best of --repeat rounds, each round loading every format once, the order reversed every other
round so all see the same machine state; ``side_by_side``) and the ratios. Goal: warm verified
IDX load / uncompressed .npz load <= 1.5.

    python benchmarks/data_loading.py --data-dir ../shared/datasets
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import side_by_side  # noqa: E402
from keras_lecture_zoo.zoo import data  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir", default=os.environ.get("ZOO_DATA_DIR"), help="folder holding mnist/ (default $ZOO_DATA_DIR)"
    )
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("--data-dir (or $ZOO_DATA_DIR) is required: the folder that holds mnist/")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ZOO_CACHE_DIR"] = str(Path(tmp) / "cache")
        cold = timed(lambda: data.load_arrays("mnist", args.data_dir))  # gunzip + verify + fill cache
        arrays = data.load_arrays("mnist", args.data_dir)
        npz, npz_c = Path(tmp) / "mnist.npz", Path(tmp) / "mnist_compressed.npz"
        np.savez(npz, **arrays)
        np.savez_compressed(npz_c, **arrays)  # the format of keras.datasets' mnist.npz

        def load_npz(path):
            with np.load(path) as z:
                return {k: z[k] for k in z.files}

        times = side_by_side.alternate(
            {
                "IDX (cached)": lambda: timed(lambda: data.load_arrays("mnist", args.data_dir)),
                ".npz": lambda: timed(lambda: load_npz(npz)),
                ".npz compressed": lambda: timed(lambda: load_npz(npz_c)),
            },
            args.repeat,
            show=lambda s: f"{s:.4f} s",
        )
        warm, plain, compressed = times["IDX (cached)"], times[".npz"], times[".npz compressed"]
    w, p, c = min(warm), min(plain), min(compressed)
    print(f"MNIST, 70,000 images, best of {args.repeat} (seconds)")
    print(f"  IDX .gz, first load (gunzip + SHA-256 + cache write): {cold:.4f}")
    print(f"  IDX, later loads (cached decompressed + SHA-256):     {w:.4f}")
    print(f"  .npz uncompressed (np.load):                         {p:.4f}")
    print(f"  .npz compressed (keras.datasets format):             {c:.4f}")
    uncompressed = side_by_side.ratio(times, "IDX (cached)", ".npz")
    print(f"ratio verified IDX / npz uncompressed: {uncompressed}  {side_by_side.goal(uncompressed.best, 1.5)}")
    print(f"ratio verified IDX / npz compressed:   {side_by_side.ratio(times, 'IDX (cached)', '.npz compressed')}")
    print(f"ratio first IDX load / npz uncompressed: {cold / p:.2f}  (one-time cost per source file)")


if __name__ == "__main__":
    main()
