"""A results folder's format, defined once: what a run writes into `<target>/` (metrics.csv, history/, details.json,
run.json, networks/, summary.csv) and how it is read back, verified, listed and indexed. The report judges and
draws; the suite runs; tools and the weights exporter read through here."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from keras_lecture_zoo.reproductions.errors import UnsafeOutput
from keras_lecture_zoo.reproductions.fileio import (
    aside,
    atomic_write_json,
    atomic_write_text,
)
from keras_lecture_zoo.reproductions.integrity import (
    MEASUREMENTS,
    RUN_SHA256,
    Unverified,
    measurement_digests,
    verify_folder,
)

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


# What a run measured, as opposed to what the report derives from it (summaries, verdicts, figures).
RUN_DATA = ("metrics.csv", "history", "details.json", "run.json", "networks")


NETWORKS_MANIFEST = "networks/manifest.json"


def write_run_data(stage, results, record):
    """Write what the run measured into a staged target folder: metrics.csv, history/, details.json, networks/
    and run.json with the digests of them all."""
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
        name = target_name(path)
        if name not in found and (path / "summary.csv").is_file():
            found[name] = path
    return [found[name] for name in sorted(found)]


def target_name(folder):
    """The target a results folder holds: its name, or the name inside a ``.<target>.old`` aside folder."""
    name = Path(folder).name
    return name[1 : -len(".old")] if name.startswith(".") else name


def load_summaries(output_dir, judges=None):
    """Every target's summary rows, each folder verified against its measurements first (a number no run
    measured is refused; ``judges``, name -> Target, re-derive the numbers of the targets they name);
    read-only, so a report racing a run never disturbs it."""
    frames = []
    for folder in result_folders(output_dir):
        name = target_name(folder)
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


def read_json(path):
    """A JSON file's content, or None when it is missing or damaged."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def network_entry(folder, network, seed, profile, dataset):
    """The manifest entry of ``network`` for ``seed`` in a target's results ``folder`` if a run of this
    ``profile`` and data set kept it there, else why not (a string)."""
    record = read_json(folder / "run.json")
    manifest = read_json(folder / NETWORKS_MANIFEST)
    if record is None or manifest is None:
        return f"{folder} holds no trained networks"
    fp = record.get("fingerprint") or {}
    if fp.get("profile") != profile or (dataset is not None and fp.get("dataset") != dataset):
        return f"{folder} holds a {fp.get('profile')} run on {fp.get('dataset')}, not a {profile} run on {dataset}"
    for entry in manifest.get("networks", []):
        if entry.get("network") == network and entry.get("seed") == seed:
            if entry.get("diverged_epoch") or (entry.get("file") and (folder / entry["file"]).is_file()):
                return entry
            return f"its weights are not in {folder / 'networks'}"
    return f"{folder} has no {network} for seed {seed}"


def has_networks(folder, profile, dataset=None):
    """Whether a target's results ``folder`` keeps the trained networks of a run of this ``profile``."""
    record = read_json(Path(folder) / "run.json") or {}
    manifest = read_json(Path(folder) / NETWORKS_MANIFEST) or {}
    fp = record.get("fingerprint") or {}
    entries = manifest.get("networks") or []
    return (
        fp.get("profile") == profile
        and (dataset is None or fp.get("dataset") == dataset)
        and bool(entries)
        and all((Path(folder) / e["file"]).is_file() for e in entries if e.get("file"))
    )
