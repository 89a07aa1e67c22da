"""``list``, ``report``, ``audit`` and ``export-weights``: the commands that read or rewrite a results folder."""

from __future__ import annotations

import sys
from pathlib import Path

from keras_lecture_zoo.reproductions.cli import published
from keras_lecture_zoo.reproductions.console import plural
from keras_lecture_zoo.reproductions.errors import UsageError
from keras_lecture_zoo.reproductions.spec import MAX_SEED


def list_targets(markdown=False):
    """The targets, a line each, or (``--markdown``) the table the README quotes."""
    from keras_lecture_zoo.reproductions import targets

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
        print(f"{name:28s} {t.kind:5s} {plural(full.seeds, 'seed')} (quick {quick.seeds}){epochs}  {t.title}")
    return 0


def export_weights_command(args):
    """Write the named targets' declared weight sets from a full run into the zoo (see reproductions.export)."""
    from keras_lecture_zoo.reproductions import targets
    from keras_lecture_zoo.reproductions.export import export_weights
    from keras_lecture_zoo.zoo.weights import TRAINED_DIR

    chosen, unknown = targets.resolve(args.targets)
    if unknown:
        hints = [m for name in unknown for m in targets.close_matches(name)]
        hint = f"; closest matches: {', '.join(dict.fromkeys(hints))}" if hints else ""
        raise UsageError(f"unknown target {', '.join(map(repr, unknown))}{hint}")
    without = [n for n in chosen if not targets.get(n).exports]
    if without:
        having = [n for n in targets.names() if targets.get(n).exports]
        raise UsageError(f"{', '.join(without)} declare(s) no weight sets; these do: {', '.join(having) or 'none'}")
    source = Path(args.source) if args.source else published.PUBLISHED
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


def known_targets():
    """Every target of this code, by name."""
    from keras_lecture_zoo.reproductions import targets

    return {name: targets.get(name) for name in targets.names()}


def audit_command(args):
    """Print one line per finding of reproductions.audit over a results folder; 1 if there is any, else 0."""
    from keras_lecture_zoo.reproductions.audit import audit
    from keras_lecture_zoo.reproductions.results_folder import result_folders

    out = Path(args.output_dir) if args.output_dir else published.PUBLISHED
    folders = result_folders(out)
    if not folders:
        raise UsageError(f"--output-dir {str(out)!r} holds no target results to audit")
    findings = audit(out, known_targets())
    for line in findings:
        print(line)
    print(f"audit: {len(findings)} finding(s) over {len(folders)} target folders in {out}/", file=sys.stderr)
    return 1 if findings else 0


def report_command(args):
    """``report``: rewrite a results folder's index, re-judge stored runs (``--rejudge``), or set two sets side
    by side (``--compare``)."""
    from keras_lecture_zoo.reproductions import report, results_folder, results_index, targets

    if args.publish:
        out = published.publish_folder(args.output_dir, "works on")
    else:
        out = Path(args.output_dir or published.USER_RESULTS)
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
            if not results_folder.result_folders(folder):
                raise UsageError(
                    f"{flag} {str(folder)!r} holds no results (no <target>/summary.csv); "
                    "give a results folder such as results/"
                )
        print(results_index.compare(out, other, known_targets()))
        return 0
    if published.is_published(out) and not args.publish:
        raise UsageError(
            f"{str(out)!r} is the published results set; `report` rewrites its index (and --rejudge its "
            "summaries) only with --publish"
        )
    commit = published.check_publishable("rewrites the published tables") if args.publish else None
    if args.rejudge is not None:
        names = None
        if args.rejudge:
            names, unknown = targets.resolve(args.rejudge)
            if unknown:
                raise UsageError(
                    f"--rejudge: unknown target {', '.join(unknown)}; `python -m reproductions list` shows them"
                )
        commit = commit or published.git_commit()
        done, skipped = report.rejudge(out, commit, known_targets(), names)
        print(
            f"re-judged {len(done)} targets under the criteria at {commit}"
            + (f"; skipped folders of unknown targets: {', '.join(skipped)}" if skipped else "")
        )
    if args.publish:
        _refuse_unaudited(out)
    df = results_index.write_index(
        out, known=targets.names() if published.is_published(out) else None, judges=known_targets()
    )
    print(f"wrote {out / 'README.md'} ({plural(len(df), 'row')})")
    return 0


def _refuse_unaudited(out):
    """The published index is written only over rows that pass the audit (a hand-edited summary, a verdict its
    measurements do not give, a stale judgement: each is a finding)."""
    from keras_lecture_zoo.reproductions.audit import audit

    findings = audit(out, known_targets())
    if findings:
        raise UsageError(
            f"the published set has {len(findings)} audit finding(s), the first: {findings[0]}; "
            "`python -m reproductions audit` lists them (`report --publish --rejudge` re-judges stale rows)"
        )
