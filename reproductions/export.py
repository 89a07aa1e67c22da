"""A full run's trained networks as the zoo's weight sets (``python -m reproductions export-weights TARGET``):
the chosen seed's ``.weights.h5`` in the run's results folder is loaded into the zoo's builder and saved again
(the model's weights without the optimizer's state, a half to a third of the size) into ``zoo/trained/`` with its
manifest entry: the zoo model and builder arguments that rebuild it, the data set it is named after, the
target, network and seed (and how the seed was chosen), the test metrics measured in that run, the commit,
versions, hardware and recipe, and the file's size and SHA-256."""

from __future__ import annotations

import os
import re
import shutil
import statistics
from pathlib import Path

from keras_lecture_zoo.reproductions.errors import RunRefused
from keras_lecture_zoo.reproductions.fileio import atomic_write_json, fault_point, sha256_of, target_lock
from keras_lecture_zoo.reproductions.integrity import verify_measurements
from keras_lecture_zoo.reproductions.results_folder import NETWORKS_MANIFEST, read_json
from keras_lecture_zoo.zoo.weights import MANIFEST as MANIFEST_NAME

MAX_TOTAL_BYTES = 20_000_000  # every shipped weight set together: what the package may weigh
_EXPORTED = re.compile(r"[A-Za-z0-9_]+-[A-Za-z0-9_]+\.[0-9a-f]{12}\.weights\.h5")  # the names _stage_one gives
SPARE_BYTES = 16_000_000  # room left on the disk beyond the export's own files (h5py fails hard on a full disk)


