"""Result tables (pandas → CSV + Markdown), figures (matplotlib, headless) and the results index."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
import textwrap
from pathlib import Path

import pandas as pd

from reproductions.errors import UnsafeOutput
from reproductions.fileio import (
    aside,
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    fault_point,
    recover,
    sha256_of,
    swap_in,
    target_lock,
)
from reproductions.integrity import MEASUREMENTS, RUN_SHA256, Unverified, measurement_digests, verify_folder
from reproductions.judge import finite_by_seed, qualifier, summary_rows
from reproductions.spec import (
    CLAIM_MIN_SEEDS,
    CLASSES,
    DIVERGED,
    FAILS_AS_PREDICTED,
    MISSED,
    NO_DATA,
    NOT_REPRODUCED,
    NOT_TRAINED,
    REPRODUCED,
    SCHEDULE_SHORT,
)

__all__ = [
    "write_target",
    "write_index",
    "check_index",
    "compare",
    "summary_rows",
    "result_folders",
    "rejudge",
    "load_results",
    "class_counts",
    "criterion_tolerance",
    "format_number",
    "ours_text",
    "pyplot",
    "save_figure",
    "markdown_table",
    "INDEX_MARKER",
]

# The first line of every results index this tool writes: only such a README.md is ever overwritten.
INDEX_MARKER = (
    "<!-- results index written by `python -m reproductions`; regenerate with `python -m reproductions report` -->"
)
_LEGACY_INDEX_START = "# Results\n\nOne row per reference number: ours over seeds next to the published value."

LECTURE_COLUMNS = ("Epoch", "Train Loss", "Train Accuracy", "Validation Loss", "Validation Accuracy")
SUMMARY_COLUMNS = [
    "target",
    "metric",
    "class",
    "mean",
    "std",
    "min",
    "max",
    "n",
    "diverged",
    "reference",
    "criterion",
    "source",
    "verdict",
    "qualifier",
    "wall_time_s",
    "run_commit",
    "judged_commit",
    RUN_SHA256,
]
# The verdict columns of the per-class counts, in order; "fails as predicted" counts as reproduced. The
# qualifier is counted in a column of its own: a qualified row is still counted under "not reproduced".
COUNT_COLUMNS = (REPRODUCED, NOT_REPRODUCED, NOT_TRAINED, "diverged or no data")
QUALIFIER_COUNT = f"of which {SCHEDULE_SHORT} (qualifier)"


def markdown_table(df) -> str:
    """A GitHub-flavoured Markdown table of a DataFrame (cells as strings, pipes escaped)."""

    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


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


def pyplot():
    """matplotlib.pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=110):
    """Write ``fig`` to ``path`` as PNG atomically and close it."""
    with atomic_path(Path(path), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(fig)


def _curves(path, target, results):
    """Train (solid) and validation (dashed) loss and accuracy per epoch: one line per seed for up to
    five seeds, else the mean over seeds with a min-max band (seeds that stopped early drop out).
    Targets that train several networks get one panel per network, so every line is named."""
    histories = {seed: pd.DataFrame(r["history"]) for seed, r in sorted(results.items()) if r["history"]}
    if any("Network" in h for h in histories.values()):
        _network_curves(path, target, histories)
        return
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    losses = []
    if len(histories) <= 5:
        for seed, h in histories.items():
            for ax, kind in zip(axes, ("Loss", "Accuracy")):
                if f"Train {kind}" not in h:
                    continue
                (line,) = ax.plot(h["Epoch"], h[f"Train {kind}"], lw=1, label=f"train, seed {seed}")
                shown = [h[f"Train {kind}"]]
                if f"Validation {kind}" in h and h[f"Validation {kind}"].notna().any():
                    ax.plot(
                        h["Epoch"],
                        h[f"Validation {kind}"],
                        lw=1,
                        ls="--",
                        color=line.get_color(),
                        label=f"val, seed {seed}",
                    )
                    shown.append(h[f"Validation {kind}"])
                if kind == "Loss":
                    losses += shown
    else:
        for ax, kind in zip(axes, ("Loss", "Accuracy")):
            for split, style in (("Train", "-"), ("Validation", "--")):
                table = seed_table(histories, f"{split} {kind}")
                if table is None:
                    continue
                mean = table.mean(axis=1)
                (line,) = ax.plot(
                    mean.index, mean, ls=style, lw=1.5, label=f"{split.lower()}, mean of {table.shape[1]} seeds"
                )
                ax.fill_between(
                    mean.index,
                    table.min(axis=1),
                    table.max(axis=1),
                    color=line.get_color(),
                    alpha=0.2,
                    label=f"{split.lower()}, min-max",
                )
                if kind == "Loss":
                    losses += [table.min(axis=1), table.max(axis=1)]
    for ax, kind in zip(axes, ("Loss", "Accuracy")):
        _readable_axes(ax, losses if kind == "Loss" else [])
        ax.set_xlabel("epoch")
        ax.set_ylabel(kind.lower())
        ax.set_title(f"{target.name}: {kind.lower()}")
        ax.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[1]:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


LOG_LOSS_SPAN = 30  # max/min of a panel's positive losses above which its loss axis is logarithmic


def _compact_number(x, _pos=None):
    """Tick label without a run of zeros: 250, 5k, 200k, 1.5M."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:g}{suffix}"
    return f"{x:g}"


def _readable_axes(ax, losses):
    """At most six compact epoch ticks (a 200,000-epoch axis ran its labels together), and a log loss axis
    where the plotted losses are positive and span more than 1.5 decades (a fit's last decades are flat
    lines on a linear axis)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(_compact_number))
    values = pd.concat([pd.Series(v, dtype=float) for v in losses]) if losses else pd.Series(dtype=float)
    values = values[values.notna() & values.abs().lt(float("inf"))]
    if len(values) and values.min() > 0 and values.max() / values.min() > LOG_LOSS_SPAN:
        ax.set_yscale("log")


