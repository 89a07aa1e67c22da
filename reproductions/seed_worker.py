"""One seed of a target in its own process: the ``--jobs`` workers of :mod:`reproductions.suite`.

``python -m reproductions.seed_worker MODULE TARGET SEED --output-dir DIR [...]``: the suite names the
module that defines the target, so the worker imports it as its parent did, with no registry lookup."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path


def _target(module_name, name):
    module = importlib.import_module(module_name)
    for target in getattr(module, "TARGETS", None) or [module.TARGET]:
        if target.name == name:
            return target
    raise SystemExit(f"error: {module_name} defines no target {name!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproductions.seed_worker")
    parser.add_argument("module")
    parser.add_argument("target")
    parser.add_argument("seed", type=int)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--data-dir")
    parser.add_argument("--dataset")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)
    if args.verbose < 2:
        from reproductions.quiet import silence_tensorflow_logs

        silence_tensorflow_logs()
    from reproductions.distribute import StrategyError
    from reproductions.errors import RunRefused
    from reproductions.suite import configure_determinism, run_seed
    from zoo.data import ChecksumError

    if args.threads:
        _limit_threads(args.threads)
    configure_determinism()
    try:
        run_seed(
            _target(args.module, args.target),
            args.seed,
            quick=args.quick,
            output_dir=Path(args.output_dir),
            verbose=args.verbose,
            data_dir=Path(args.data_dir) if args.data_dir else None,
            dataset=args.dataset,
        )
    except (RunRefused, ChecksumError, StrategyError) as exc:  # a refusal: one line, exit 2, as the CLI
        print("error: " + " ".join(part.strip() for part in str(exc).splitlines() if part.strip()), file=sys.stderr)
        return 2
    return 0


def _limit_threads(threads):
    """Give this worker ``threads`` compute threads on the active Keras backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
    # JAX: not limited (XLA sizes its CPU thread pool when it starts; --jobs workers share the cores)


if __name__ == "__main__":
    sys.exit(main())
