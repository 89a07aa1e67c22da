"""Benchmark: one FashionSimpleNet training epoch on each Keras backend, beside the lecture's own PyTorch loop.

Each side runs in its own process (a process has one Keras backend), the sides alternating order from round
to round; every process first trains a few batches untimed (tracing and compilation), then times one epoch
of ``--images`` images at batch ``--batch`` (Adam, cross-entropy, the zoo's 421,642-parameter net); the
untimed batches include one of the epoch's last, partial size, so no (re)compilation is timed. Sides:

- ``tensorflow``, ``jax``, ``torch``: a plain Keras ``model.fit`` on in-memory arrays;
- ``jax-engine``, ``torch-engine``: the same fit through the engine's input path on those backends (a
  ``keras.utils.PyDataset`` of seeded-permutation batches), to see what our path costs;
- ``lecture``: the lecture's PyTorch FashionSimpleNet and its loop (``nn.Module``, ``optimizer.step()``),
  written anew here.

The images are random (timing does not depend on their values). Each backend's Python is found in its tox
environment (``.tox/shared``, ``.tox/shared-jax``, ``.tox/shared-torch``; ``tox -e jax`` / ``tox -e torch``
create them) or given with ``--python-BACKEND``. Prints per side the best and median seconds and the ratio of
each to TensorFlow's (best-of-rounds, medians, median of the per-round ratios; ``side_by_side``).

    python benchmarks/backend_epoch.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import side_by_side  # noqa: E402

SIDES = ("tensorflow", "jax", "torch", "jax-engine", "torch-engine", "lecture")
ENVS = {"tensorflow": "shared", "jax": "shared-jax", "torch": "shared-torch"}


def _backend(side):
    return "torch" if side == "lecture" else side.split("-")[0]


def _data(images):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random((images, 28, 28, 1), dtype="float32"), rng.integers(0, 10, images)


def _keras_epoch(side, images, batch, warmup):
    import keras
    import numpy as np

    from keras_lecture_zoo import zoo
    from keras_lecture_zoo.reproductions.engine.batching import batches as _batches

    x, y = _data(images)
    keras.utils.set_random_seed(0)
    model = zoo.build("fashion_simplenet", input_shape=(28, 28, 1))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    # untimed: full batches and one of the epoch's last (partial) size, so no compilation falls in the epoch
    seen = warmup * batch + images % batch
    model.fit(x[:seen], y[:seen], batch_size=batch, epochs=1, verbose=0)
    if side.endswith("-engine"):
        epoch_batches, _ = _batches({"x_train": x, "y_train": y, "x_val": None}, batch)
        data = epoch_batches([(np.random.default_rng([0, 0]).permutation(images), 0)])
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0, shuffle=False)
    else:
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
    return time.perf_counter() - start


def _lecture_epoch(images, batch, warmup):
    import numpy as np
    import torch
    from torch import nn

    class FashionSimpleNet(nn.Module):
        """The lecture's net: two conv3x3-relu-maxpool stages, dropout, 128 relu, 10 logits."""

        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 32, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, 2),
                nn.Conv2d(32, 64, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, 2),
            )
            self.classifier = nn.Sequential(
                nn.Dropout(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(inplace=True), nn.Linear(128, 10)
            )

        def forward(self, x):
            return self.classifier(self.features(x).reshape(x.size(0), 64 * 7 * 7))

    x, y = _data(images)
    x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    y = torch.from_numpy(y)
    torch.manual_seed(0)
    net = FashionSimpleNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()

    def epoch(order):
        net.train()
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            optimizer.zero_grad()
            loss = criterion(net(x[idx]), y[idx])
            loss.backward()
            optimizer.step()

    epoch(torch.arange(warmup * batch))
    start = time.perf_counter()
    epoch(torch.randperm(images))
    return time.perf_counter() - start


def _worker(side, images, batch, warmup):
    seconds = _lecture_epoch(images, batch, warmup) if side == "lecture" else _keras_epoch(side, images, batch, warmup)
    print(json.dumps({"side": side, "seconds": seconds}))


def _python_for(side, args):
    backend = _backend(side)
    given = getattr(args, f"python_{backend}")
    if given:
        return given
    candidate = ROOT / ".tox" / ENVS[backend] / "bin" / "python"
    return str(candidate) if candidate.exists() else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5, help="untimed batches before the timed epoch")
    parser.add_argument("--sides", default=",".join(SIDES))
    for backend in ENVS:
        parser.add_argument(f"--python-{backend}", default=None, help=f"the Python with Keras on {backend}")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.images, args.batch, args.warmup)
    sides = [s for s in args.sides.split(",") if s]
    unknown = [s for s in sides if s not in SIDES]
    if unknown or args.rounds < 1:
        parser.error(f"--sides must be a comma-separated subset of {', '.join(SIDES)} and --rounds >= 1")
    pythons = {s: _python_for(s, args) for s in sides}
    missing = [s for s, p in pythons.items() if p is None]
    if missing:
        print(
            f"skipping {', '.join(missing)}: no environment (run tox -e jax / tox -e torch, or pass --python-BACKEND)"
        )
        sides = [s for s in sides if s not in missing]

    def run_side(side):
        def measure():
            env = dict(os.environ, KERAS_BACKEND=_backend(side), TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
            out = subprocess.run(
                [
                    pythons[side],
                    __file__,
                    "--worker",
                    side,
                    "--images",
                    str(args.images),
                    "--batch",
                    str(args.batch),
                    "--warmup",
                    str(args.warmup),
                ],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
            )
            if out.returncode != 0:
                sys.exit(f"{side} failed:\n{out.stderr[-2000:]}")
            return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]

        return measure

    times = side_by_side.alternate({side: run_side(side) for side in sides}, args.rounds)
    base = times.get("tensorflow")
    print(
        f"\none epoch of {args.images} images, batch {args.batch}, {args.rounds} rounds "
        f"({os.cpu_count()} CPUs); ratio = this side / TensorFlow"
    )
    print(
        f"{'side':13s} {'best s':>8s} {'median s':>9s} {'best ratio':>11s} {'median ratio':>13s} "
        f"{'per-round ratio':>16s}"
    )
    for side in sides:
        best, median = min(times[side]), statistics.median(times[side])
        r = side_by_side.ratio(times, side, "tensorflow") if base else None
        ratios = f"{r.best:11.2f} {r.medians:13.2f} {r.per_round:16.2f}" if r else ""
        print(f"{side:13s} {best:8.2f} {median:9.2f} {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
