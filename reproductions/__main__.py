"""Command line: ``python -m reproductions list | run TARGET... | report`` (console script ``zoo-repro``).

Bad input (an unknown target, a malformed option, bad or missing data, a resume that does not fit
the work it would continue) exits with status 2 and one line naming the problem and the fix (the
closest matches for a misspelt target), and leaves nothing behind; ``--verbose 2`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
import traceback
from pathlib import Path

from reproductions.spec import MAX_SEED  # light: no TensorFlow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


MAX_SEED_COUNT = 10_000  # --seeds N beyond this is surely meant as one seed


def _parse_seeds(text):
    if text is None:
        return None
    if text.strip() == "0":
        raise UsageError("--seeds 0 would run no seeds: --seeds N is a count (seeds 0..N-1); for seed 0 alone "
                         "write --seeds 1 or the list --seeds 0,")
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
        else:
            count = int(text)
            if count < 1:
                raise ValueError
            if count > MAX_SEED_COUNT:
                raise UsageError(f"--seeds {text} is a count of seeds (0..N-1), at most {MAX_SEED_COUNT:,}; for that one "
                                 f"seed write the list --seeds {text},")
            seeds = list(range(count))
    except ValueError:
        raise UsageError(f"--seeds must be a count (e.g. 5) or a comma-separated list (e.g. 0,1,7), got {text!r}") from None
    if not seeds:
        raise UsageError(f"--seeds {text!r} names no seed: give a count (e.g. 5) or a list (e.g. 0,1,7)")
    if any(s < 0 or s > MAX_SEED for s in seeds):
        raise UsageError(f"--seeds must be integers from 0 to {MAX_SEED} (2**32-1), got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds must be distinct non-negative integers, got {text!r}")
    return seeds


def _check_output_dir(path):
    """An --output-dir that is a folder, or can be made as one; checked before anything is created."""
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"--output-dir {str(path)!r} is a file, not a folder; give a folder for the results")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"--output-dir {str(path)!r} is not writable; give a folder you can write to")
        return
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"--output-dir {str(path)!r} cannot be created: {str(parent)!r} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--output-dir {str(path)!r} cannot be created: no write permission in {str(parent)!r}")


def _check_tf_config():
    """TF_CONFIG for --strategy multiworker, checked by the one validator the strategy itself uses."""
    from reproductions.distribute import tf_config

    try:
        cfg = tf_config()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if cfg is None:
        raise UsageError("--strategy multiworker needs TF_CONFIG in the environment (the cluster's workers and this "
                         "task's index); see the README section 'Several GPUs or machines'")


def build_parser():
    parser = _Parser(prog="python -m reproductions", description="Reproduce the lectures' results as Keras runs.")
    sub = parser.add_subparsers(dest="command", metavar="{list,run,report}")
    sub.required = True
    sub.add_parser("list", help="list the targets")
    run = sub.add_parser("run", help="run targets (names or families such as 'gates'; 'all' for every target)")
    run.add_argument("targets", nargs="*", metavar="TARGET")
    run.add_argument("--all", action="store_true", help="run every target")
    run.add_argument("--seeds", help="number of seeds (5) or a list (0,1,7); default: the target's profile")
    run.add_argument("--quick", action="store_true", help="the quick profile (fewer epochs, seeds and images)")
    run.add_argument("--data-dir", help="folder with mnist/ and fashion-mnist/ IDX files (default $ZOO_DATA_DIR)")
    run.add_argument("--output-dir", help="results folder (default results/, or results-quick/ with --quick)")
    run.add_argument("--resume", action="store_true", help="continue from the last finished seed and epoch")
    run.add_argument("--dataset", help="another data set for targets that offer one (residual.*: cifar10 via "
                     "tensorflow-datasets); default output folder results-<dataset>/")
    run.add_argument("--jobs", type=int, default=1, help="run a target's seeds as N parallel processes (same numbers as serial)")
    run.add_argument("--strategy", default="default", help="tf.distribute strategy: default (one device), mirrored "
                     "(all local GPUs, or --devices logical CPU devices), multiworker (from TF_CONFIG; only the chief "
                     "writes results), tpu")
    run.add_argument("--devices", type=int, default=2, help="logical CPU devices for --strategy mirrored on a machine "
                     "without GPUs (default 2)")
    run.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="0: suite lines only; 1: a line per epoch; 2: plus Keras's progress bar")
    seed = sub.add_parser("_seed")  # internal: one seed in its own process (the --jobs workers)
    seed.add_argument("target")
    seed.add_argument("seed", type=int)
    seed.add_argument("--output-dir", required=True)
    seed.add_argument("--quick", action="store_true")
    seed.add_argument("--data-dir")
    seed.add_argument("--dataset")
    seed.add_argument("--threads", type=int, default=0)
    seed.add_argument("--verbose", type=int, default=1)
    rep = sub.add_parser("report", help="regenerate results/README.md; --compare another results set")
    rep.add_argument("--output-dir", default="results")
    rep.add_argument("--compare", metavar="OTHER", help="a results folder to compare with, per target and metric")
    rep.add_argument("--rejudge", nargs="*", metavar="TARGET",
                     help="judge the stored runs of these targets (all when none is named) again under the current "
                          "criteria: summaries and figures remade, measured numbers kept byte for byte")
    return parser


def _git_commit():
    """Commit and dirty state of the source tree the running package was imported from (not of the
    current directory); 'unknown (...)' when that tree is not a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        if Path(top).resolve() != root:
            return f"unknown (the package at {root} is not the root of a git checkout)"
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", ".", ":!results", ":!results-*"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown (the package at {root} is not in a git checkout)"


