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


# The published results set: the committed tables of this checkout. Only `--publish` writes here.
PUBLISHED = Path(__file__).resolve().parents[1] / "results"
USER_RESULTS = "my-results"  # a user's runs, beside the published set (ignored by git)

MAX_SEED_COUNT = 10_000  # --seeds N beyond this is surely meant as one seed


def _parse_seeds(text):
    if text is None:
        return None
    if text.strip() == "0":
        raise UsageError(
            "--seeds 0 would run no seeds: --seeds N is a count (seeds 0..N-1); for seed 0 alone "
            "write --seeds 1 or the list --seeds 0,"
        )
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
        else:
            count = int(text)
            if count < 1:
                raise ValueError
            if count > MAX_SEED_COUNT:
                raise UsageError(
                    f"--seeds {text} is a count of seeds (0..N-1), at most {MAX_SEED_COUNT:,}; for that one "
                    f"seed write the list --seeds {text},"
                )
            seeds = list(range(count))
    except ValueError:
        raise UsageError(
            f"--seeds must be a count (e.g. 5) or a comma-separated list (e.g. 0,1,7), got {text!r}"
        ) from None
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


def _is_published(path):
    """Whether ``path`` is the published results folder or lies inside it."""
    path, published = Path(path).resolve(), PUBLISHED.resolve()
    return path == published or published in path.parents


def _refuse_published(path, flag):
    if _is_published(path):
        raise UsageError(
            f"{flag} {str(path)!r} is the published results set (committed tables); a run of yours goes "
            f"to {USER_RESULTS}/ by default, or pass --publish to replace the published set deliberately"
        )


def _check_publishable(what, flag="--publish"):
    """--publish (or another ``flag`` that writes the published set) needs a checkout with a results/ folder
    and a clean source tree (published numbers come from committed code); returns the commit."""
    if not PUBLISHED.is_dir():
        raise UsageError(
            f"{flag}: no published results folder at {PUBLISHED} (this is not a checkout of the "
            "project); write your run to a folder of your own with --output-dir"
        )
    commit = _git_commit()
    if commit.startswith("unknown") or commit.endswith("+uncommitted changes"):
        elsewhere = ", or write to your own folder without --publish" if flag == "--publish" else ""
        raise UsageError(
            f"{flag} {what} only from a clean commit, and the source tree is {commit}; commit "
            f"(or stash) your changes first{elsewhere}"
        )
    changed = _uncommitted_results()
    if changed:
        raise UsageError(
            f"{flag} {what} only over committed results, and {len(changed)} file(s) under "
            f"{PUBLISHED.name}/ differ from the commit (first: {changed[0]}); commit them, or restore "
            f"them with `git checkout -- {PUBLISHED.name}`"
        )
    return commit


def _uncommitted_results():
    """Paths under the published results folder that git shows as changed or untracked (ignored ones aside)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--", PUBLISHED.name],
        cwd=PUBLISHED.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def _published_record(name):
    """The run record (run.json) of the published run of target ``name``; {} when there is none."""
    import json

    try:
        record = json.loads((PUBLISHED / name / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _publish_folder(output_dir, what):
    """--publish works on the published set: an --output-dir elsewhere contradicts it."""
    if output_dir is not None and not _is_published(output_dir):
        raise UsageError(f"--publish {what} the published set {PUBLISHED}; drop --output-dir {output_dir!r}")
    return PUBLISHED


def _check_tf_config():
    """TF_CONFIG for --strategy multiworker, checked by the one validator the strategy itself uses."""
    from reproductions.distribute import tf_config

    try:
        cfg = tf_config()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if cfg is None:
        raise UsageError(
            "--strategy multiworker needs TF_CONFIG in the environment (the cluster's workers and this "
            "task's index); see the README section 'Several GPUs or machines'"
        )


def build_parser():
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
        "--output-dir", help=f"results folder (default {USER_RESULTS}/, {USER_RESULTS}-quick/ with --quick)"
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
        f"tensorflow-datasets); default output folder {USER_RESULTS}-<dataset>/",
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
        "report", help=f"regenerate {USER_RESULTS}/README.md; --compare results sets yours beside the published one"
    )
    rep.add_argument("--output-dir", help=f"the results folder (default {USER_RESULTS}/)")
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


def _git_commit():
    """Commit and dirty state of the source tree the running package was imported from (not of the
    current directory); 'unknown (...)' when that tree is not a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        if Path(top).resolve() != root:
            return f"unknown (the package at {root} is not the root of a git checkout)"
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!results", ":!results-*"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown (the package at {root} is not in a git checkout)"


