"""Benchmark: the seconds the JAX test env (`tox -e jax`) spends building zoo models, with JAX's defaults against
the env's settings (XLA_FLAGS=--xla_backend_optimization_level=0 and an on-disk compilation cache that keeps
every compile), for two fresh processes that build the same models: a test stage's two pytest-xdist workers.

On JAX every eager initializer compiles once per weight shape and per process; that, not the tests, was most of
the env's time. One measurement is the build time summed over the two processes (imports left out), each side
in fresh processes (the cache side with a fresh cache folder). Rounds alternate the sides (``side_by_side``);
best-of-rounds, medians and their ratio are printed (goal: the env's settings at most half the default's time).

    python tools/shared_env.py .tox --backend jax -- python benchmarks/jax_compile.py --rounds 3
"""

import argparse
import configparser
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import side_by_side  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CACHE = "JAX_COMPILATION_CACHE_DIR"  # tox.ini's points into .tox; each measurement here gets a fresh folder
BUILD = """
import json, sys, time
from keras_lecture_zoo import zoo
seconds = {}
for name in sys.argv[1].split(","):
    t = time.perf_counter()
    zoo.build(name)
    seconds[name] = time.perf_counter() - t
print(json.dumps(seconds))
"""


def tox_settings():
    """The XLA and JAX variables that tox.ini's [testenv:jax] sets (read from it, so the two cannot drift)."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "tox.ini")
    pairs = (line.split("=", 1) for line in cfg["testenv:jax"]["set_env"].splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if k.strip().startswith(("XLA_", "JAX_"))}


def _env(settings):
    """This environment without the settings under test, then ``settings`` (none: JAX's defaults)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_", "JAX_"))}
    return {**env, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO), **settings}


def two_processes(models, settings):
    """Build seconds of ``models``, summed over two fresh processes run one after the other."""
    total = 0.0
    with tempfile.TemporaryDirectory() as cache:
        env = _env({**settings, CACHE: cache} if settings else {})
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", BUILD, models], env=env, capture_output=True, text=True, check=True
            ).stdout
            total += sum(json.loads(out.strip().splitlines()[-1]).values())
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--models",
        default="plain20,densenet_bc",
        help="comma-separated zoo names each process builds (default: plain20,densenet_bc)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be a positive integer, got {args.rounds}")
    settings = tox_settings()
    print(
        f"building {args.models} in two fresh JAX processes, seconds summed; tox -e jax sets "
        f"{', '.join(f'{k}={v}' for k, v in settings.items() if k != CACHE)} and {CACHE} (a fresh folder here):",
        flush=True,
    )
    times = side_by_side.alternate(
        {
            "JAX defaults": lambda: two_processes(args.models, None),
            "tox -e jax settings": lambda: two_processes(args.models, settings),
        },
        args.rounds,
    )
    ratio = side_by_side.ratio(times, "tox -e jax settings", "JAX defaults")
    print(f"tox -e jax settings over JAX defaults: {ratio} {side_by_side.goal(ratio.best, 0.5)}")


if __name__ == "__main__":
    main()
