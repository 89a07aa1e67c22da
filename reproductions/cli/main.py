"""Command line: ``python -m reproductions list | run TARGET... | report | export-weights TARGET...`` (console
script ``zoo-repro``).

A run writes into ``my-results/`` (the user's own folder) unless ``--publish`` asks in so many words to
replace the published set ``results/``; ``report --compare results`` sets the two side by side.
Bad input (an unknown target, a malformed option, bad or missing data, a resume that does not fit
the work it would continue) exits with status 2 and one line naming the problem and the fix (the
closest matches for a misspelt target), and leaves nothing behind; ``--verbose 2`` adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from keras_lecture_zoo import BackendMissing
from keras_lecture_zoo.reproductions.cli import published, results
from keras_lecture_zoo.reproductions.errors import SeedProcessError, UsageError
from keras_lecture_zoo.reproductions.settings import BACKENDS, SettingsError  # light: no TensorFlow

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser():
    """The command line's parser: its subcommands and their options, each mistake one line (exit status 2)."""
    parser = _Parser(prog="python -m reproductions", description="Reproduce the lectures' results as Keras runs.")
    sub = parser.add_subparsers(dest="command", metavar="{list,run,report,audit,export-weights}")
    sub.required = True
    listing = sub.add_parser("list", help="list the targets")
    listing.add_argument("--markdown", action="store_true", help="as the Markdown table the README quotes")
    run = sub.add_parser("run", help="run targets (names or families such as 'gates'; 'all' for every target)")
    run.add_argument("targets", nargs="*", metavar="TARGET")
    run.add_argument("--all", action="store_true", help="run every target")
    run.add_argument("--seeds", help="number of seeds (5) or a list (0,1,7); default: the target's profile")
    run.add_argument("--quick", action="store_true", help="the quick profile (fewer epochs, seeds and images)")
    run.add_argument("--data-dir", help="folder with mnist/ and fashion-mnist/ IDX files (default $ZOO_DATA_DIR)")
    run.add_argument(
        "--output-dir",
        help=f"results folder (default {published.USER_RESULTS}/, {published.USER_RESULTS}-quick/ with --quick)",
    )
    run.add_argument(
        "--publish",
        action="store_true",
        help="replace the published set results/ (a full run from a clean commit, with at least the published seeds)",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="print the targets, seeds, folder and the published run's wall time, and stop",
    )
    run.add_argument("--resume", action="store_true", help="continue from the last finished seed and epoch")
    run.add_argument(
        "--dataset",
        help="another data set for targets that offer one (residual.*: cifar10 via "
        f"tensorflow-datasets); default output folder {published.USER_RESULTS}-<dataset>/",
    )
    run.add_argument(
        "--backend",
        default=None,
        help="Keras backend to train on: tensorflow, jax or torch (default: $KERAS_BACKEND, else tensorflow)",
    )
    run.add_argument(
        "--jobs", type=int, default=1, help="run a target's seeds as N parallel processes (same numbers as serial)"
    )
    run.add_argument(
        "--strategy",
        default="default",
        help="tf.distribute strategy: default (one device), mirrored "
        "(all local GPUs, or --devices logical CPU devices), multiworker (from TF_CONFIG; only the chief "
        "writes results), tpu",
    )
    run.add_argument(
        "--devices",
        type=int,
        default=2,
        help="logical CPU devices for --strategy mirrored on a machine without GPUs (default 2)",
    )
    run.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="0: suite lines only; 1: a line per epoch; 2: plus Keras's progress bar and TensorFlow's own log lines",
    )
    rep = sub.add_parser(
        "report",
        help=f"regenerate {published.USER_RESULTS}/README.md; --compare results sets yours beside the published one",
    )
    rep.add_argument("--output-dir", help=f"the results folder (default {published.USER_RESULTS}/)")
    rep.add_argument("--publish", action="store_true", help="work on the published set results/ (clean commit only)")
    rep.add_argument(
        "--compare",
        metavar="OTHER",
        help="a results folder to compare with, per target and metric (e.g. results, the published set)",
    )
    rep.add_argument(
        "--rejudge",
        nargs="*",
        metavar="TARGET",
        help="judge the stored runs of these targets (all when none is named) again under the current "
        "criteria: summaries and figures remade, measured numbers kept byte for byte",
    )
    aud = sub.add_parser(
        "audit",
        help="check every stored row against its measurements and the verdict rules; one "
        "line per finding, exit 1 if any",
    )
    aud.add_argument("--output-dir", help="the results folder to audit (default: the published set results/)")
    exp = sub.add_parser(
        "export-weights",
        help="turn a full run's trained networks into the zoo's weight sets (zoo/trained/ and its manifest)",
    )
    exp.add_argument("targets", nargs="+", metavar="TARGET")
    exp.add_argument(
        "--from",
        dest="source",
        help="the results folder holding the run (default: the published set "
        "results/, with the weights files its run kept)",
    )
    exp.add_argument("--seed", type=int, help="take this seed's network instead of the target's declared choice")
    exp.add_argument("--into", help="the zoo's weights folder to write (default: zoo/trained of this checkout)")
    return parser


