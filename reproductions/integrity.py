"""What binds a target folder's published numbers to what its run measured: ``run.json`` records the SHA-256
of every measured file, each summary row the SHA-256 of that ``run.json``, and every summary number must be
what the measurements give. Whatever reads a folder back to publish, compare or re-judge it verifies first,
and refuses a folder that fails in one line naming the file."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from keras_lecture_zoo.reproductions.errors import RunRefused, first_line
from keras_lecture_zoo.reproductions.fileio import sha256_of

__all__ = [
    "Unverified",
    "MEASUREMENTS",
    "RUN_SHA256",
    "measurement_digests",
    "read_record",
    "same_number",
    "verify_measurements",
    "verify_folder",
]

MEASUREMENTS = "measurements"  # run.json's key: {path relative to the folder: SHA-256} of each measured file
RUN_SHA256 = "run_sha256"  # summary.csv's column: the SHA-256 of the run.json its rows were judged from
_MEASURED = ("metrics.csv", "details.json", "history/*.csv", "networks/manifest.json")
_NUMBERS = ("mean", "std", "min", "max", "n")


class Unverified(RunRefused):
    """A results folder whose files do not match one another: a number no run measured, or a damaged file."""


def measurement_digests(folder) -> dict:
    """{relative path: SHA-256} of the measured files in ``folder`` (metrics, details, histories, networks manifest)."""
    folder = Path(folder)
    found = sorted({p for pattern in _MEASURED for p in folder.glob(pattern) if p.is_file()})
    return {p.relative_to(folder).as_posix(): sha256_of(p) for p in found}


def read_record(folder) -> dict:
    """``folder/run.json`` as a dict, or :class:`Unverified` naming the file."""
    path = Path(folder) / "run.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Unverified(f"{path} is missing: the folder holds no run record to check its numbers against") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise Unverified(f"{path} cannot be read ({type(exc).__name__}: {first_line(exc)})") from None
    if not isinstance(record, dict):
        raise Unverified(f"{path} is not a run record (a JSON {type(record).__name__}, not an object)")
    return record


def verify_folder(folder, target=None, *, rejudging=None) -> dict:
    """Check ``folder`` end to end and return its run record: each measured file matches the digest run.json
    records, each summary row names that run.json's digest, and, when ``target`` (this code's Target of the
    folder) is given, each row's numbers are what the measurements give. ``rejudging`` (the commit about to
    remake the summary): only the numbers read straight from metrics.csv are held to it, and the verdicts of
    rows that commit judged (a derived number, or another code's verdict, may differ because the code changed).
    Raises :class:`Unverified`."""
    folder = Path(folder)
    record = verify_measurements(folder)
    rows = _summary(folder, legacy=bool(rejudging))
    digest = sha256_of(folder / "run.json")
    for row in rows:
        if RUN_SHA256 in row and str(row[RUN_SHA256]) != digest:
            raise Unverified(
                f"{folder / 'summary.csv'} row {row.get('metric')!r} was not judged from this "
                f"{folder / 'run.json'} (its {RUN_SHA256} differs); re-judge it: python -m reproductions "
                "report --rejudge"
            )
    if target is not None:
        _check_numbers(folder, target, rows, record, rejudging)
    return record


def verify_measurements(folder) -> dict:
    """``folder``'s run record once every measured file matches the SHA-256 it records; :class:`Unverified` if not."""
    folder = Path(folder)
    record = read_record(folder)
    _check_measurements(folder, record)
    return record


def _check_measurements(folder, record):
    recorded = record.get(MEASUREMENTS)
    if not isinstance(recorded, dict) or not recorded:
        raise Unverified(
            f"{folder / 'run.json'} records no SHA-256 of the measured files (key {MEASUREMENTS!r}), "
            "so its numbers cannot be checked; run the target again"
        )
    present = measurement_digests(folder)
    for name in sorted(set(recorded) | set(present)):
        if name not in present:
            raise Unverified(f"{folder / name} is missing; {folder / 'run.json'} records it as measured")
        if name not in recorded:
            raise Unverified(f"{folder / name} was not written by the run ({folder / 'run.json'} records no such file)")
        if present[name] != recorded[name]:
            raise Unverified(
                f"{folder / name} does not match the SHA-256 that {folder / 'run.json'} records for it "
                "(changed since the run wrote it)"
            )


def _summary(folder, legacy):
    """The stored summary rows; ``legacy``: a summary written before rows named their run record's digest is
    read (a re-judge is about to write one that does)."""
    path = folder / "summary.csv"
    try:
        table = pd.read_csv(path, dtype={RUN_SHA256: str})
    except (OSError, UnicodeError, ValueError) as exc:
        raise Unverified(f"{path} cannot be read ({type(exc).__name__}: {first_line(exc)})") from None
    required = ("metric", *_NUMBERS) + (() if legacy and RUN_SHA256 not in table else (RUN_SHA256,))
    missing = [c for c in required if c not in table]
    if missing:
        raise Unverified(f"{path} lacks the column(s) {', '.join(missing)}")
    return table.to_dict("records")


def _check_numbers(folder, target, rows, record, rejudging):
    """Each stored row's numbers (and its verdict, where its reference and criterion are today's) against the
    rows its measurements give under ``target``; when ``rejudging``, see :func:`verify_folder`."""
    from keras_lecture_zoo.reproductions.judge import summary_rows
    from keras_lecture_zoo.reproductions.results_folder import load_results

    try:
        stored = load_results(folder)
        results = target.with_derived(stored)
    except (OSError, UnicodeError, ValueError, KeyError, TypeError) as exc:
        raise Unverified(
            f"{folder / 'metrics.csv'} cannot be read back ({type(exc).__name__}: {first_line(exc)})"
        ) from None
    measured = {r["metric"]: r for r in summary_rows(target, results, 0.0, record=record)}
    columns = {k for r in stored.values() for k in r["metrics"]}  # metrics.csv's own, before derivation
    for row in rows:
        now = measured.get(row["metric"])
        if now is None or (rejudging and row["metric"] not in columns):
            continue  # a row of a reference this code no longer has (the audit reports it), or one to remake
        for key in _NUMBERS:
            if not same_number(row.get(key), now[key]):
                raise Unverified(
                    f"{folder / 'summary.csv'} {row['metric']} {key} = {row.get(key)} is not what "
                    f"{folder / 'metrics.csv'} gives ({now[key]}); re-judge it: python -m reproductions "
                    "report --rejudge"
                )
        same_rule = same_number(row.get("reference"), now["reference"]) and row.get("criterion") == now["criterion"]
        same_code = not rejudging or str(row.get("judged_commit")) == rejudging
        if same_rule and same_code and row.get("verdict") != now["verdict"]:
            raise Unverified(
                f"{folder / 'summary.csv'} {row['metric']} says {row.get('verdict')!r}; its measurements "
                f"under the same reference and criterion give {now['verdict']!r} (a summary judged by "
                "older code: re-judge it with python -m reproductions report --rejudge)"
            )


def same_number(a, b):
    """Two stored numbers equal up to float round-off (NaN equals NaN); False for text."""
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
