"""Result tables (pandas → CSV + Markdown), figures (matplotlib, headless) and the results index."""

from __future__ import annotations

import math
import shutil
import statistics
from pathlib import Path

import pandas as pd

from reproductions.errors import UnsafeOutput
from reproductions.fileio import (aside, atomic_path, atomic_write_json, atomic_write_text, fault_point, recover,
                                 swap_in)
from reproductions.spec import DIVERGED, NOT_REPRODUCED

__all__ = ["write_target", "write_index", "check_index", "compare", "summary_rows", "result_folders",
           "pyplot", "save_figure", "markdown_table", "INDEX_MARKER"]

# The first line of every results index this tool writes: only such a README.md is ever overwritten.
INDEX_MARKER = "<!-- results index written by `python -m reproductions`; regenerate with `python -m reproductions report` -->"
_LEGACY_INDEX_START = "# Results\n\nOne row per reference number: ours over seeds next to the published value."

LECTURE_COLUMNS = ("Epoch", "Train Loss", "Train Accuracy", "Validation Loss", "Validation Accuracy")
SUMMARY_COLUMNS = [
    "target", "metric", "mean", "std", "min", "max", "n", "diverged", "reference", "criterion",
    "source", "verdict", "wall_time_s",
]


def markdown_table(df) -> str:
    """A GitHub-flavoured Markdown table of a DataFrame (cells as strings, pipes escaped)."""
    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.{digits}f}" if abs(x) >= 1e-3 else f"{x:.3g}"


def summary_rows(target, results, wall_time):
    """One row per reference: ours over seeds (mean, std, min, max, n), the reference and the verdict."""
    rows = []
    diverged = sum(1 for r in results.values() if r.get("diverged_epoch"))
    for ref in target.references:
        values = [r["metrics"].get(ref.metric) for r in results.values() if not r.get("diverged_epoch")]
        finite = [float(v) for v in values if v is not None and math.isfinite(v)]
        rows.append({
            "target": target.name,
            "metric": ref.metric,
            "mean": statistics.fmean(finite) if finite else math.nan,
            "std": statistics.stdev(finite) if len(finite) > 1 else 0.0 if finite else math.nan,
            "min": min(finite) if finite else math.nan,
            "max": max(finite) if finite else math.nan,
            "n": len(finite),
            "diverged": diverged,
            "reference": ref.value,
            "criterion": ref.criterion(),
            "source": ref.source + (f" ({ref.label})" if ref.label else ""),
            "verdict": ref.verdict(finite, diverged),
            "wall_time_s": round(wall_time, 1),
        })
    return rows


def _ours(row):
    if row["n"] == 0:
        return "–"
    if row["n"] == 1 or row["std"] == 0:
        return _fmt(row["mean"])
    return f"{_fmt(row['mean'])} ± {_fmt(row['std'])}"


