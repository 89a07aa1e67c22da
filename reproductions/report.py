"""Result tables (pandas → CSV + Markdown), figures (matplotlib, headless) and the results index."""

from __future__ import annotations

import math
import re
import shutil
import statistics
from pathlib import Path

import pandas as pd

from keras_lecture_zoo.reproductions.figures import draw_curves
from keras_lecture_zoo.reproductions.fileio import (
    atomic_write_text,
    fault_point,
    recover,
    sha256_of,
    swap_in,
    target_lock,
)
from keras_lecture_zoo.reproductions.integrity import RUN_SHA256, verify_folder
from keras_lecture_zoo.reproductions.judge import finite_by_seed, qualifier, summary_rows
from keras_lecture_zoo.reproductions.results_folder import (
    RUN_DATA,
    SUMMARY_COLUMNS,
    check_index,
    load_results,
    result_folders,
    target_name,
    write_run_data,
)
from keras_lecture_zoo.reproductions.spec import (
    CLAIM_MIN_SEEDS,
    FAILS_AS_PREDICTED,
    MISSED,
    SCHEDULE_SHORT,
)

__all__ = [
    "write_target",
    "rejudge",
    "summary_rows",
    "format_number",
    "ours_text",
    "markdown_table",
    "section",
    "miss_numbers",
]


def markdown_table(df) -> str:
    """A GitHub-flavoured Markdown table of a DataFrame (cells as strings, pipes escaped)."""

    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def section(title, *parts) -> str:
    """One section of a target's summary.md: ``## title``, then each part as a paragraph: text as it is (a figure
    is ``"![what it shows](file.png)"``), a DataFrame or a list of row dicts as a table. Sections join with
    ``"\\n".join``."""
    lines = [f"## {title}", ""]
    for part in parts:
        if isinstance(part, list):
            part = pd.DataFrame(part)
        lines += [markdown_table(part) if isinstance(part, pd.DataFrame) else str(part), ""]
    return "\n".join(lines)


def format_number(x, digits=4):
    """A number as the tables print it (``digits`` significant), or a dash for none."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.{digits}f}" if abs(x) >= 1e-3 else f"{x:.3g}"


def miss_numbers(ref, results):
    """What the run's own numbers say about a missed row (computed, so it cannot go stale)."""
    finite = finite_by_seed(ref.metric, results)
    if not finite:
        diverged = sum(1 for r in results.values() if r.get("diverged_epoch"))
        return f"no seed gave a finite value ({diverged} diverged)"
    if ref.trained:
        failed = [
            f"seed {s}: {t.metric} = {format_number(results[s]['metrics'].get(t.metric))}, needs {t.compare} "
            f"{t.value:g} ({t.what})"
            for s in finite
            for t in ref.trained
            if not t.holds(results[s]["metrics"])
        ]
        if failed:
            return "; ".join(failed)
    if ref.tolerance is not None:
        mean = statistics.fmean(finite.values())
        off = mean - ref.value
        times = f", {abs(off) / ref.tolerance:.1f}× the tolerance" if ref.tolerance else ""
        return (
            f"ours {format_number(mean)} is {off:+.4g} from {ref.value:g}{times} "
            f"(seeds {format_number(min(finite.values()))} to {format_number(max(finite.values()))})"
        )
    if ref.cls == "claim":
        effects = dict(zip(finite, ref.effects(finite.values())))
        one = (
            f"; one seed cannot show an effect beyond the seed-to-seed noise (a claim needs n ≥ {CLAIM_MIN_SEEDS})"
            if len(effects) < CLAIM_MIN_SEEDS
            else ""
        )
        return (
            "effect beyond the margin "
            + f"{ref.margin:g} per seed: "
            + ", ".join(f"seed {s}: {e:+.4g}" for s, e in effects.items())
            + " (needs every seed > 0, or the mean "
            "above 2 standard errors with n ≥ 3)" + one
        )
    failing = [f"seed {s}: {format_number(v)}" for s, v in finite.items() if not ref.holds(v)]
    return f"seeds where {ref.metric} {ref.compare} {ref.value:g} fails: " + ", ".join(failing)


def ours_text(row):
    """Our side of a summary row as the tables print it: mean ± std, or a dash when no seed measured it."""
    if row["n"] == 0:
        return "–"
    if row["n"] == 1 or row["std"] == 0:
        return format_number(row["mean"])
    return f"{format_number(row['mean'])} ± {format_number(row['std'])}"