def seed_table(histories, column, network=None):
    """Epoch × seed table of one history column (one network's rows if given); None if empty."""
    parts = {
        s: (h[h["Network"] == network] if network is not None else h).set_index("Epoch")[column]
        for s, h in histories.items()
        if column in h and (network is None or "Network" in h)
    }
    table = pd.concat(parts, axis=1) if parts else None
    return None if table is None or table.empty or table.isna().all().all() else table


def _network_curves(path, target, histories):
    """One panel per network: loss (left axis) and accuracy (right axis), train solid and validation
    dashed, mean over seeds with a min-max band; one legend names the four kinds of line."""
    plt = pyplot()
    networks = list(dict.fromkeys(n for h in histories.values() if "Network" in h for n in h["Network"]))
    cols = min(4, len(networks))
    rows = -(-len(networks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.6 * rows), squeeze=False)
    for ax in axes.ravel()[len(networks) :]:
        ax.axis("off")
    named = {}
    for ax, network in zip(axes.ravel(), networks):
        right, losses = None, []
        for kind, color in (("Loss", "tab:blue"), ("Accuracy", "tab:orange")):
            for split, style in (("Train", "-"), ("Validation", "--")):
                table = seed_table(histories, f"{split} {kind}", network)
                if table is None:
                    continue
                if kind == "Accuracy" and right is None:
                    right = ax.twinx()
                    right.set_ylim(-0.02, 1.02)
                    right.tick_params(labelsize=6)
                where = right if kind == "Accuracy" else ax
                mean = table.mean(axis=1)
                label = f"{split.lower()} {kind.lower()}" + (" (right axis)" if kind == "Accuracy" else "")
                (line,) = where.plot(mean.index, mean, ls=style, lw=1.2, color=color)
                named.setdefault(label, line)
                if table.shape[1] > 1:
                    where.fill_between(mean.index, table.min(axis=1), table.max(axis=1), color=color, alpha=0.15)
                if kind == "Loss":
                    losses += [table.min(axis=1), table.max(axis=1)]
        _readable_axes(ax, losses)
        ax.set_title(network, fontsize=8)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    for i, ax in enumerate(axes.ravel()[: len(networks)]):
        if i + cols >= len(networks):  # the lowest panel of its column
            ax.set_xlabel("epoch", fontsize=7)
    for ax in axes[:, 0]:
        ax.set_ylabel("loss", fontsize=7)
    seeds = len(histories)
    title = f"{target.name}: per network, " + (f"mean of {seeds} seeds with min-max band" if seeds > 1 else "one seed")
    # wrapped to the figure's width: a one-panel figure cut a one-line title at both sides
    title = textwrap.fill(title, width=max(30, int(fig.get_figwidth() * 14)))
    fig.suptitle(title, fontsize=9)
    # the legend in one row where the panels are wide enough (3 or more columns), else two to a row
    ncol = max(1, len(named) if cols >= 3 else min(2, len(named)))
    legend_rows = -(-len(named) // ncol)
    if named:
        fig.legend(list(named.values()), list(named), loc="lower center", ncol=ncol, fontsize=7, frameon=False)
    # the title's and the legend's extra lines get height of their own rather than the panels'
    fig.set_figheight(fig.get_figheight() + 0.16 * title.count("\n") + 0.17 * (legend_rows - 1))
    fig.tight_layout(rect=(0, (0.05 + 0.17 * legend_rows) / fig.get_figheight(), 1, 1))
    save_figure(fig, path)


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
        _write_run_data(stage, results, record)
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
        _curves(stage / "curves.png", target, results)
    return rows


# What a run measured, as opposed to what the report derives from it (summaries, verdicts, figures).
RUN_DATA = ("metrics.csv", "history", "details.json", "run.json", "networks")
NETWORKS_MANIFEST = "networks/manifest.json"


def _write_run_data(stage, results, record):
    (stage / "history").mkdir(parents=True)
    per_seed = []
    for seed, r in sorted(results.items()):
        metrics = dict(sorted(r["metrics"].items()))  # canonical column order, however the run was assembled
        per_seed.append(
            {
                "seed": seed,
                "diverged_epoch": r.get("diverged_epoch"),
                "wall_time_s": round(r["wall_time"], 2),
                **metrics,
            }
        )
        if r["history"]:
            cols = list(dict.fromkeys([*LECTURE_COLUMNS, *(k for row in r["history"] for k in row)]))
            atomic_write_text(
                stage / "history" / f"seed_{seed}.csv", pd.DataFrame(r["history"], columns=cols).to_csv(index=False)
            )
    if not any(r["history"] for r in results.values()):
        (stage / "history").rmdir()
    atomic_write_text(stage / "metrics.csv", pd.DataFrame(per_seed).to_csv(index=False))
    if any(r.get("extras") for r in results.values()):
        atomic_write_json(
            stage / "details.json", {str(seed): r.get("extras", {}) for seed, r in sorted(results.items())}
        )
    _write_networks(stage, results)
    atomic_write_json(stage / "run.json", {**record, MEASUREMENTS: measurement_digests(stage)})


def _write_networks(stage, results):
    """Each seed's trained networks as artifacts: ``networks/seed_<s>/<network>.weights.h5`` and one
    manifest (network, seed, SHA-256, size, the recipe as run and the network's final metrics), so
    another target or the zoo can reuse a trained network and check it is the one this run made."""
    import shutil

    entries = []
    for seed, r in sorted(results.items()):
        for network, entry in sorted((r.get("networks") or {}).items()):
            item = {"network": network, "seed": seed, **{k: v for k, v in entry.items() if k != "file"}}
            if entry.get("file"):
                rel = f"networks/seed_{seed}/{network}.weights.h5"
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(entry["file"], stage / rel)
                item["file"] = rel
            entries.append(item)
    if entries:
        atomic_write_json(stage / NETWORKS_MANIFEST, {"networks": entries})


def load_results(folder):
    """A results folder's run data back as the runner's results by seed (metrics, history, extras)."""
    folder = Path(folder)
    table = pd.read_csv(folder / "metrics.csv")
    details = json.loads((folder / "details.json").read_text()) if (folder / "details.json").is_file() else {}
    results = {}
    for row in table.to_dict("records"):
        seed = int(row.pop("seed"))
        diverged = row.pop("diverged_epoch", None)
        wall = row.pop("wall_time_s", 0.0)
        history = []
        path = folder / "history" / f"seed_{seed}.csv"
        if path.is_file():
            for h in pd.read_csv(path).to_dict("records"):
                history.append(
                    {k: (None if _missing(v) else v) for k, v in h.items() if k in LECTURE_COLUMNS or not _missing(v)}
                )
        results[seed] = {
            "metrics": {k: float(v) for k, v in row.items()},
            "history": history,
            "extras": details.get(str(seed), {}),
            "wall_time": float(wall),
            "diverged_epoch": None if _missing(diverged) else int(diverged),
        }
    return results


def _missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def rejudge(output_dir, judged_commit, known, names=None):
    """Judge every stored target run in ``output_dir`` (or those in ``names``) again under the current
    criteria of ``known`` (target name -> Target), remaking summaries and figures; the measured data stay
    byte for byte. Returns the targets re-judged and the folders skipped (no such target in this code)."""
    output_dir = Path(output_dir)
    check_index(output_dir)
    done, skipped = [], []
    for folder in result_folders(output_dir):
        name = _target_name(folder)
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


def result_folders(output_dir):
    """The target folders of a results set: visible folders with a summary.csv. Hidden working
    folders (``.work``, ``.<target>.staging``, ``.<target>.old``, ``.worker-<i>``) are never results;
    a target whose swap a crash interrupted (only ``.<target>.old`` left) is read from there."""
    output_dir = Path(output_dir)
    found = {}
    if not output_dir.is_dir():
        return []
    for path in output_dir.iterdir():
        if path.name.startswith("."):
            continue
        if (path / "summary.csv").is_file():
            found[path.name] = path
    for path in output_dir.glob(aside("*").name):
        name = _target_name(path)
        if name not in found and (path / "summary.csv").is_file():
            found[name] = path
    return [found[name] for name in sorted(found)]


def _target_name(folder):
    """The target a results folder holds: its name, or the name inside a ``.<target>.old`` aside folder."""
    name = Path(folder).name
    return name[1 : -len(".old")] if name.startswith(".") else name


def _load_summaries(output_dir, judges=None):
    """Every target's summary rows, each folder verified against its measurements first (a number no run
    measured is refused; ``judges``, name -> Target, re-derive the numbers of the targets they name);
    read-only, so a report racing a run never disturbs it."""
    frames = []
    for folder in result_folders(output_dir):
        name = _target_name(folder)
        try:
            frames.append(_verified_summary(folder, (judges or {}).get(name)))
        except FileNotFoundError:  # swapped out under us: the exchange left the other set in place
            again = Path(output_dir) / name
            if (again / "summary.csv").is_file():
                frames.append(_verified_summary(again, (judges or {}).get(name)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SUMMARY_COLUMNS)


SWAP_RETRIES = 5  # a run may swap a folder in while it is read: read it again, up to this many times


def _verified_summary(folder, target):
    """``folder``'s summary rows once :func:`verify_folder` passes, read as one whole set: a folder a run
    swapped in while it was read is read again."""
    for _ in range(SWAP_RETRIES):
        before = _identity(folder)
        try:
            verify_folder(folder, target)
            table = pd.read_csv(folder / "summary.csv", dtype={RUN_SHA256: str})
        except (Unverified, FileNotFoundError):
            if _identity(folder) == before:
                raise
            continue
        if _identity(folder) == before:
            return table
    raise Unverified(f"{folder} changed {SWAP_RETRIES} times while it was read; run the command again")


def _identity(folder):
    try:
        return os.stat(folder).st_ino
    except FileNotFoundError:
        return None


def check_index(output_dir):
    """Raise :class:`UnsafeOutput` if ``output_dir/README.md`` exists and this tool did not write it."""
    index = Path(output_dir) / "README.md"
    if not index.exists():
        return
    try:
        head = index.read_text(errors="replace")[:400]
    except OSError as exc:
        raise UnsafeOutput(f"cannot read {index} ({exc.strerror}); choose another --output-dir") from None
    if not (head.startswith(INDEX_MARKER) or head.startswith(_LEGACY_INDEX_START)):
        raise UnsafeOutput(
            f"{index} was not written by this tool and would be overwritten by the results index; "
            "choose another --output-dir (a folder of its own for results)"
        )


def coverage_lines(output_dir, known):
    """For a set that should hold every target (the published one): a line naming the targets of this code
    with no run in it, and one naming folders of targets this code no longer has; none when all match."""
    have = {_target_name(folder) for folder in result_folders(output_dir)}
    lines = []
    missing = sorted(set(known) - have)
    if missing:
        lines += [
            f"Targets with no run in this set yet ({len(missing)}; `python -m reproductions run --publish "
            f"<target>` adds one): " + ", ".join(missing) + ".",
            "",
        ]
    retired = sorted(have - set(known))
    if retired:
        lines += [
            f"Folders of targets this code no longer has ({len(retired)}; their rows cannot be rerun): "
            + ", ".join(retired)
            + ".",
            "",
        ]
    return lines


def write_index(output_dir, known=None, judges=None):
    """Regenerate ``output_dir/README.md``: one table over every target's summary (refused if a
    README.md there was not written by this tool). ``known`` (target names), for a set meant to hold
    them all, adds which have no run there and which folders belong to no target; ``judges`` (name ->
    Target) re-derive the numbers of the targets they name before any row is shown."""
    output_dir = Path(output_dir)
    check_index(output_dir)
    df = _load_summaries(output_dir, judges)
    for column in ("class", "run_commit", "judged_commit", "qualifier"):  # summaries written before these existed
        if column not in df:
            df[column] = None
    df["qualifier"] = df["qualifier"].astype("object").where(df["qualifier"].notna(), "")
    lines = [
        INDEX_MARKER,
        "",
        "# Results",
        "",
        "One row per reference number: ours over seeds next to the published value. Every row comes from",
        "a run of the committed code; each target's folder holds its per-seed metrics, per-epoch history,",
        "curves, and `run.json` with the exact command, seeds, versions, hardware and wall time.",
        "Regenerate this page with `python -m reproductions report`.",
        "",
    ]
    if df.empty:
        lines.append("No results yet.")
    else:
        lines += [
            "Rows by class: **published** compares our number with a paper's, a lecture's or an official example's "
            "within a stated tolerance; **claim** tests a qualitative statement as an effect that must stand out of "
            "the seed-to-seed noise (and, for claims about trained networks, only once they trained); **exact** "
            "checks a closed-form value; **sanity** checks our own code. Verdicts, by precedence: **not trained** "
            "(a row's trained condition failed, whatever else it declares), **reproduced** (or **reproduced: fails as "
            "predicted**, where the source predicts the failure in that setup and a positive control fitted), **not "
            'reproduced**. "Schedule short" is never a verdict: it qualifies a not-reproduced row only where the run '
            "shows the nets trained, ran their whole schedule and were still improving beyond the seed noise, and it "
            "prints that evidence.",
            "",
            markdown_table(class_counts(df)),
            "",
        ]
        run, judged = (df[c].astype("object").where(df[c].notna(), "") for c in ("run_commit", "judged_commit"))
        rejudged = sorted(set(df.loc[run != judged, "target"]))
        if rejudged:
            lines += [
                "Re-judged from their stored runs under later criteria (numbers unchanged; each summary names "
                "both commits): " + ", ".join(rejudged) + ".",
                "",
            ]
        order = {c: i for i, c in enumerate(CLASSES)}
        df = df.assign(_order=df["class"].map(order).fillna(len(CLASSES))).sort_values(
            ["_order", "target"], kind="stable"
        )
        table = pd.DataFrame(
            {
                "class": df["class"],
                "target": [f"[{t}]({t}/summary.md)" for t in df["target"]],
                "metric": df["metric"],
                "ours": [ours_text(r) for r in df.to_dict("records")],
                "n": df["n"],
                "reference": [format_number(v) for v in df["reference"]],
                "criterion": df["criterion"],
                "source": df["source"],
                "verdict": df["verdict"],
                "qualifier": df["qualifier"],
                "wall time (s)": df["wall_time_s"],
            }
        )
        lines += [markdown_table(table), ""]
    if known is not None:
        lines += coverage_lines(output_dir, known)
    atomic_write_text(output_dir / "README.md", "\n".join(lines))
    return df


def class_counts(df):
    """Rows per class and verdict, published first; "fails as predicted" counts as reproduced."""
    verdict = df["verdict"].replace(
        {FAILS_AS_PREDICTED: REPRODUCED, DIVERGED: COUNT_COLUMNS[-1], NO_DATA: COUNT_COLUMNS[-1]}
    )
    classes = [c for c in CLASSES if c in set(df["class"])] + sorted(set(df["class"].fillna("(none)")) - set(CLASSES))
    out = []
    qualifiers = df["qualifier"] if "qualifier" in df else pd.Series("", index=df.index)
    qualified = qualifiers.fillna("").astype(str).str.startswith(SCHEDULE_SHORT)
    for c in [*classes, "all"]:
        rows = slice(None) if c == "all" else df["class"].fillna("(none)") == c
        sel = verdict[rows]
        out.append(
            {
                "class": c,
                "rows": len(sel),
                **{v: int((sel == v).sum()) for v in COUNT_COLUMNS},
                QUALIFIER_COUNT: int(qualified[rows].sum()),
            }
        )
    return pd.DataFrame(out)


def compare(output_dir, other_dir, judges=None):
    """Markdown table of our means beside another results set's, flagging differences beyond tolerance;
    over the targets of ``output_dir`` (a run of a few targets is compared with those of a full set); both
    sets verified first (``judges`` as for :func:`write_index`)."""
    ours, other = _load_summaries(output_dir, judges), _load_summaries(other_dir, judges)
    if ours.empty or other.empty:
        raise ValueError(f"nothing to compare: no summaries in {output_dir if ours.empty else other_dir}")
    other = other[other["target"].isin(set(ours["target"]))]
    key = ["target", "metric", "source"]
    merged = ours.merge(other, on=key, how="outer", suffixes=("_ours", "_other"))
    backends = run_backends(output_dir), run_backends(other_dir)
    rows = []
    for r in merged.to_dict("records"):
        a, b = r.get("mean_ours"), r.get("mean_other")
        tol = (
            criterion_tolerance(
                r.get("criterion_ours") if isinstance(r.get("criterion_ours"), str) else r.get("criterion_other")
            )
            or 0.0
        )
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (a, b)):
            flag = "missing"
            diff = math.nan
        else:
            diff = a - b
            flag = "differs" if abs(diff) > tol + 1e-12 else "same"
        rows.append(
            {
                "target": r["target"],
                "metric": r["metric"],
                "ours": format_number(a),
                "other": format_number(b),
                "difference": format_number(diff),
                "tolerance": format_number(tol),
                "flag": flag,
                "verdict (ours / other)": f"{r.get('verdict_ours', '–')} / {r.get('verdict_other', '–')}",
                "backend (ours / other)": " / ".join(b.get(r["target"], "–") for b in backends),
            }
        )
    return markdown_table(pd.DataFrame(rows))


def run_backends(folder):
    """{target: the Keras backend its run trained on} from each run.json in ``folder`` (records written
    before the backend was recorded name TensorFlow's version only: those runs were TensorFlow's)."""
    out = {}
    for path in sorted(Path(folder).glob("*/run.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        backend = record.get("backend") or ("tensorflow" if "tensorflow" in record.get("versions", {}) else None)
        if backend:
            out[path.parent.name] = backend
    return out


def criterion_tolerance(criterion):
    """The tolerance a row's criterion text states ("± 0.005; trained: ..."), None for a comparison."""
    if isinstance(criterion, str) and criterion.startswith("±"):
        return float(criterion[1:].split(";")[0].strip())
    return None