def _record(argv, data_dir):
    import keras
    import matplotlib
    import numpy
    import pandas
    import sklearn

    from reproductions.engine import backend_name

    backend = backend_name()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from reproductions.suite import source_digest

    return {
        "command": "python -m reproductions " + shlex.join(portable_argv(argv)),
        "git_commit": _git_commit(),
        "source_sha256": source_digest(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "data": data_provenance(data_dir or os.environ.get("ZOO_DATA_DIR")),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            **_backend_versions(),
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "scikit-learn": sklearn.__version__,
            "matplotlib": matplotlib.__version__,
        },
        "backend": backend,
        "hardware": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "gpus": _accelerators(backend),
        },
    }


OUTSIDE = "<outside the checkout>"  # what a record shows for a folder of one machine's file system
_PATH_OPTIONS = ("--output-dir", "--data-dir", "--compare", "--from", "--into")


def portable_argv(argv):
    """``argv`` with every folder option's path made portable: relative to the checkout when inside it, else
    ``<outside the checkout>/<its name>``; a record names no machine's file system."""
    out, expect_path = [], False
    for arg in argv:
        option, eq, value = arg.partition("=")
        if expect_path:
            out.append(_portable_path(arg))
        elif eq and option in _PATH_OPTIONS:
            out.append(f"{option}={_portable_path(value)}")
        else:
            out.append(arg)
        expect_path = arg in _PATH_OPTIONS
    return out


def _portable_path(text):
    path = Path(text)
    if not path.is_absolute():
        return text
    try:
        return path.resolve().relative_to(PUBLISHED.parent).as_posix()
    except ValueError:
        return f"{OUTSIDE}/{path.name}"


def data_provenance(data_dir):
    """Where a run's data came from, by kind of place, and how each file was checked: by name and pinned digest,
    not by one machine's path."""
    from zoo.data.idx import DATASETS

    return {
        "source": "a local data folder (--data-dir or ZOO_DATA_DIR)" if data_dir else "the download cache",
        "check": "every file a run reads is checked against its pinned SHA-256 before use",
        "sha256": {name: dict(spec.sha256) for name, spec in sorted(DATASETS.items())},
    }