def _record(argv, data_dir):
    import keras
    import matplotlib
    import numpy
    import pandas
    import sklearn
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from reproductions.runner import source_digest

    return {
        "command": "python -m reproductions " + shlex.join(argv),
        "git_commit": _git_commit(),
        "source_sha256": source_digest(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "data_dir": str(data_dir or os.environ.get("ZOO_DATA_DIR") or "download cache (no local data directory)"),
        "versions": {
            "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": numpy.__version__, "pandas": pandas.__version__, "scikit-learn": sklearn.__version__,
            "matplotlib": matplotlib.__version__,
        },
        "hardware": {
            "cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        },
    }


def _refusal_types():
    from reproductions.distribute import StrategyError
    from reproductions.errors import RunRefused
    from zoo.data import ChecksumError

    return (RunRefused, ChecksumError, StrategyError)


def _one_line(exc):
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        args = build_parser().parse_args(argv)
        if args.command == "list":
            return _list()
        if args.command == "report":
            return _report(args)
        if args.command == "_seed":
            return _seed(args)
        return _run(args, argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not isinstance(exc, _refusal_types()):
            raise
        if getattr(args, "verbose", 1) > 1:
            traceback.print_exc()
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _list():
    from reproductions import targets

    for name in targets.names():
        t = targets.get(name)
        full, quick = t.full, t.quick
        epochs = f", {full.epochs} epochs (quick {quick.epochs})" if t.kind == "fit" else ""
        print(f"{name:28s} {t.kind:5s} {full.seeds} seeds (quick {quick.seeds}){epochs}  {t.title}")
    return 0


def _seed(args):
    import tensorflow as tf

    from reproductions import targets
    from reproductions.runner import configure_determinism, run_seed

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    configure_determinism()
    run_seed(targets.get(args.target), args.seed, quick=args.quick, output_dir=Path(args.output_dir), verbose=args.verbose,
             data_dir=Path(args.data_dir) if args.data_dir else None, dataset=args.dataset)
    return 0


def _report(args):
    from reproductions import report, targets

    out = Path(args.output_dir)
    if not out.is_dir():
        raise UsageError(f"--output-dir {str(out)!r} is not a directory")
    if args.compare:
        other = Path(args.compare)
        if not other.is_dir():
            raise UsageError(f"--compare {str(other)!r} is not a directory")
        for folder, flag in ((out, "--output-dir"), (other, "--compare")):
            if not report.result_folders(folder):
                raise UsageError(f"{flag} {str(folder)!r} holds no results (no <target>/summary.csv); "
                                 "give a results folder such as results/")
        print(report.compare(out, other))
        return 0
    if args.rejudge is not None:
        names = None
        if args.rejudge:
            names, unknown = targets.resolve(args.rejudge)
            if unknown:
                raise UsageError(f"--rejudge: unknown target {', '.join(unknown)}; `python -m reproductions list` "
                                 "shows them")
        commit = _git_commit()
        done, skipped = report.rejudge(out, commit, names)
        print(f"re-judged {len(done)} targets under the criteria at {commit}"
              + (f"; skipped folders of unknown targets: {', '.join(skipped)}" if skipped else ""))
    df = report.write_index(out)
    print(f"wrote {out / 'README.md'} ({len(df)} rows)")
    return 0


def _run(args, argv):
    from reproductions import targets
    from reproductions.runner import STRATEGIES

    requested = list(args.targets) + (["all"] if args.all else [])
    if not requested:
        raise UsageError("run needs at least one TARGET (or --all)")
    chosen, unknown = targets.resolve(requested)
    if unknown:
        hints = [m for name in unknown for m in targets.close_matches(name)]
        hint = f"; closest matches: {', '.join(dict.fromkeys(hints))}" if hints else ""
        raise UsageError(f"unknown target {', '.join(map(repr, unknown))}{hint}")
    seeds = _parse_seeds(args.seeds)
    if args.jobs < 1:
        raise UsageError(f"--jobs must be a positive number of processes, got {args.jobs}")
    if args.strategy not in STRATEGIES:
        raise UsageError(f"--strategy must be one of {list(STRATEGIES)}, got {args.strategy!r}")
    if args.jobs > 1 and args.strategy != "default":
        raise UsageError(f"--jobs {args.jobs} cannot be combined with --strategy {args.strategy}: --jobs runs seeds as "
                         "single-device processes, a strategy gives one seed all devices; use one or the other")
    if args.devices < 1:
        raise UsageError(f"--devices must be a positive number of logical CPU devices, got {args.devices}")
    if args.strategy == "multiworker":
        _check_tf_config()
    data_dir = Path(args.data_dir) if args.data_dir else None
    if data_dir is not None and not data_dir.is_dir():
        raise UsageError(f"--data-dir {args.data_dir!r} is not a directory")
    dataset = args.dataset
    if dataset is not None:
        for name in chosen:
            offered = targets.get(name).datasets
            if dataset not in offered:
                supporting = [n for n in targets.names() if dataset in targets.get(n).datasets]
                raise UsageError(
                    f"--dataset {dataset!r} is not offered by target {name!r} (it offers {list(offered) or 'only its own'}); "
                    f"targets offering it: {', '.join(supporting) or 'none'}"
                )
    default_out = "results" + (f"-{dataset}" if dataset else "") + ("-quick" if args.quick else "")
    output_dir = Path(args.output_dir or default_out)
    _check_output_dir(output_dir)

    from reproductions.fileio import LockedError
    from reproductions.runner import SeedProcessError, run_targets

    try:
        return run_targets(
            chosen, seeds=seeds, quick=args.quick, data_dir=data_dir, output_dir=output_dir,
            resume=args.resume, strategy=args.strategy, verbose=args.verbose, record=_record(argv, data_dir),
            dataset=dataset, jobs=args.jobs, cpu_devices=args.devices,
        )
    except LockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except SeedProcessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