def _summary_markdown(target, rows, results, record, extra=""):
    lines = [f"# {target.name}: {target.title}", "", f"Source: {target.source}.", ""]
    table = pd.DataFrame([
        {
            "metric": r["metric"], "ours (mean ± std)": _ours(r), "min": _fmt(r["min"]), "max": _fmt(r["max"]),
            "n seeds": r["n"], "reference": _fmt(r["reference"]), "criterion": r["criterion"],
            "source": r["source"], "verdict": r["verdict"],
        }
        for r in rows
    ])
    lines += [markdown_table(table), ""]
    missed = [r for r in rows if r["verdict"] in (NOT_REPRODUCED, DIVERGED)]
    if missed:
        lines += ["**Missed** (kept in the table):", ""]
        for metric in sorted({r["metric"] for r in missed}):
            cause = target.causes.get(metric) or target.causes.get("*") or "see the notes for how our recipe differs."
            lines.append(f"- `{metric}`: {cause}")
        lines.append("")
    div = {s: r["diverged_epoch"] for s, r in results.items() if r.get("diverged_epoch")}
    if div:
        lines += ["Diverged seeds (non-finite loss): " + ", ".join(f"seed {s} at epoch {e}" for s, e in div.items()), ""]
    if extra:
        lines += [extra.rstrip(), ""]
    if target.notes:
        lines += ["## Notes", "", target.notes, ""]
    lines += [
        "## Run", "",
        f"- command: `{record.get('command', '')}`",
        f"- seeds: {record.get('seeds')}; profile: {record.get('config', {}).get('profile')}",
        f"- wall time: {record.get('wall_time_seconds', 0):.1f} s",
        f"- git commit: {record.get('git_commit', 'unknown')}",
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


def _epoch_time_lines(record):
    per = record.get("seconds_per_epoch") or {}
    if not per:
        return []
    shown = "; ".join(f"{net} {t['mean']:.1f} s (min {t['min']:.1f}, max {t['max']:.1f}, {t['epochs']} epochs)"
                      for net, t in per.items())
    return [f"- wall time per training epoch on this CPU: {shown}"]


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
    five seeds, else the mean over seeds with a min-max band (seeds that stopped early drop out)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    histories = {seed: pd.DataFrame(r["history"]) for seed, r in sorted(results.items()) if r["history"]}
    if any("Network" in h for h in histories.values()):
        _network_curves(axes, histories)
    elif len(histories) <= 5:
        for seed, h in histories.items():
            for ax, kind in zip(axes, ("Loss", "Accuracy")):
                if f"Train {kind}" not in h:
                    continue
                line, = ax.plot(h["Epoch"], h[f"Train {kind}"], lw=1, label=f"train, seed {seed}")
                if f"Validation {kind}" in h and h[f"Validation {kind}"].notna().any():
                    ax.plot(h["Epoch"], h[f"Validation {kind}"], lw=1, ls="--", color=line.get_color(), label=f"val, seed {seed}")
    else:
        for ax, kind in zip(axes, ("Loss", "Accuracy")):
            for split, style in (("Train", "-"), ("Validation", "--")):
                col = f"{split} {kind}"
                table = pd.concat({s: h.set_index("Epoch")[col] for s, h in histories.items() if col in h}, axis=1)
                if table.empty or table.isna().all().all():
                    continue
                mean = table.mean(axis=1)
                line, = ax.plot(mean.index, mean, ls=style, lw=1.5, label=f"{split.lower()}, mean of {table.shape[1]} seeds")
                ax.fill_between(mean.index, table.min(axis=1), table.max(axis=1), color=line.get_color(), alpha=0.2,
                                label=f"{split.lower()}, min-max")
    for ax, kind in zip(axes, ("Loss", "Accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(kind.lower())
        ax.set_title(f"{target.name}: {kind.lower()}")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if labels and len(labels) <= 12:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def _network_curves(axes, histories):
    """Targets that train several networks per seed: one colour per network, mean over seeds with a
    min-max band; train solid, validation dashed."""
    networks = list(dict.fromkeys(n for h in histories.values() if "Network" in h for n in h["Network"]))
    for network in networks:
        color = None
        for ax, kind in zip(axes, ("Loss", "Accuracy")):
            for split, style in (("Train", "-"), ("Validation", "--")):
                col = f"{split} {kind}"
                parts = {s: h[h["Network"] == network].set_index("Epoch")[col] for s, h in histories.items()
                         if col in h and "Network" in h}
                table = pd.concat(parts, axis=1) if parts else pd.DataFrame()
                if table.empty or table.isna().all().all():
                    continue
                mean = table.mean(axis=1)
                line, = ax.plot(mean.index, mean, ls=style, lw=1.5, color=color,
                                label=f"{network} {split.lower()}" + (f" (mean of {table.shape[1]})" if table.shape[1] > 1 else ""))
                color = line.get_color()
                if table.shape[1] > 1:
                    ax.fill_between(mean.index, table.min(axis=1), table.max(axis=1), color=color, alpha=0.15)


def write_target(output_dir, target, results, record):
    """Write ``output_dir/<target>/`` (staged, then swapped in whole); return the summary rows."""
    output_dir = Path(output_dir)
    recover(output_dir / target.name)
    stage = output_dir / f".{target.name}.staging"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / "history").mkdir(parents=True)
    per_seed = []
    for seed, r in sorted(results.items()):
        metrics = dict(sorted(r["metrics"].items()))  # canonical column order, however the run was assembled
        per_seed.append({"seed": seed, "diverged_epoch": r.get("diverged_epoch"), "wall_time_s": round(r["wall_time"], 2), **metrics})
        if r["history"]:
            cols = list(dict.fromkeys([*LECTURE_COLUMNS, *(k for row in r["history"] for k in row)]))
            atomic_write_text(stage / "history" / f"seed_{seed}.csv", pd.DataFrame(r["history"], columns=cols).to_csv(index=False))
    atomic_write_text(stage / "metrics.csv", pd.DataFrame(per_seed).to_csv(index=False))
    rows = summary_rows(target, results, record.get("wall_time_seconds", 0.0))
    atomic_write_text(stage / "summary.csv", pd.DataFrame(rows, columns=SUMMARY_COLUMNS).to_csv(index=False))
    if any(r.get("extras") for r in results.values()):
        atomic_write_json(stage / "details.json", {str(seed): r.get("extras", {}) for seed, r in sorted(results.items())})
    extra = target.report(results, stage) if target.report else ""
    atomic_write_text(stage / "summary.md", _summary_markdown(target, rows, results, record, extra))
    if any(r["history"] for r in results.values()):
        _curves(stage / "curves.png", target, results)
    else:
        (stage / "history").rmdir()
    atomic_write_json(stage / "run.json", record)
    fault_point("results-staged")
    swap_in(stage, output_dir / target.name)
    return rows


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
        name = path.name[1:-len(".old")]
        if name not in found and (path / "summary.csv").is_file():
            found[name] = path
    return [found[name] for name in sorted(found)]


def _load_summaries(output_dir):
    """Every target's summary rows; read-only, so a report racing a run never disturbs it."""
    frames = []
    for folder in result_folders(output_dir):
        try:
            frames.append(pd.read_csv(folder / "summary.csv"))
        except FileNotFoundError:  # swapped out under us: the exchange left the other set in place
            again = Path(output_dir) / folder.name
            if (again / "summary.csv").is_file():
                frames.append(pd.read_csv(again / "summary.csv"))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SUMMARY_COLUMNS)


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
        raise UnsafeOutput(f"{index} was not written by this tool and would be overwritten by the results index; "
                           "choose another --output-dir (a folder of its own for results)")


def write_index(output_dir):
    """Regenerate ``output_dir/README.md``: one table over every target's summary (refused if a
    README.md there was not written by this tool)."""
    output_dir = Path(output_dir)
    check_index(output_dir)
    df = _load_summaries(output_dir)
    lines = [
        INDEX_MARKER, "",
        "# Results", "",
        "One row per reference number: ours over seeds next to the published value. Every row comes from",
        "a run of the committed code; each target's folder holds its per-seed metrics, per-epoch history,",
        "curves, and `run.json` with the exact command, seeds, versions, hardware and wall time.",
        "Regenerate this page with `python -m reproductions report`.", "",
    ]
    if df.empty:
        lines.append("No results yet.")
    else:
        counts = df["verdict"].value_counts().to_dict()
        lines += ["Verdicts: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())), ""]
        table = pd.DataFrame({
            "target": [f"[{t}]({t}/summary.md)" for t in df["target"]],
            "metric": df["metric"],
            "ours": [_ours(r) for r in df.to_dict("records")],
            "n": df["n"],
            "reference": [_fmt(v) for v in df["reference"]],
            "criterion": df["criterion"],
            "source": df["source"],
            "verdict": df["verdict"],
            "wall time (s)": df["wall_time_s"],
        })
        lines += [markdown_table(table), ""]
    atomic_write_text(output_dir / "README.md", "\n".join(lines))
    return df


def compare(output_dir, other_dir):
    """Markdown table of our means beside another results set's, flagging differences beyond tolerance."""
    ours, other = _load_summaries(output_dir), _load_summaries(other_dir)
    if ours.empty or other.empty:
        raise ValueError(f"nothing to compare: no summaries in {output_dir if ours.empty else other_dir}")
    key = ["target", "metric", "source"]
    merged = ours.merge(other, on=key, how="outer", suffixes=("_ours", "_other"))
    rows = []
    for r in merged.to_dict("records"):
        a, b = r.get("mean_ours"), r.get("mean_other")
        tol = _tolerance(r.get("criterion_ours") if isinstance(r.get("criterion_ours"), str) else r.get("criterion_other"))
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (a, b)):
            flag = "missing"
            diff = math.nan
        else:
            diff = a - b
            flag = "differs" if abs(diff) > tol + 1e-12 else "same"
        rows.append({
            "target": r["target"], "metric": r["metric"], "ours": _fmt(a), "other": _fmt(b),
            "difference": _fmt(diff), "tolerance": _fmt(tol), "flag": flag,
            "verdict (ours / other)": f"{r.get('verdict_ours', '–')} / {r.get('verdict_other', '–')}",
        })
    return markdown_table(pd.DataFrame(rows))


def _tolerance(criterion):
    if isinstance(criterion, str) and criterion.startswith("±"):
        return float(criterion[1:].strip())
    return 0.0