def _backend_versions():
    """{package: version} of the installed Keras backends (TensorFlow, JAX, PyTorch), without importing
    one that is not the active backend."""
    from importlib import metadata

    versions = {}
    for label, dist in (
        ("tensorflow", "tensorflow-cpu"),
        ("tensorflow", "tensorflow"),
        ("jax", "jax"),
        ("torch", "torch"),
    ):
        if label in versions:
            continue
        try:
            versions[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _accelerators(backend):
    """The accelerators the active ``backend`` trains on (names; empty on a CPU)."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [
            f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices() if d.platform != "cpu"
        ]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def _refusal_types():
    from reproductions.distribute import StrategyError
    from reproductions.errors import RunRefused
    from zoo.data import ChecksumError

    return (RunRefused, ChecksumError, StrategyError)


def _one_line(exc):
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def main(argv=None):
    command_line = argv is None  # the real command line (not a call from Python): its streams are ours to manage
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    if command_line:
        from reproductions.console import guard_stdout

        guard_stdout()  # `... | head` or a full device never ends a run: progress goes nowhere, results are written
    try:
        args = build_parser().parse_args(argv)
        _check_backend_variable()
        if command_line and getattr(args, "verbose", 1) < 2:
            from reproductions.quiet import silence_tensorflow_logs

            silence_tensorflow_logs()
        return _dispatch(args, argv)
    except UsageError as exc:
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
        return _list(args.markdown)
    if args.command == "report":
        return _report(args)
    if args.command == "export-weights":
        return _export_weights(args)
    if args.command == "audit":
        return _audit(args)
    return _run(args, argv)


def _exit_code(exc):
    """The documented exit status of an error the command line says in one line (None: a bug, shown whole):
    3 for a target another run holds, 1 for a seed process that failed, 2 for refusals and OS errors."""
    from reproductions.fileio import LockedError

    if isinstance(exc, LockedError):
        return 3
    suite = sys.modules.get("reproductions.suite")  # not imported: no seed process ran
    if suite is not None and isinstance(exc, suite.SeedProcessError):
        return 1
    if isinstance(exc, (*_refusal_types(), OSError, UnicodeError)):
        return 2
    return None


def _error_line(exc):
    from reproductions.console import os_error_line

    if isinstance(exc, (OSError, UnicodeError)) and not isinstance(exc, _refusal_types()):
        return os_error_line(exc)
    return _one_line(exc)


def _check_backend_variable():
    """A misspelt $KERAS_BACKEND gets the one line a misspelt --backend gets, before Keras fails on it."""
    name = os.environ.get("KERAS_BACKEND")
    if name and name not in BACKENDS:
        raise UsageError(f"KERAS_BACKEND must be one of {', '.join(BACKENDS)}, got {name!r}")


def _list(markdown=False):
    """The targets, a line each, or (``--markdown``) the table the README quotes."""
    from reproductions import targets

    if markdown:
        print("| target | kind | seeds (quick) | rows | what it reproduces |")
        print("|---|---|---|---:|---|")
    for name in targets.names():
        t = targets.get(name)
        full, quick = t.full, t.quick
        if markdown:
            print(f"| `{name}` | {t.kind} | {full.seeds} ({quick.seeds}) | {len(t.references)} | {t.title} |")
            continue
        epochs = f", {full.epochs} epochs (quick {quick.epochs})" if t.kind == "fit" else ""
        print(f"{name:28s} {t.kind:5s} {full.seeds} seeds (quick {quick.seeds}){epochs}  {t.title}")
    return 0


def _export_weights(args):
    """Write the named targets' declared weight sets from a full run into the zoo (see reproductions.export)."""
    from reproductions import targets
    from reproductions.export import export_weights
    from zoo.weights import TRAINED_DIR

    chosen, unknown = targets.resolve(args.targets)
    if unknown:
        hints = [m for name in unknown for m in targets.close_matches(name)]
        hint = f"; closest matches: {', '.join(dict.fromkeys(hints))}" if hints else ""
        raise UsageError(f"unknown target {', '.join(map(repr, unknown))}{hint}")
    without = [n for n in chosen if not targets.get(n).exports]
    if without:
        having = [n for n in targets.names() if targets.get(n).exports]
        raise UsageError(f"{', '.join(without)} declare(s) no weight sets; these do: {', '.join(having) or 'none'}")
    source = Path(args.source) if args.source else PUBLISHED
    if not source.is_dir():
        raise UsageError(f"--from {str(source)!r} is not a directory")
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed must be an integer from 0 to {MAX_SEED}, got {args.seed}")
    into = Path(args.into) if args.into else TRAINED_DIR
    for name in chosen:
        for entry in export_weights(targets.get(name), source / name, into, seed=args.seed):
            acc = entry["metrics"].get("test_accuracy")
            print(
                f"{entry['model']}/{entry['dataset']}: seed {entry['source']['seed']} of {name}"
                + (f", test accuracy {acc:.4f}" if acc is not None else "")
                + f", {entry['bytes'] / 1e6:.2f} MB -> {into / entry['file']}"
            )
    return 0


def _known_targets():
    """Every target of this code, by name."""
    from reproductions import targets

    return {name: targets.get(name) for name in targets.names()}


def _audit(args):
    """Print one line per finding of reproductions.audit over a results folder; 1 if there is any, else 0."""
    from reproductions.audit import audit
    from reproductions.report import result_folders

    out = Path(args.output_dir) if args.output_dir else PUBLISHED
    folders = result_folders(out)
    if not folders:
        raise UsageError(f"--output-dir {str(out)!r} holds no target results to audit")
    findings = audit(out, _known_targets())
    for line in findings:
        print(line)
    print(f"audit: {len(findings)} finding(s) over {len(folders)} target folders in {out}/", file=sys.stderr)
    return 1 if findings else 0


def _report(args):
    from reproductions import report, targets

    if args.publish:
        out = _publish_folder(args.output_dir, "works on")
    else:
        out = Path(args.output_dir or USER_RESULTS)
    if not out.is_dir():
        hint = (
            "; no run of yours yet (`python -m reproductions run gates` writes one), and the published set is "
            "--output-dir results"
            if args.output_dir is None
            else ""
        )
        raise UsageError(f"--output-dir {str(out)!r} is not a directory{hint}")
    if args.compare:
        other = Path(args.compare)
        if not other.is_dir():
            raise UsageError(f"--compare {str(other)!r} is not a directory")
        for folder, flag in ((out, "--output-dir"), (other, "--compare")):
            if not report.result_folders(folder):
                raise UsageError(
                    f"{flag} {str(folder)!r} holds no results (no <target>/summary.csv); "
                    "give a results folder such as results/"
                )
        print(report.compare(out, other, _known_targets()))
        return 0
    if _is_published(out) and not args.publish:
        raise UsageError(
            f"{str(out)!r} is the published results set; `report` rewrites its index (and --rejudge its "
            "summaries) only with --publish"
        )
    commit = _check_publishable("rewrites the published tables") if args.publish else None
    if args.rejudge is not None:
        names = None
        if args.rejudge:
            names, unknown = targets.resolve(args.rejudge)
            if unknown:
                raise UsageError(
                    f"--rejudge: unknown target {', '.join(unknown)}; `python -m reproductions list` shows them"
                )
        commit = commit or _git_commit()
        done, skipped = report.rejudge(out, commit, _known_targets(), names)
        print(
            f"re-judged {len(done)} targets under the criteria at {commit}"
            + (f"; skipped folders of unknown targets: {', '.join(skipped)}" if skipped else "")
        )
    if args.publish:
        _refuse_unaudited(out)
    df = report.write_index(out, known=targets.names() if _is_published(out) else None, judges=_known_targets())
    print(f"wrote {out / 'README.md'} ({len(df)} rows)")
    return 0


def _refuse_unaudited(out):
    """The published index is written only over rows that pass the audit (a hand-edited summary, a verdict its
    measurements do not give, a stale judgement: each is a finding)."""
    from reproductions.audit import audit

    findings = audit(out, _known_targets())
    if findings:
        raise UsageError(
            f"the published set has {len(findings)} audit finding(s), the first: {findings[0]}; "
            "`python -m reproductions audit` lists them (`report --publish --rejudge` re-judges stale rows)"
        )


BACKENDS = ("tensorflow", "jax", "torch")


def _select_backend(name):
    """Make ``name`` the Keras backend of this process (and of its --jobs workers); Keras must not be loaded
    yet, or already be on that backend."""
    if name is None:
        return
    if name not in BACKENDS:
        raise UsageError(f"--backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise UsageError(
                f"--backend {name}: Keras already runs on {keras.backend.backend()} in this process; "
                f"set KERAS_BACKEND={name} before Python starts"
            )
        return
    os.environ["KERAS_BACKEND"] = name


def _check_backends(chosen):
    """Refuse targets whose own code is TensorFlow on another backend (a tf.distribute strategy there is
    refused by :func:`reproductions.distribute.setup`)."""
    from reproductions import targets
    from reproductions.engine import backend_name

    backend = backend_name()
    if backend == "tensorflow":
        return
    refused = [(name, targets.get(name).tensorflow_only) for name in chosen if targets.get(name).tensorflow_only]
    if refused:
        why = "; ".join(f"{name}: {reason}" for name, reason in refused)
        raise UsageError(
            f"{len(refused)} target(s) run TensorFlow code of their own and need --backend tensorflow, "
            f"not {backend} ({why})"
        )


def _run(args, argv):
    _select_backend(args.backend)
    from reproductions import targets
    from reproductions.suite import STRATEGIES

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
        raise UsageError(
            f"--jobs {args.jobs} cannot be combined with --strategy {args.strategy}: --jobs runs seeds as "
            "single-device processes, a strategy gives one seed all devices; use one or the other"
        )
    if args.devices < 1:
        raise UsageError(f"--devices must be a positive number of logical CPU devices, got {args.devices}")
    _check_backends(chosen)
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
                    f"--dataset {dataset!r} is not offered by target {name!r} (it offers "
                    f"{list(offered) or 'only its own'}); "
                    f"targets offering it: {', '.join(supporting) or 'none'}"
                )
    if args.publish:
        folder = _publish_folder(args.output_dir, "writes")
    else:
        folder = Path(
            args.output_dir or USER_RESULTS + (f"-{dataset}" if dataset else "") + ("-quick" if args.quick else "")
        )
    chosen = _with_needs(chosen, folder, args.quick, dataset)
    if args.publish:
        output_dir = _publish_plan(args, chosen, seeds)
    else:
        output_dir = folder
        _refuse_published(output_dir, "--output-dir")
    plan = _plan(chosen, seeds, args.quick)
    if args.dry_run:  # before the folder checks: a plan for another machine's folders is fine
        _print_plan(plan, output_dir, args.quick, dry=True)
        return 0
    _check_output_dir(output_dir)
    if args.verbose:
        _print_plan(plan, output_dir, args.quick, dry=False)

    from reproductions.suite import run_targets

    code = run_targets(
        [targets.get(name) for name in chosen],
        seeds=seeds,
        quick=args.quick,
        data_dir=data_dir,
        output_dir=output_dir,
        resume=args.resume,
        strategy=args.strategy,
        verbose=args.verbose,
        record=_record(argv, data_dir),
        dataset=dataset,
        jobs=args.jobs,
        cpu_devices=args.devices,
        index_known=_known_targets() if _is_published(output_dir) else None,
    )
    if (output_dir / "README.md").is_file():  # the chief of a multiworker run, or any other run
        _print_verdicts(output_dir, chosen)
    return code