def _refusal_types():
    from keras_lecture_zoo.reproductions.distribute import StrategyError
    from keras_lecture_zoo.reproductions.errors import RunRefused
    from keras_lecture_zoo.zoo.data import ChecksumError

    return (RunRefused, ChecksumError, StrategyError)


def _one_line(exc):
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def main(argv=None):
    """Run one command line (``argv``, else the process's); returns the exit status: 0, 1 (a seed process
    failed), 2 (a refusal or bad input), 3 (a target another run holds) or 130 (Ctrl-C)."""
    command_line = argv is None  # the real command line (not a call from Python): its streams are ours to manage
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    if command_line:
        from keras_lecture_zoo.reproductions.console import guard_stdout

        guard_stdout()  # `... | head` or a full device never ends a run: progress goes nowhere, results are written
    try:
        args = build_parser().parse_args(argv)
        _check_backend_variable()
        if command_line and getattr(args, "verbose", 1) < 2:
            from keras_lecture_zoo.quiet import silence_tensorflow_logs

            silence_tensorflow_logs()
        return _dispatch(args, argv)
    except (UsageError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resume = (
            " the same command with --resume continues from the last finished epoch"
            if args and args.command == "run"
            else ""
        )
        print(f"interrupted;{resume or ' nothing was half-written'}", file=sys.stderr)
        return 130
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        if getattr(args, "verbose", 1) > 1:
            traceback.print_exc()
        print(f"error: {_error_line(exc)}", file=sys.stderr)
        return code


def _dispatch(args, argv):
    if args.command == "list":
        return results.list_targets(args.markdown)
    if args.command == "report":
        return results.report_command(args)
    if args.command == "export-weights":
        return results.export_weights_command(args)
    if args.command == "audit":
        return results.audit_command(args)
    from keras_lecture_zoo.reproductions.cli.run import run_command

    return run_command(args, argv)


def _exit_code(exc):
    """The documented exit status of an error the command line says in one line (None: a bug, shown whole):
    3 for a target another run holds, 1 for a seed process that failed, 2 for refusals and OS errors."""
    if isinstance(exc, BackendMissing):  # before the imports below, which load Keras
        return 2
    from keras_lecture_zoo.reproductions.fileio import LockedError

    if isinstance(exc, LockedError):
        return 3
    if isinstance(exc, SeedProcessError):
        return 1
    if isinstance(exc, (*_refusal_types(), OSError, UnicodeError)):
        return 2
    return None


def _error_line(exc):
    from keras_lecture_zoo.reproductions.console import os_error_line

    if isinstance(exc, (OSError, UnicodeError)) and not isinstance(exc, _refusal_types()):
        return os_error_line(exc)
    return _one_line(exc)


def _check_backend_variable():
    """A misspelt $KERAS_BACKEND gets the one line a misspelt --backend gets, before Keras fails on it."""
    name = os.environ.get("KERAS_BACKEND")
    if name and name not in BACKENDS:
        raise UsageError(f"KERAS_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")
