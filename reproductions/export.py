"""A full run's trained networks as the zoo's weight sets (``python -m reproductions export-weights TARGET``):
the chosen seed's ``.weights.h5`` in the run's results folder is loaded into the zoo's builder and saved again
(the model's weights without the optimizer's state, a half to a third of the size) into ``zoo/trained/`` with its
manifest entry: the zoo model and builder arguments that rebuild it, the data set it is named after, the
target, network and seed (and how the seed was chosen), the test metrics measured in that run, the commit,
versions, hardware and recipe, and the file's size and SHA-256."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from reproductions.errors import RunRefused
from reproductions.fileio import atomic_write_json
from zoo._fileio import atomic_path

MAX_TOTAL_BYTES = 20_000_000  # every shipped weight set together (issue 20)


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
        how = (f"the best of {len(ranked)} seeds by {export.metric} ({values[-1]:.4g}; {ties} of {len(ranked)} seeds "
               f"reach it, the lowest such seed taken)")
    else:
        chosen = ranked[(len(ranked) - 1) // 2]
        how = (f"the median of {len(ranked)} seeds by {export.metric} (the lower one for an even count; "
               f"median {statistics.median(values):.4g}, range {values[0]:.4g}–{values[-1]:.4g})")
    return chosen, how


def export_weights(target, folder, into, *, seed=None):
    """Write ``target``'s declared weight sets from its results ``folder`` into the zoo's ``into`` folder;
    returns the new manifest entries. Refuses a quick or uncommitted run, a changed weights file, and a total
    size over MAX_TOTAL_BYTES."""
    import zoo
    from zoo import weights as trained

    if not target.exports:
        raise RunRefused(f"{target.name} declares no weight sets to export (Target.exports)")
    folder, into = Path(folder), Path(into)
    try:
        record = json.loads((folder / "run.json").read_text())
        networks = json.loads((folder / "networks" / "manifest.json").read_text())["networks"]
    except (OSError, ValueError, KeyError) as exc:
        raise RunRefused(f"{folder} holds no run of {target.name} with kept networks ({type(exc).__name__}); run it "
                         "first: python -m reproductions run --publish " + target.name) from None
    if record.get("config", {}).get("profile") != "full":
        raise RunRefused(f"the run in {folder} is a {record.get('config', {}).get('profile')!r} run; weight sets come "
                         "from full runs only")
    commit = str(record.get("git_commit", ""))
    if len(commit) != 40:
        raise RunRefused(f"the run in {folder} was made from {commit!r}; weight sets come from runs of a clean commit")
    new = []
    for export in target.exports:
        entries = [e for e in networks if e["network"] == export.network and (seed is None or e["seed"] == seed)]
        chosen, how = _choose(export, entries)
        source = folder / chosen["file"]
        if not source.is_file() or trained.sha256_of(source) != chosen["sha256"]:
            raise RunRefused(f"{source} is missing or does not match the SHA-256 in {folder}/networks/manifest.json")
        model = zoo.build(export.model, **export.builder_args)
        model.load_weights(source)  # it must fit the zoo's builder with these arguments
        name = f"{export.model}-{export.dataset}.weights.h5"
        with atomic_path(into / name, suffix=".weights.h5") as tmp:
            model.save_weights(tmp)  # the model's weights only: the run's file also holds the optimizer's state
        new.append({
            "model": export.model, "dataset": export.dataset, "file": name, "sha256": trained.sha256_of(into / name),
            "bytes": (into / name).stat().st_size, "builder_args": dict(export.builder_args),
            "structure": trained.structure_of(model),
            "metrics": {k: chosen["metrics"][k] for k in (export.metric, *export.metrics) if k in chosen["metrics"]},
            "evaluation": {"split": "test", "data": export.dataset, "batch_size": export.batch_size},
            "source": {"target": target.name, "network": export.network, "seed": chosen["seed"], "chosen": how,
                       "file": chosen["file"], "file_sha256": chosen["sha256"],
                       "commit": commit, "command": record.get("command"), "versions": record.get("versions"),
                       "hardware": record.get("hardware"), "recipe": chosen.get("recipe")},
        })
    manifest = into / trained.MANIFEST
    kept = json.loads(manifest.read_text())["weights"] if manifest.is_file() else []
    replaced = {(e["model"], e["dataset"]) for e in new}
    entries = sorted([e for e in kept if (e["model"], e["dataset"]) not in replaced] + new,
                     key=lambda e: (e["model"], e["dataset"]))
    total = sum(e["bytes"] for e in entries)
    if total > MAX_TOTAL_BYTES:
        for e in new:
            (into / e["file"]).unlink(missing_ok=True)
        raise RunRefused(f"the weight sets would total {total / 1e6:.1f} MB, over the {MAX_TOTAL_BYTES / 1e6:.0f} MB "
                         "the package ships")
    atomic_write_json(manifest, {"weights": entries})
    return new
