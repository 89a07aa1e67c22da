"""Full runs on an offline GPU host (a machine with JAX or PyTorch and a GPU, but perhaps no TensorFlow, no
network and no git) and their publication here. CONTRIBUTING.md walks through it.

    python tools/offline_host.py pack [--datasets fashion-mnist mnist]      # here: data and wheels into offline-kit/
    bash tools/offline_run.sh --into DIR TARGET... [run options]            # there: the run, packed into DIR
    python tools/offline_host.py adopt DIR [TARGET...]                      # here: checks, then into results/

A run there happens in a copy of the working tree without ``.git``, so its run.json cannot name a commit;
it does record ``source_sha256``, the SHA-256 of every .py file of the three packages. ``adopt`` publishes
a target only from a clean commit here whose source digest is that one (the code that ran is this commit's,
byte for byte), from the full profile, with at least the published seeds, and with its measured files
matching the digests its run.json records; it writes the commit into run.json beside a note of where the
run was made, and remakes the summary from that record under the target's run lock.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "offline-kit"  # ignored by git; copied to the host with the working tree
DATASETS = ("fashion-mnist", "mnist")
# Keras and the two of its requirements a JAX or PyTorch image commonly lacks (such images have numpy, h5py,
# ml-dtypes, rich, absl-py, packaging, pandas, matplotlib, scikit-learn and scipy): packed as wheels.
WHEELS = ("keras", "namex", "optree")
PACK = "offline-results.tgz"  # offline_run.sh's archive, split into parts (--part-size)


class KitError(Exception):
    """A refusal: one line, exit status 2."""


def _installed_version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def pack(datasets, data_dir, python_version, kit=KIT, download=True):
    """Fill ``kit`` with the data folders a run there reads (copied from ``data_dir``) and the wheels of
    WHEELS for ``python_version`` (Keras at the version installed here, so both sides run the same Keras)."""
    if not data_dir or not Path(data_dir).is_dir():
        raise KitError(
            f"--data-dir {data_dir!r} is not a folder (the one with mnist/ and fashion-mnist/; default $ZOO_DATA_DIR)"
        )
    for name in datasets:
        if name not in DATASETS:
            raise KitError(f"--datasets: {name!r} is not one of {', '.join(DATASETS)}")
        if not (Path(data_dir) / name).is_dir():
            raise KitError(f"--data-dir {data_dir}: no {name}/ folder in it")
    data = kit / "data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    for name in datasets:
        shutil.copytree(Path(data_dir) / name, data / name)
    if download:
        wheels = kit / "wheels"
        shutil.rmtree(wheels, ignore_errors=True)
        wanted = [f"{w}=={v}" if (v := _installed_version(w)) else w for w in WHEELS]
        platforms = [arg for n in (17, 27, 28) for arg in ("--platform", f"manylinux_2_{n}_x86_64")]
        pip = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                python_version,
                "--implementation",
                "cp",
                *platforms,
                "--platform",
                "manylinux2014_x86_64",
                "-d",
                str(wheels),
                *wanted,
            ],
            capture_output=True,
            text=True,
        )
        if pip.returncode:
            last = (pip.stderr.strip().splitlines() or ["no message"])[-1]
            raise KitError(f"pip download of {' '.join(wanted)} for Python {python_version} failed: {last}")
    size = sum(p.stat().st_size for p in kit.rglob("*") if p.is_file())
    return size


def _unpack(folder, into):
    """Join the parts offline_run.sh left in its --into folder (``offline-results.tgz.part-*``) and unpack them
    into ``into``."""
    parts = sorted(Path(folder).glob(f"{PACK}.part-*"))
    if not parts:
        raise KitError(f"FOLDER {folder}: no {PACK}.part-* files in it (what tools/offline_run.sh --into writes)")
    joined = Path(into) / PACK
    with open(joined, "wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    with tarfile.open(joined) as tar:
        tar.extractall(into, filter="data")
    found = Path(into) / "offline-results"
    if not found.is_dir():
        raise KitError(f"FOLDER {folder}: the archive holds no offline-results/ folder")
    return found


def check_run(record, name, digest, published_seeds, full_seeds):
    """Why the run record ``record`` of target ``name`` cannot be published here, or None."""
    target, profile = record.get("target"), (record.get("config") or {}).get("profile")
    if target != name:
        return f"{name}: its run.json is of {target!r}"
    if profile != "full":
        return f"{name}: a {profile} run; only a full run is published"
    if "--dataset" in str(record.get("command")):
        return f"{name}: a run with --dataset; only the default data sets are published"
    if record.get("source_sha256") != digest:
        return (
            f"{name}: its code (source_sha256 {str(record.get('source_sha256'))[:12]}) is not this commit's "
            f"({digest[:12]}); check out the commit the kit was packed from"
        )
    seeds = record.get("seeds") or []
    dropped = sorted(set(published_seeds) - set(seeds))
    if dropped:
        return f"{name}: the published run has seeds {published_seeds}; this one would drop {dropped}"
    if len(seeds) < full_seeds:
        return f"{name}: {len(seeds)} seeds; its full profile publishes {full_seeds}"
    return None


def adopt(folder, names=None, *, published=None, commit=None):
    """Publish the offline host's run in ``folder`` (the parts offline_run.sh wrote) into ``published`` (results/
    of this clean checkout): every target in it, or ``names``. Returns the names."""
    from keras_lecture_zoo.reproductions import report, results_folder, targets
    from keras_lecture_zoo.reproductions.cli import published as cli
    from keras_lecture_zoo.reproductions.errors import UsageError
    from keras_lecture_zoo.reproductions.fileio import target_lock
    from keras_lecture_zoo.reproductions.fingerprint import source_digest
    from keras_lecture_zoo.reproductions.integrity import Unverified, verify_measurements

    published = Path(published or cli.PUBLISHED)
    if commit is None:
        try:
            commit = cli.check_publishable("publishes a run made elsewhere", flag="adopt")
        except UsageError as exc:
            raise KitError(str(exc)) from None
    digest = source_digest()
    with tempfile.TemporaryDirectory(dir=published, prefix=".adopt-") as tmp:
        run = _unpack(folder, tmp)
        found = sorted(p.name for p in run.iterdir() if (p / "run.json").is_file())
        names = list(names or found)
        for name in names:
            if name not in targets.names():
                raise KitError(f"TARGET: {name!r} is not a registered target")
        missing = sorted(set(names) - set(found))
        if missing:
            raise KitError(
                f"TARGET: {', '.join(missing)} not in the offline run (it holds {', '.join(found) or 'none'})"
            )
        records = {name: json.loads((run / name / "run.json").read_text()) for name in names}
        for name, record in records.items():
            before = published / name / "run.json"
            seeds = json.loads(before.read_text()).get("seeds", []) if before.is_file() else []
            why = check_run(record, name, digest, seeds, targets.get(name).full.seeds)
            if why:
                raise KitError(why)
            try:
                verify_measurements(run / name)
            except Unverified as exc:
                raise KitError(str(exc)) from None
        for name, record in records.items():
            record["git_commit"] = commit
            gpus = ", ".join(record.get("hardware", {}).get("gpus") or ["CPU"])
            record["made_outside_checkout"] = (
                f"run in a copy of commit {commit} without git (tools/offline_run.sh, {record.get('backend')} on "
                f"{gpus}); its source_sha256 matched this commit's when tools/offline_host.py adopt published it"
            )
            (run / name / "run.json").write_text(json.dumps(record, indent=2) + "\n")
            # the run data byte for byte (run.json as amended); summary, verdicts and figures remade here,
            # staged and swapped in whole as the runner does, under the run lock a run of the target takes
            with target_lock(published / ".work", name):
                report.write_target(
                    published,
                    targets.get(name),
                    results_folder.load_results(run / name),
                    record,
                    judged_commit=commit,
                    stored=run / name,
                )
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python tools/offline_host.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    kit_parser = sub.add_parser("pack", help="data and wheels for a run on an offline host, into offline-kit/")
    kit_parser.add_argument("--datasets", nargs="+", default=["fashion-mnist"], help=f"of {', '.join(DATASETS)}")
    kit_parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"), help="default $ZOO_DATA_DIR")
    kit_parser.add_argument("--python-version", default="3.12", help="the host's Python (default 3.12)")
    ado = sub.add_parser("adopt", help="publish an offline host's run (the folder offline_run.sh --into filled)")
    ado.add_argument("folder", metavar="FOLDER")
    ado.add_argument("targets", nargs="*", metavar="TARGET")
    args = parser.parse_args(argv)
    try:
        if args.command == "pack":
            size = pack(args.datasets, args.data_dir, args.python_version)
            print(
                f"{KIT.relative_to(ROOT)}/: {size / 2**20:.1f} MiB (data: {', '.join(args.datasets)}; wheels: "
                f"{', '.join(WHEELS)} for Python {args.python_version}); copy the working tree with it to the host "
                "and run there: bash tools/offline_run.sh --into DIR TARGET..."
            )
        else:
            names = adopt(args.folder, args.targets)
            print(f"published {', '.join(names)} into results/; next: python -m reproductions report --publish")
    except KitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