def _summary_markdown(target, rows, results, record, extra="", curves=False):
    """The target's summary.md; ``curves``: curves.png (per-epoch history) is drawn beside it and shown."""
    lines = [f"# {target.name}: {target.title}", "", f"Source: {target.source}.", ""]
    table = pd.DataFrame(
        [
            {
                "metric": r["metric"],
                "class": r["class"],
                "ours (mean ± std)": ours_text(r),
                "min": format_number(r["min"]),
                "max": format_number(r["max"]),
                "n seeds": r["n"],
                "reference": format_number(r["reference"]),
                "criterion": r["criterion"],
                "source": r["source"],
                "verdict": r["verdict"],
                "qualifier": r.get("qualifier", ""),
            }
            for r in rows
        ]
    )
    lines += [
        markdown_table(table)
        if rows
        else "No results rows: the source gives no number or claim for this "
        "experiment (see the criterion history and the notes).",
        "",
    ]
    missed = [(ref, r) for ref, r in zip(target.references, rows) if r["verdict"] in MISSED]
    if missed:
        lines += ["**Missed** (kept in the table; computed from this run's numbers):", ""]
        for ref, r in missed:
            line = f"- `{ref.metric}` ({r['verdict']}): {miss_numbers(ref, results)}"
            granted, evidence = qualifier(ref, r["verdict"], target, results, record)
            if evidence:
                line += (
                    f". Qualifier {SCHEDULE_SHORT}: {evidence}"
                    if granted
                    else f". The schedule is shorter than the source's ({target.full.short_of}), but this is not "
                    f"'{SCHEDULE_SHORT}': {evidence}"
                )
            cause = target.causes.get(ref.metric) or target.causes.get("*")
            if cause:
                line += f". Likely cause: {cause(results)}"
            lines.append(line)
        lines.append("")
    predicted = [ref for ref, r in zip(target.references, rows) if r["verdict"] == FAILS_AS_PREDICTED]
    if predicted:
        lines += [
            "**Fails as predicted** (the source predicts the failure in this setup; it happened, and its positive "
            "control fitted):",
            "",
            *(f"- `{ref.metric}`: {ref.predicts_failure.text()}" for ref in predicted),
            "",
        ]
    deterministic = [ref.metric for ref in target.references if ref.deterministic]
    if deterministic:
        lines += [
            "Deterministic (nothing random in the method: its seeds repeat one measurement, counted once, n = 1): "
            + ", ".join(f"`{m}`" for m in deterministic),
            "",
        ]
    changed = [ref for ref in target.references if ref.history]
    if changed or target.retired:
        lines += ["## Criterion history", "", "Criteria changed or dropped after a results commit:", ""]
        for ref in changed:
            for c in ref.history:
                lines.append(f"- `{ref.metric}`: until {c.until}: {c.criterion}. Changed because {c.reason}")
            lines.append(f"- `{ref.metric}`: now: {ref.criterion()}")
        for r in target.retired:
            lines.append(f"- `{r.metric}`: until {r.until}: {r.criterion}. Dropped because {r.reason}")
        lines.append("")
    div = {s: r["diverged_epoch"] for s, r in results.items() if r.get("diverged_epoch")}
    if div:
        lines += [
            "Diverged seeds (non-finite loss): " + ", ".join(f"seed {s} at epoch {e}" for s, e in div.items()),
            "",
        ]
    if extra:
        lines += [extra.rstrip(), ""]
    if curves and "](curves.png)" not in extra:
        lines += ["## Training curves", "", "![loss and accuracy per epoch, train and validation](curves.png)", ""]
    if target.notes:
        lines += ["## Notes", "", target.notes, ""]
    lines += [
        "## Run",
        "",
        f"- command: `{record.get('command', '')}`",
        f"- seeds: {record.get('seeds')}; profile: {record.get('config', {}).get('profile')}",
        f"- wall time: {record.get('wall_time_seconds', 0):.1f} s",
        f"- git commit: {record.get('git_commit', 'unknown')}",
        *(
            [f"- made outside the checkout: {record['made_outside_checkout']}"]
            if record.get("made_outside_checkout")
            else []
        ),
        *(
            [
                "- verdicts re-judged from this run's stored metrics under the criteria at commit "
                f"{rows[0]['judged_commit']}"
            ]
            if rows and rows[0]["judged_commit"] != rows[0]["run_commit"]
            else []
        ),
        f"- versions: {', '.join(f'{k} {v}' for k, v in record.get('versions', {}).items())}",
        f"- hardware: {record.get('hardware', {}).get('cpu', 'unknown')}, "
        f"{record.get('hardware', {}).get('cores', '?')} cores, GPUs: {record.get('hardware', {}).get('gpus', [])}",
        *_epoch_time_lines(record),
        "",
        "Per-seed metrics: `metrics.csv`; per-epoch history: `history/seed_<s>.csv`; per-seed details (if any): "
        "`details.json`; full record: `run.json`.",
        "",
    ]
    return "\n".join(lines)


