"""An audit of a results set as a careful outside reader would make it: every stored row is checked against
its own measurements and against the rules the verdicts promise (python -m reproductions audit)."""

from __future__ import annotations

import itertools
import json
import math
import re

import pandas as pd

from keras_lecture_zoo.reproductions.integrity import Unverified, same_number, verify_folder
from keras_lecture_zoo.reproductions.judge import summary_rows
from keras_lecture_zoo.reproductions.results_folder import load_results, result_folders, target_name
from keras_lecture_zoo.reproductions.results_index import criterion_tolerance
from keras_lecture_zoo.reproductions.spec import (
    FAILS_AS_PREDICTED,
    NOT_REPRODUCED,
    NOT_TRAINED,
    REPRODUCED,
    SCHEDULE_SHORT,
    VERDICTS,
)

__all__ = ["audit", "audit_target", "DATASET_NAMES"]

# Data set names as sources write them, and the data-set keys runs record
DATASET_NAMES = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "cifar100": "CIFAR-100",
    "imagenet": "ImageNet",
}
_NAMED = re.compile(r"Fashion-MNIST|CIFAR-100|CIFAR-10(?!0)|ImageNet|(?<!Fashion-)MNIST")


def audit(output_dir, known):
    """Findings over every target folder of ``output_dir`` whose target this code has (``known``: name ->
    Target), one line each: "<target> <metric>: what is wrong"."""
    findings = []
    for folder in result_folders(output_dir):
        target = known.get(target_name(folder))
        if target is not None:
            findings += [f"{target.name} {line}" for line in audit_target(target, folder)]
    return findings


def audit_target(target, folder):
    """The findings of one target's folder: its stored summary rows against its stored measurements."""
    try:
        stored = pd.read_csv(folder / "summary.csv").to_dict("records")
        record = json.loads((folder / "run.json").read_text())
        results = target.with_derived(load_results(folder))
    except (OSError, ValueError, KeyError) as exc:
        return [f"(folder): cannot be read back ({type(exc).__name__}: {exc})"]
    measured = {r["metric"]: r for r in summary_rows(target, results, 0.0, record=record)}
    refs = {ref.metric: ref for ref in target.references}
    findings = []
    try:
        verify_folder(folder)
    except Unverified as exc:
        findings.append(f"(folder): {exc}")
    for row in stored:
        findings += [f"{row['metric']}: {f}" for f in _row_findings(row, refs, measured, record, target)]
    findings += _window_findings(target, stored)
    if target.audit is not None:
        findings += target.audit(results, stored)
    return findings


def _text(v):
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _row_findings(row, refs, measured, record, target):
    verdict, qualifier = _text(row.get("verdict")), _text(row.get("qualifier"))
    ref, now = refs.get(row["metric"]), measured.get(row["metric"])
    out = []
    if verdict not in VERDICTS:
        out.append(
            f"verdict {verdict!r} is not in the closed vocabulary {list(VERDICTS)}"
            + (f" ({SCHEDULE_SHORT!r} is a qualifier of a {NOT_REPRODUCED!r} row)" if verdict == SCHEDULE_SHORT else "")
        )
    if ref is None or now is None:
        return out + ["no reference of this code judges this row"]
    if now["verdict"] == NOT_TRAINED and verdict != NOT_TRAINED:
        out.append(
            f"a trained condition fails in the stored run ({'; '.join(t.text() for t in ref.trained)}), "
            f"yet the row says {verdict!r}"
        )
    elif verdict != now["verdict"]:
        out.append(f"the summary says {verdict!r}; its stored measurements give {now['verdict']!r}")
    if qualifier and verdict != NOT_REPRODUCED:
        out.append(f"qualifier {qualifier!r} on a {verdict!r} row (only a not-reproduced row may carry one)")
    if qualifier and (not qualifier.startswith(SCHEDULE_SHORT + ": ") or len(qualifier) <= len(SCHEDULE_SHORT) + 2):
        out.append(f"qualifier {qualifier!r} prints no evidence")
    elif qualifier and qualifier != now["qualifier"]:
        out.append("the qualifier is not what the stored history shows: " + (now["qualifier"] or "none granted"))
    if not same_number(row.get("mean"), now["mean"]) or int(row.get("n", -1)) != now["n"]:
        out.append(
            f"mean {row.get('mean')} over n = {row.get('n')} does not match metrics.csv "
            f"({now['mean']} over n = {now['n']})"
        )
    if ref.deterministic and int(row.get("n", 0)) != 1:
        out.append(f"a deterministic method reported over n = {row.get('n')} identical runs (run it once)")
    if verdict == FAILS_AS_PREDICTED:
        if ref.predicts_failure is None:
            out.append("'fails as predicted' without a cited prediction and a positive control")
        elif measured.get(ref.predicts_failure.control, {}).get("verdict") != REPRODUCED:
            out.append(f"'fails as predicted' while its positive control {ref.predicts_failure.control} did not fit")
    out += _dataset_findings(row, record, target)
    return out


def run_dataset(record, target):
    """The data set a run trained on: the one it records, else the target's default (None when it has none)."""
    key = record.get("dataset") or (target.datasets[0] if target.datasets else None)
    return DATASET_NAMES.get(key, key)


def _dataset_findings(row, record, target):
    named = set(_NAMED.findall(_text(row.get("source"))))
    ran = run_dataset(record, target)
    if named and ran and ran not in named:
        return [f"its source names {', '.join(sorted(named))} but the run trained on {ran}, which it does not name"]
    return []


def _window_findings(target, stored):
    """Published rows the source tells apart (``target.contrasts``) whose reference windows overlap."""
    rows = {r["metric"]: r for r in stored}
    out = []
    for group in target.contrasts:
        for a, b in itertools.combinations([m for m in group if m in rows], 2):
            ra, rb = rows[a], rows[b]
            ta, tb = criterion_tolerance(ra.get("criterion")), criterion_tolerance(rb.get("criterion"))
            if ta is None or tb is None:
                continue
            gap = abs(float(ra["reference"]) - float(rb["reference"]))
            if gap <= ta + tb:
                out.append(
                    f"{a} / {b}: windows ± {ta:g} and ± {tb:g} overlap, while the source tells "
                    f"{float(ra['reference']):g} and {float(rb['reference']):g} apart (gap {gap:.4g})"
                )
    return out