def _with_needs(chosen, output_dir, quick, dataset):
    """``chosen`` with each target's ``needs`` before it: a needed target is added when the output folder does
    not already keep its trained networks from a run of this profile (and moved ahead when also chosen)."""
    from reproductions import targets
    from reproductions.suite import has_networks

    ordered = []
    for name in chosen:
        for need in targets.get(name).needs:
            if need in ordered:
                continue
            default = targets.get(need).datasets[0] if targets.get(need).datasets else None
            if need in chosen or not has_networks(Path(output_dir) / need, quick, dataset or default):
                if need not in chosen:
                    print(f"{name} uses the networks {need} trains; running {need} first", flush=True)
                ordered.append(need)
        if name not in ordered:
            ordered.append(name)
    return ordered


def _publish_plan(args, chosen, seeds):
    """The checks of ``run --publish``: the full profile, the default data sets, a clean commit, and no
    fewer seeds than the published set (or the target's full profile) holds; returns the folder."""
    from reproductions import targets

    folder = _publish_folder(args.output_dir, "writes")
    if args.quick:
        raise UsageError(
            "--publish replaces published results with a full run; drop --quick (quick runs go to "
            f"{USER_RESULTS}-quick/)"
        )
    if args.dataset:
        raise UsageError(
            f"--publish covers the default data sets; --dataset {args.dataset} runs go to "
            f"{USER_RESULTS}-{args.dataset}/"
        )
    _check_publishable("replaces published results")
    for name in chosen:
        target = targets.get(name)
        wanted = target.run_seeds(False, seeds)
        published = _published_record(name).get("seeds") or []
        dropped = sorted(set(published) - set(wanted))
        if dropped:
            keep = sorted(set(published) | set(wanted))
            flag = f"--seeds {len(keep)}" if keep == list(range(len(keep))) else "--seeds " + ",".join(map(str, keep))
            raise UsageError(
                f"--publish: the published {name} has seeds {_seed_text(published)}; this run would drop "
                f"{_seed_text(dropped)}; run at least the published seeds ({flag})"
            )
        if len(wanted) < target.full.seeds:
            raise UsageError(
                f"--publish: {name} publishes {target.full.seeds} seeds (its full profile), --seeds gives "
                f"{len(wanted)}; leave out --seeds"
            )
    return folder