def _natural_key(name):
    """Sort key that reads the numbers in a name as numbers: width_2 before width_16, lr0.003 before lr0.01."""
    parts = re.split(r"(\d+(?:\.\d+)?)", name)
    return [(0, float(p), "") if i % 2 else (1, 0.0, p) for i, p in enumerate(parts)]


def _epoch_time_lines(record):
    per = record.get("seconds_per_epoch") or {}
    if not per:
        return []
    # run.json stores its keys sorted (width_16 before width_2): order the networks as their numbers do
    shown = "; ".join(
        f"{net} {per[net]['mean']:.1f} s (min {per[net]['min']:.1f}, max {per[net]['max']:.1f}, "
        f"{per[net]['epochs']} epochs)"
        for net in sorted(per, key=_natural_key)
    )
    where = "GPU" if (record.get("hardware") or {}).get("gpus") else "CPU"
    return [f"- wall time per training epoch on this {where}: {shown}"]


def write_target(output_dir, target, results, record, judged_commit="", stored=None):
    """Write ``output_dir/<target>/`` (staged, then swapped in whole); return the summary rows.

    ``stored``: an existing folder of this target whose run data (metrics.csv, history, details.json,
    run.json) are copied byte for byte while the verdicts, summary and figures are made anew
    (``rejudge``); ``judged_commit`` names the code that judged them."""
    output_dir = Path(output_dir)
    results = target.with_derived(results)
    recover(output_dir / target.name)
    stage = output_dir / f".{target.name}.staging"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        rows = _stage_target(stage, target, results, record, judged_commit, stored)
        fault_point("results-staged")
        swap_in(stage, output_dir / target.name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # an error (a full disk, Ctrl-C) leaves the stored folder as it was
        raise
    return rows


def _stage_target(stage, target, results, record, judged_commit, stored):
    """Write a target's folder into ``stage``: its run data (or the ``stored`` run's, copied), summaries and figures."""
    if stored is not None:
        stage.mkdir(parents=True)
        for name in RUN_DATA:
            src = Path(stored) / name
            if src.is_dir():
                shutil.copytree(src, stage / name)
            elif src.is_file():
                shutil.copy2(src, stage / name)
    else:
        write_run_data(stage, results, record)
    rows = summary_rows(
        target,
        results,
        record.get("wall_time_seconds", 0.0),
        record.get("git_commit", ""),
        judged_commit,
        record=record,
    )
    run_digest = sha256_of(stage / "run.json")  # binds every row to the record of what was measured
    rows = [{**row, RUN_SHA256: run_digest} for row in rows]
    atomic_write_text(stage / "summary.csv", pd.DataFrame(rows, columns=SUMMARY_COLUMNS).to_csv(index=False))
    extra = target.report(results, stage) if target.report else ""
    curves = any(r["history"] for r in results.values())
    atomic_write_text(stage / "summary.md", _summary_markdown(target, rows, results, record, extra, curves=curves))
    if curves:
        draw_curves(stage / "curves.png", target, results)
    return rows


def rejudge(output_dir, judged_commit, known, names=None):
    """Judge every stored target run in ``output_dir`` (or those in ``names``) again under the current
    criteria of ``known`` (target name -> Target), remaking summaries and figures; the measured data stay
    byte for byte. Returns the targets re-judged and the folders skipped (no such target in this code)."""
    output_dir = Path(output_dir)
    check_index(output_dir)
    done, skipped = [], []
    for folder in result_folders(output_dir):
        name = target_name(folder)
        if names is not None and name not in names:
            continue
        if name not in known:
            skipped.append(name)
            continue
        with target_lock(output_dir / ".work", name):  # the lock a run of this target holds: one writer at a time
            recover(output_dir / name)  # a swap a crash interrupted: the stored run is back in place, not aside
            folder = output_dir / name
            record = verify_folder(folder, known[name], rejudging=judged_commit)  # only the run's own measurements
            write_target(
                output_dir, known[name], load_results(folder), record, judged_commit=judged_commit, stored=folder
            )
        done.append(name)
    return done, skipped