def _choose(export, entries):
    """(seed entry, how it was chosen) among one network's per-seed manifest entries."""
    usable = [e for e in entries if e.get("file") and e["metrics"].get(export.metric) is not None]
    if not usable:
        raise RunRefused(f"no seed of network {export.network!r} has a weights file and {export.metric!r}")
    ranked = sorted(usable, key=lambda e: (e["metrics"][export.metric], -e["seed"]))
    values = [e["metrics"][export.metric] for e in ranked]
    if export.choose == "best":
        chosen = ranked[-1]
        ties = sum(v == values[-1] for v in values)
        how = (
            f"the best of {len(ranked)} seeds by {export.metric} ({values[-1]:.4g}; {ties} of {len(ranked)} seeds "
            f"reach it, the lowest such seed taken)"
        )
    else:
        chosen = ranked[(len(ranked) - 1) // 2]
        how = (
            f"the median of {len(ranked)} seeds by {export.metric} (the lower one for an even count; "
            f"median {statistics.median(values):.4g}, range {values[0]:.4g}–{values[-1]:.4g})"
        )
    return chosen, how


def export_weights(target, folder, into, *, seed=None):
    """Write ``target``'s declared weight sets from its results ``folder`` into the zoo's ``into`` folder;
    returns the new manifest entries. Refuses a quick or uncommitted run, a changed weights file, and a total
    size over MAX_TOTAL_BYTES."""
    from keras_lecture_zoo.zoo import weights as trained

    if not target.exports:
        raise RunRefused(f"{target.name} declares no weight sets to export (Target.exports)")
    folder, into = Path(folder), Path(into)
    record, manifest = read_json(folder / "run.json"), read_json(folder / NETWORKS_MANIFEST)
    networks = manifest.get("networks") if isinstance(manifest, dict) else None
    if not isinstance(record, dict) or not isinstance(networks, list):
        missing = "run.json" if not isinstance(record, dict) else NETWORKS_MANIFEST
        raise RunRefused(
            f"{folder} holds no run of {target.name} with kept networks (no readable {missing}); run it "
            "first: python -m reproductions run --publish " + target.name
        )
    if record.get("config", {}).get("profile") != "full":
        raise RunRefused(
            f"the run in {folder} is a {record.get('config', {}).get('profile')!r} run; weight sets come "
            "from full runs only"
        )
    commit = str(record.get("git_commit", ""))
    if len(commit) != 40:
        raise RunRefused(f"the run in {folder} was made from {commit!r}; weight sets come from runs of a clean commit")
    verify_measurements(folder)  # the networks manifest is the run's own
    chosen = [
        (
            export,
            *_choose(
                export, [e for e in networks if e["network"] == export.network and (seed is None or e["seed"] == seed)]
            ),
        )
        for export in target.exports
    ]
    for _, entry, _ in chosen:
        source = folder / entry["file"]
        if not source.is_file() or sha256_of(source) != entry["sha256"]:
            raise RunRefused(f"{source} is missing or does not match the SHA-256 in {folder}/networks/manifest.json")
    _check_free_space(into, sum((folder / entry["file"]).stat().st_size for _, entry, _ in chosen))
    with target_lock(into, ".export"):  # one export into a folder at a time
        _remove_leftovers(into)
        stage = into / ".export-staging"
        stage.mkdir()
        try:
            new = [_stage_one(export, entry, how, folder, record, stage) for export, entry, how in chosen]
            kept = trained.read_manifest(into) if (into / trained.MANIFEST).is_file() else []
            entries = _merged(kept, new)
            total = sum(e["bytes"] for e in entries)
            if total > MAX_TOTAL_BYTES:
                raise RunRefused(
                    f"the weight sets would total {total / 1e6:.1f} MB, over the "
                    f"{MAX_TOTAL_BYTES / 1e6:.0f} MB the package ships; {into} is unchanged"
                )
            _commit(stage, into, kept, entries)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return new


def _check_free_space(into, source_bytes):
    """Refuse before anything is written when ``into``'s disk cannot take the new files twice over (staged and
    moved; a weights-only file is smaller than the run's, which also holds the optimizer's state)."""
    into.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(into).free
    need = 2 * source_bytes + SPARE_BYTES
    if free < need:
        raise RunRefused(
            f"{into} has {free / 1e6:.1f} MB free; the export needs about {need / 1e6:.1f} MB; free some "
            f"space first ({into} is unchanged)"
        )


def _stage_one(export, entry, how, folder, record, stage):
    """Save one chosen network as a zoo weight set into ``stage``, named by its content; its manifest entry."""
    from keras_lecture_zoo import zoo
    from keras_lecture_zoo.zoo import weights as trained

    model = zoo.build(export.model, **export.builder_args)
    model.load_weights(folder / entry["file"])  # it must fit the zoo's builder with these arguments
    scratch = stage / f"{export.model}-{export.dataset}.weights.h5"
    model.save_weights(scratch)  # the model's weights only: the run's file also holds the optimizer's state
    digest = sha256_of(scratch)
    name = f"{export.model}-{export.dataset}.{digest[:12]}.weights.h5"  # a new set never overwrites a file in use
    os.replace(scratch, stage / name)
    return {
        "model": export.model,
        "dataset": export.dataset,
        "file": name,
        "sha256": digest,
        "bytes": (stage / name).stat().st_size,
        "builder_args": dict(export.builder_args),
        "structure": trained.structure_of(model),
        "metrics": {k: entry["metrics"][k] for k in (export.metric, *export.metrics) if k in entry["metrics"]},
        "evaluation": {"split": "test", "data": export.dataset, "batch_size": export.batch_size},
        "source": {
            "target": record.get("target"),
            "network": export.network,
            "seed": entry["seed"],
            "chosen": how,
            "file": entry["file"],
            "file_sha256": entry["sha256"],
            "commit": record.get("git_commit"),
            "command": record.get("command"),
            "versions": record.get("versions"),
            "hardware": record.get("hardware"),
            "recipe": entry.get("recipe"),
        },
    }


def _merged(kept, new):
    replaced = {(e["model"], e["dataset"]) for e in new}
    return sorted(
        [e for e in kept if (e["model"], e["dataset"]) not in replaced] + new, key=lambda e: (e["model"], e["dataset"])
    )


def _commit(stage, into, kept, entries):
    """Move the staged files in beside the files in use, then replace the manifest (the one step that switches
    sets), then remove the files no entry names any more: a kill anywhere leaves a loadable set."""
    for path in sorted(stage.iterdir()):
        os.replace(path, into / path.name)
    fault_point("export-files-in")
    atomic_write_json(into / MANIFEST_NAME, {"weights": entries})
    fault_point("export-manifest-in")
    named, replaced = {e["file"] for e in entries}, {e["file"] for e in kept}
    for path in into.glob("*.weights.h5"):  # the sets replaced, and any an interrupted export moved in
        if path.name not in named and (path.name in replaced or _EXPORTED.fullmatch(path.name)):
            path.unlink(missing_ok=True)


def _remove_leftovers(into):
    """What a killed export left (its staging folder, a half-written manifest); safe under the export lock."""
    shutil.rmtree(into / ".export-staging", ignore_errors=True)
    for path in into.glob(f".{MANIFEST_NAME}.*"):
        path.unlink(missing_ok=True)