def _seed_text(seeds):
    """Seeds as a reader scans them: a consecutive run of three or more as ``first..last``."""
    seeds = list(seeds)
    consecutive = len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}..{seeds[-1]}" if consecutive else ",".join(map(str, seeds))


def _plan(chosen, seeds, quick):
    """Per target: its seeds and the published full run's wall time, scaled to this run's seed count."""
    from reproductions import targets

    plan = []
    for name in chosen:
        wanted = targets.get(name).run_seeds(quick, seeds)
        estimate, cpu = None, None
        record = {} if quick else _published_record(name)
        try:
            if record.get("seeds"):
                estimate = float(record["wall_time_seconds"]) * len(wanted) / len(record["seeds"])
                cpu = record.get("hardware", {}).get("cpu")
        except (KeyError, TypeError, ValueError):
            pass
        plan.append({"target": name, "seeds": wanted, "estimate": estimate, "cpu": cpu})
    return plan


def _print_plan(plan, output_dir, quick, dry):
    from reproductions.engine import fmt_seconds as fmt

    def _fmt_seconds(s):
        return "under 1 s" if s < 1 else f"about {fmt(s)}"

    seeds = sum(len(p["seeds"]) for p in plan)
    head = "would run" if dry else "running"
    print(
        f"{head} {len(plan)} target{'s' * (len(plan) != 1)} ({seeds} seed{'s' * (seeds != 1)}, "
        f"{'quick' if quick else 'full'} profile) into {output_dir}/",
        flush=True,
    )
    known = [p["estimate"] for p in plan if p["estimate"] is not None]
    if dry:
        width = max(len(p["target"]) for p in plan)
        for p in plan:
            took = (
                f"published run: {_fmt_seconds(p['estimate'])}" if p["estimate"] is not None else "no published timing"
            )
            print(f"  {p['target']:{width}s}  seeds {_seed_text(p['seeds']):10s}  {took}")
    if known:
        cpus = sorted({p["cpu"] for p in plan if p["cpu"]})
        missing = len(plan) - len(known)
        print(
            f"the published runs of {'these' if not missing else f'{len(known)} of these'} took "
            f"{_fmt_seconds(sum(known))} for these seeds (run.json wall times, on {', '.join(cpus) or 'unknown CPU'})",
            flush=True,
        )


