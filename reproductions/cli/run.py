"""``run``: the targets and settings a command line asks for, checked before anything trains; the plan; the run;
and its verdict rows at the end."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from keras_lecture_zoo.reproductions.cli import published, record, results
from keras_lecture_zoo.reproductions.console import plural
from keras_lecture_zoo.reproductions.errors import UsageError
from keras_lecture_zoo.reproductions.settings import RunSettings, SettingsError, parse_seeds

__all__ = ["run_command", "settings_from"]


def run_command(args, argv):
    """``run TARGET...``: refuse what cannot run in one line before anything trains, plan, run, show the verdicts."""
    from keras_lecture_zoo.reproductions import targets

    settings = settings_from(args)
    _select_backend(settings.backend)  # before anything imports Keras
    chosen = _chosen(args)
    _check_targets(chosen, settings)
    if settings.strategy == "multiworker":
        _check_tf_config()
    chosen = _with_needs(chosen, settings)
    if settings.publish:
        _check_publish(args, chosen, settings)
    else:
        published.refuse_published(settings.output_dir, "--output-dir")
    plan = _plan(chosen, settings)
    if args.dry_run:  # before the folder checks: a plan for another machine's folders is fine
        _print_plan(plan, settings, dry=True)
        return 0
    settings.check_output_dir()
    if settings.verbose:
        _print_plan(plan, settings, dry=False)

    from keras_lecture_zoo.reproductions.suite import run_targets

    known = results.known_targets() if published.is_published(settings.output_dir) else None
    code = run_targets([targets.get(name) for name in chosen], settings, record.run_record(argv, settings), known)
    if (settings.output_dir / "README.md").is_file():  # the chief of a multiworker run, or any other run
        _print_verdicts(settings.output_dir, chosen)
    return code


def settings_from(args):
    """The run's :class:`~reproductions.settings.RunSettings` from the parsed command line (checked as it is made)."""
    if args.publish:
        output_dir = published.publish_folder(args.output_dir, "writes")
    else:
        suffix = (f"-{args.dataset}" if args.dataset else "") + ("-quick" if args.quick else "")
        output_dir = Path(args.output_dir or published.USER_RESULTS + suffix)
    return RunSettings(
        output_dir=output_dir,
        profile="quick" if args.quick else "full",
        seeds=parse_seeds(args.seeds),
        data_dir=args.data_dir,
        dataset=args.dataset,
        backend=args.backend,
        strategy=args.strategy,
        devices=args.devices,
        jobs=args.jobs,
        resume=args.resume,
        verbose=args.verbose,
        publish=args.publish,
    )


def _chosen(args):
    """The target names the command line asks for (families and 'all' expanded), or one line naming the unknown."""
    from keras_lecture_zoo.reproductions import targets

    requested = list(args.targets) + (["all"] if args.all else [])
    if not requested:
        raise UsageError("run needs at least one TARGET (or --all)")
    chosen, unknown = targets.resolve(requested)
    if unknown:
        hints = [m for name in unknown for m in targets.close_matches(name)]
        hint = f"; closest matches: {', '.join(dict.fromkeys(hints))}" if hints else ""
        raise UsageError(f"unknown target {', '.join(map(repr, unknown))}{hint}")
    return chosen


def _check_targets(chosen, settings):
    """Every chosen target runs under these settings (its data set; TensorFlow code of its own on TensorFlow)."""
    from keras_lecture_zoo.reproductions import targets

    for name in chosen:
        try:
            settings.check_target(targets.get(name))
        except SettingsError as exc:
            if settings.dataset is None:
                raise
            supporting = [n for n in targets.names() if settings.dataset in targets.get(n).datasets]
            raise SettingsError(f"{exc}; targets offering it: {', '.join(supporting) or 'none'}") from None
    _check_backends(chosen)


def _select_backend(name):
    """Make ``name`` the Keras backend of this process (and of its --jobs workers); Keras must not be loaded
    yet, or already be on that backend."""
    if name is None:
        return
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
    from keras_lecture_zoo.reproductions import targets
    from keras_lecture_zoo.reproductions.engine import backend_name

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


def _check_tf_config():
    """TF_CONFIG for --strategy multiworker, checked by the one validator the strategy itself uses."""
    from keras_lecture_zoo.reproductions.distribute import tf_config

    try:
        cfg = tf_config()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if cfg is None:
        raise UsageError(
            "--strategy multiworker needs TF_CONFIG in the environment (the cluster's workers and this "
            "task's index); see the README section 'Several GPUs or machines'"
        )


def _with_needs(chosen, settings):
    """``chosen`` with each target's ``needs`` before it: a needed target is added when the output folder does
    not already keep its trained networks from a run of this profile (and moved ahead when also chosen)."""
    from keras_lecture_zoo.reproductions import targets
    from keras_lecture_zoo.reproductions.results_folder import has_networks

    ordered = []
    for name in chosen:
        for need in targets.get(name).needs:
            if need in ordered:
                continue
            default = targets.get(need).datasets[0] if targets.get(need).datasets else None
            kept = has_networks(settings.output_dir / need, settings.profile, settings.dataset or default)
            if need in chosen or not kept:
                if need not in chosen:
                    print(f"{name} uses the networks {need} trains; running {need} first", flush=True)
                ordered.append(need)
        if name not in ordered:
            ordered.append(name)
    return ordered


