"""Benchmark: load + verify full MNIST from the IDX directory vs load the same arrays from an .npz.

Prints times (best of --repeat, interleaved so both see the same machine state) and the
ratios. Goal (issue #2): warm verified IDX load / uncompressed .npz load <= 1.5.

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
from zoo import data  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"), help="folder holding mnist/ (default $ZOO_DATA_DIR)")
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

        warm, plain, compressed = [], [], []
        for _ in range(args.repeat):
            warm.append(timed(lambda: data.load_arrays("mnist", args.data_dir)))
            plain.append(timed(lambda: load_npz(npz)))
            compressed.append(timed(lambda: load_npz(npz_c)))

    w, p, c = min(warm), min(plain), min(compressed)
    print(f"MNIST, 70,000 images, best of {args.repeat} (seconds)")
    print(f"  IDX .gz, first load (gunzip + SHA-256 + cache write): {cold:.4f}")
    print(f"  IDX, later loads (cached decompressed + SHA-256):     {w:.4f}")
    print(f"  .npz uncompressed (np.load):                         {p:.4f}")
    print(f"  .npz compressed (keras.datasets format):             {c:.4f}")
    print(f"ratio verified IDX / npz uncompressed: {w / p:.2f}  (goal <= 1.5: {'met' if w / p <= 1.5 else 'MISSED'})")
    print(f"ratio verified IDX / npz compressed:   {w / c:.2f}")
    print(f"ratio first IDX load / npz uncompressed: {cold / p:.2f}  (one-time cost per source file)")


if __name__ == "__main__":
    main()