def _print_verdicts(output_dir, chosen):
    """The end of a run: each row of what just ran (ours, reference, criterion, verdict, and the published
    verdict beside it), the counts, and where the results are."""
    import pandas as pd

    from reproductions import report

    rows = []
    for name in chosen:
        path = output_dir / name / "summary.csv"
        if path.is_file():
            rows.append(pd.read_csv(path))
    if not rows:
        return
    df = pd.concat(rows, ignore_index=True)
    published = None
    if not _is_published(output_dir) and PUBLISHED.is_dir():
        frames = [
            pd.read_csv(PUBLISHED / n / "summary.csv") for n in chosen if (PUBLISHED / n / "summary.csv").is_file()
        ]
        if frames:
            pub = pd.concat(frames, ignore_index=True)
            published = dict(zip(zip(pub["target"], pub["metric"]), pub["verdict"]))

    def short(text, n=44):
        text = str(text).split(";")[0]
        return text if len(text) <= n else text[: n - 1] + "…"

    table = [("target", "row", "ours", "reference", "criterion", "verdict") + (("published",) if published else ())]
    for r in df.to_dict("records"):
        line = (
            r["target"],
            r["metric"],
            report.ours_text(r) + (f" (n={r['n']})" if r["n"] > 1 else ""),
            report.format_number(r["reference"]),
            short(r["criterion"]),
            r["verdict"],
        )
        if published:
            line += (published.get((r["target"], r["metric"]), "–"),)
        table.append(tuple(map(str, line)))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    print()
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    counts = df["verdict"].value_counts()
    print("\n" + f"{len(df)} rows: " + ", ".join(f"{int(n)} {v}" for v, n in counts.items()))
    where = f"results in {output_dir}/ (table: {output_dir / 'README.md'}; per target: <target>/summary.md)"
    print(
        where
        if _is_published(output_dir)
        else where + f"; beside the published set: python -m reproductions report --output-dir {output_dir} "
        f"--compare {_shown(PUBLISHED)}"
    )


def _shown(path):
    """``path`` relative to the current directory when it lies below it (as a user would type it)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
