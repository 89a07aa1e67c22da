"""The results index (README.md of a results folder: one table over every target's rows, counted by class and
verdict) and the comparison of two results sets."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from keras_lecture_zoo.reproductions.fileio import (
    atomic_write_text,
)
from keras_lecture_zoo.reproductions.report import format_number, markdown_table, ours_text
from keras_lecture_zoo.reproductions.results_folder import (
    INDEX_MARKER,
    check_index,
    load_summaries,
    result_folders,
    run_backends,
    target_name,
)
from keras_lecture_zoo.reproductions.spec import (
    CLASSES,
    DIVERGED,
    FAILS_AS_PREDICTED,
    NO_DATA,
    NOT_REPRODUCED,
    NOT_TRAINED,
    REPRODUCED,
    SCHEDULE_SHORT,
)

# The verdict columns of the per-class counts, in order; "fails as predicted" counts as reproduced. The
# qualifier is counted in a column of its own: a qualified row is still counted under "not reproduced".
COUNT_COLUMNS = (REPRODUCED, NOT_REPRODUCED, NOT_TRAINED, "diverged or no data")


QUALIFIER_COUNT = f"of which {SCHEDULE_SHORT} (qualifier)"


def coverage_lines(output_dir, known):
    """For a set that should hold every target (the published one): a line naming the targets of this code
    with no run in it, and one naming folders of targets this code no longer has; none when all match."""
    have = {target_name(folder) for folder in result_folders(output_dir)}
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
    df = load_summaries(output_dir, judges)
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
    ours, other = load_summaries(output_dir, judges), load_summaries(other_dir, judges)
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


def criterion_tolerance(criterion):
    """The tolerance a row's criterion text states ("± 0.005; trained: ..."), None for a comparison."""
    if isinstance(criterion, str) and criterion.startswith("±"):
        return float(criterion[1:].split(";")[0].strip())
    return None