def _check_publish(args, chosen, settings):
    """The checks of ``run --publish``: the full profile, the default data sets, a clean commit, and no
    fewer seeds than the published set (or the target's full profile) holds."""
    from keras_lecture_zoo.reproductions import targets

    if settings.quick:
        raise UsageError(
            "--publish replaces published results with a full run; drop --quick (quick runs go to "
            f"{published.USER_RESULTS}-quick/)"
        )
    if settings.dataset:
        raise UsageError(
            f"--publish covers the default data sets; --dataset {settings.dataset} runs go to "
            f"{published.USER_RESULTS}-{settings.dataset}/"
        )
    published.check_publishable("replaces published results")
    for name in chosen:
        target = targets.get(name)
        wanted = target.run_seeds("full", settings.seeds)
        kept = published.published_record(name).get("seeds") or []
        dropped = sorted(set(kept) - set(wanted))
        if dropped:
            keep = sorted(set(kept) | set(wanted))
            flag = f"--seeds {len(keep)}" if keep == list(range(len(keep))) else "--seeds " + ",".join(map(str, keep))
            raise UsageError(
                f"--publish: the published {name} has seeds {_seed_text(kept)}; this run would drop "
                f"{_seed_text(dropped)}; run at least the published seeds ({flag})"
            )
        if len(wanted) < target.full.seeds:
            raise UsageError(
                f"--publish: {name} publishes {target.full.seeds} seeds (its full profile), --seeds gives "
                f"{len(wanted)}; leave out --seeds"
            )


def _seed_text(seeds):
    """Seeds as a reader scans them: a consecutive run of three or more as ``first..last``."""
    seeds = list(seeds)
    consecutive = len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"{seeds[0]}..{seeds[-1]}" if consecutive else ",".join(map(str, seeds))


def _plan(chosen, settings):
    """Per target: its seeds and the published full run's wall time, scaled to this run's seed count; none where
    this run differs from the published one in profile, backend or strategy (a time that does not apply)."""
    from keras_lecture_zoo.reproductions import targets

    plan = []
    for name in chosen:
        wanted = targets.get(name).run_seeds(settings.profile, settings.seeds)
        estimate, cpu = None, None
        run = {} if settings.quick else published.published_record(name)
        unlike = _unlike(run, settings)
        try:
            if run.get("seeds") and not unlike:
                estimate = float(run["wall_time_seconds"]) * len(wanted) / len(run["seeds"])
                cpu = run.get("hardware", {}).get("cpu")
        except (KeyError, TypeError, ValueError):
            pass
        plan.append({"target": name, "seeds": wanted, "estimate": estimate, "cpu": cpu, "unlike": unlike})
    return plan


def _unlike(run, settings):
    """How this run differs from the published ``run`` in what sets its speed (backend, strategy); "" if not."""
    if not run:
        return ""
    backend = settings.backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
    theirs = run.get("backend") or "tensorflow"
    strategy = (run.get("distribution") or {}).get("strategy", "default")
    if backend != theirs:
        return f"no published timing on {backend} (the published run is {theirs}'s)"
    if settings.strategy != strategy:
        return f"no published timing under --strategy {settings.strategy} (the published run: {strategy})"
    return ""


def _print_plan(plan, settings, dry):
    from keras_lecture_zoo.reproductions.console import fmt_seconds as fmt

    def _fmt_seconds(s):
        return "under 1 s" if s < 1 else f"about {fmt(s)}"

    seeds = sum(len(p["seeds"]) for p in plan)
    head = "would run" if dry else "running"
    print(
        f"{head} {plural(len(plan), 'target')} ({plural(seeds, 'seed')}, "
        f"{settings.profile} profile) into {settings.output_dir}/",
        flush=True,
    )
    known = [p["estimate"] for p in plan if p["estimate"] is not None]
    if dry:
        width = max(len(p["target"]) for p in plan)
        for p in plan:
            took = (
                f"published run: {_fmt_seconds(p['estimate'])}"
                if p["estimate"] is not None
                else p["unlike"] or "no published timing"
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

    from keras_lecture_zoo.reproductions import report

    rows = []
    for name in chosen:
        path = output_dir / name / "summary.csv"
        if path.is_file():
            rows.append(pd.read_csv(path))
    if not rows:
        return
    df = pd.concat(rows, ignore_index=True)
    theirs = None
    if not published.is_published(output_dir) and published.PUBLISHED.is_dir():
        paths = [published.PUBLISHED / n / "summary.csv" for n in chosen]
        frames = [pd.read_csv(path) for path in paths if path.is_file()]
        if frames:
            pub = pd.concat(frames, ignore_index=True)
            theirs = dict(zip(zip(pub["target"], pub["metric"]), pub["verdict"]))

    def short(text, n=44):
        text = str(text).split(";")[0]
        return text if len(text) <= n else text[: n - 1] + "…"

    table = [("target", "row", "ours", "reference", "criterion", "verdict") + (("published",) if theirs else ())]
    for r in df.to_dict("records"):
        line = (
            r["target"],
            r["metric"],
            report.ours_text(r) + (f" (n={r['n']})" if r["n"] > 1 else ""),
            report.format_number(r["reference"]),
            short(r["criterion"]),
            r["verdict"],
        )
        if theirs:
            line += (theirs.get((r["target"], r["metric"]), "–"),)
        table.append(tuple(map(str, line)))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    print()
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    counts = df["verdict"].value_counts()
    print("\n" + f"{plural(len(df), 'row')}: " + ", ".join(f"{int(n)} {v}" for v, n in counts.items()))
    where = f"results in {output_dir}/ (table: {output_dir / 'README.md'}; per target: <target>/summary.md)"
    print(
        where
        if published.is_published(output_dir)
        else where + f"; beside the published set: python -m reproductions report --output-dir {output_dir} "
        f"--compare {_shown(published.PUBLISHED)}"
    )


def _shown(path):
    """``path`` relative to the current directory when it lies below it (as a user would type it)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
