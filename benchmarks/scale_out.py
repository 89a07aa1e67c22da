"""Benchmark: training throughput with 1 vs 2 logical CPU devices (--strategy mirrored) and
wall time of a target's seeds with --jobs 1 vs --jobs 2, both measured here side by side, as ratios.

Part 1 trains keras.io's MNIST convnet (zoo.mnist_convnet) on synthetic 28×28×1 batches of 128 under
the default strategy and under MirroredStrategy over 2 logical CPU devices. Each configuration runs in
its own process (logical devices must be set before TensorFlow starts); rounds alternate the order of all
four sides (``side_by_side``) and the best of each is kept (interference only adds time), beside the
medians. Part 2 runs fashion.mlp's quick profile for 2 seeds serially and as 2 processes.

What to expect: on this 2-core CPU two logical devices share the same cores, so mirrored can only add
overhead (ratio <= 1); the point here is correctness, tested elsewhere. On a machine with N GPUs the
mirrored strategy splits every global batch N ways and all-reduces the gradients: at most Nx, less as
the per-GPU batch shrinks and the all-reduce grows (not measured here: no GPU). --jobs helps when one
seed cannot use all cores (small models, per-epoch overhead): up to cores/threads-per-seed.

    python benchmarks/scale_out.py --rounds 3 --steps 40
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks import side_by_side  # noqa: E402

WORKER = r"""
import json, os, sys, time
sys.path.insert(0, {repo!r})
import numpy as np, tensorflow as tf, keras
devices = {devices}
if devices > 1:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
    strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
else:
    strategy = tf.distribute.get_strategy()
from keras_lecture_zoo import zoo
rng = np.random.default_rng(0)
x = rng.uniform(size=({steps} * 128, 28, 28, 1)).astype("float32")
y = rng.integers(0, 10, len(x))
with strategy.scope():
    model = zoo.mnist_convnet()
    model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x[:512], y[:512], batch_size=128, epochs=1, verbose=0)  # trace and warm up
t0 = time.perf_counter()
model.fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=False)
print(json.dumps({{"images_per_second": len(x) / (time.perf_counter() - t0)}}))
"""


def devices_round(devices, steps):
    code = WORKER.format(repo=str(REPO), devices=devices, steps=steps)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["images_per_second"]


def jobs_round(jobs, data_dir):
    with tempfile.TemporaryDirectory() as out:
        argv = [
            sys.executable,
            "-m",
            "reproductions",
            "run",
            "fashion.mlp",
            "--quick",
            "--seeds",
            "2",
            "--jobs",
            str(jobs),
            "--output-dir",
            out,
            "--verbose",
            "0",
        ]
        argv += ["--data-dir", data_dir] if data_dir else []
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=REPO, capture_output=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="batches of 128 per throughput measurement")
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"))
    args = parser.parse_args()
    rate = lambda v: f"{v:.0f} img/s"  # noqa: E731
    times = side_by_side.alternate(
        {
            "1 device": lambda: devices_round(1, args.steps),
            "2 logical devices": lambda: devices_round(2, args.steps),
            "--jobs 1": lambda: jobs_round(1, args.data_dir),
            "--jobs 2": lambda: jobs_round(2, args.data_dir),
        },
        args.rounds,
        show={
            "1 device": rate,
            "2 logical devices": rate,
            "--jobs 1": side_by_side.seconds,
            "--jobs 2": side_by_side.seconds,
        },
    )
    print(f"cores: {os.cpu_count()}")
    mirrored = side_by_side.ratio(times, "2 logical devices", "1 device", higher_is_better=True)
    print(f"mirrored over 2 logical CPU devices / 1 device, throughput: {mirrored}")
    jobs = side_by_side.ratio(times, "--jobs 1", "--jobs 2")
    print(f"--jobs 2 / --jobs 1, speed-up in wall time for 2 seeds: {jobs}")


if __name__ == "__main__":
    main()
