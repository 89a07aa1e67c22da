"""The suite: runs targets over seeds into a results folder, above the engine (:mod:`reproductions.engine`).

Per target it takes the lock, checks the fingerprint of unfinished work (what produced it: target,
profile, config, data set, strategy, code; ``--resume`` over work with another fingerprint is
refused), runs each seed (here, or ``--jobs`` at a time in worker processes), keeps each seed's
trained networks as artifacts (``.weights.h5`` with SHA-256 and the recipe that made them), writes the
run record and swaps the results folder in whole, so a crash never leaves half a results set.
The command line hands it :class:`~reproductions.spec.Target` objects; it looks nothing up by name.

Seeds, one rule: a run's seeds are 0..N-1 for the profile's N (or those asked for); everything random
in seed ``s``'s work derives from ``s`` (the engine's rule for networks and epochs; a target's own
random draws take ``numpy.random.default_rng([s, ...])`` or ``s`` itself).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np

from reproductions import distribute, engine, report
from reproductions.engine import check_fingerprint, configure_determinism, fmt_seconds
from reproductions.errors import CheckpointError, RunRefused
from reproductions.fileio import atomic_write_json, fault_point, sha256_of, target_lock
from reproductions.spec import MAX_SEED, Target

__all__ = [
    "Context",
    "run_targets",
    "run_target",
    "run_seed",
    "configure_determinism",
    "source_digest",
    "LECTURE_COLUMNS",
]

LECTURE_COLUMNS = report.LECTURE_COLUMNS
STRATEGIES = distribute.STRATEGIES
_ONE_DEVICE = distribute.Distribution("default", None, 1, ["default device"])


@dataclasses.dataclass
class Context:
    """One seed's work as a target sees it: its profile, data location, work folder, and where its
    per-seed details (``extras``), per-epoch rows (``history``), epoch times and trained networks go."""

    target: Target
    profile: object
    quick: bool
    data_dir: Path | None
    output_dir: Path
    seed: int = 0
    seed_dir: Path | None = None
    extras: dict = dataclasses.field(default_factory=dict)  # JSON-able per-seed details (exact/custom)
    history: list = dataclasses.field(default_factory=list)  # per-epoch rows (custom targets)
    epoch_seconds: dict = dataclasses.field(default_factory=dict)  # network -> wall time of each epoch
    verbose: int = 1
    dataset: str | None = None  # a target's alternative data set (``--dataset``); None: its default
    distribution: object = None  # a distribute.Distribution (``--strategy``); None: one device
    fingerprint: dict | None = None  # what produced this work (see :func:`fingerprint`); stored in checkpoints
    networks: dict = dataclasses.field(default_factory=dict)  # network -> its artifact (weights file, recipe, metrics)

    @property
    def options(self) -> dict:
        """The profile's target-specific settings (e.g. the widths of a sweep)."""
        return self.profile.options

    def train_network(self, key, recipe, d):
        """Train one network of this seed through the engine, in ``seed_dir/<key>`` (so a killed run
        resumes inside it), keep its weights as an artifact and its epochs in ``history`` (``Network``
        column); returns (outcome, trained model)."""
        outcome, model = engine.train(
            recipe,
            d,
            seed=self.seed,
            work_dir=self.seed_dir / key,
            fingerprint=self.fingerprint,
            distribution=self.distribution,
            verbose=self.verbose,
            context=self,
        )
        self.history.extend({**row, "Network": key} for row in outcome["history"])
        self.epoch_seconds[key] = next(iter(outcome["epoch_seconds"].values()))
        self._keep(key, model, outcome, self.seed_dir / key)
        return outcome, model

    def train_networks(self, d, recipes):
        """Train each of ``recipes`` (network name -> :class:`~reproductions.engine.Recipe`) on ``d``;
        returns name -> (metrics, or None if it diverged; trained model; outcome)."""
        trained = {}
        for i, (key, recipe) in enumerate(recipes.items(), start=1):
            print(
                f"  network {i}/{len(recipes)}: {key} ({recipe.epochs} epochs of {len(d['x_train'])} examples)",
                flush=True,
            )
            outcome, model = self.train_network(key, recipe, d)
            trained[key] = (None if outcome["diverged_epoch"] else outcome["metrics"], model, outcome)
        return trained

    def trained_network(self, target_name, network, build):
        """A network that ``target_name`` (one of this target's ``needs``) trained for this seed in this output
        folder, under this profile and data set: ``build()`` with its kept weights loaded once their SHA-256
        matches the manifest. Returns (model, manifest entry: recipe, metrics, digest); the model is None when
        the network diverged there (its entry says at which epoch)."""
        folder = Path(self.output_dir) / target_name
        fix = f"run it first into the same folder: python -m reproductions run {target_name} {self.target.name}" + (
            " --quick" if self.quick else ""
        )
        entry = _network_entry(folder, network, self.seed, self.quick, (self.fingerprint or {}).get("dataset"))
        if isinstance(entry, str):
            raise RunRefused(
                f"{self.target.name} uses the {network} that {target_name} trains for seed {self.seed}, "
                f"but {entry}; {fix}"
            )
        if entry.get("diverged_epoch"):
            return None, entry
        path = folder / entry["file"]
        if sha256_of(path) != entry["sha256"]:
            raise RunRefused(
                f"{path} does not match the SHA-256 in {folder / report.NETWORKS_MANIFEST} (changed since "
                f"{target_name} wrote it); {fix}"
            )
        model = build()
        model.load_weights(path)
        return model, entry

    def keep_network(self, key, model, metrics, recipe):
        """Keep a network trained by a target's own loop (not the engine) as the engine keeps its networks: the
        weights file, its SHA-256, the recipe and the network's final metrics."""
        self._keep(key, model, {"recipe": recipe, "metrics": metrics, "diverged_epoch": None}, self.seed_dir / key)

    def _keep(self, key, model, outcome, folder):
        entry = {
            "recipe": outcome["recipe"],
            "metrics": outcome["metrics"],
            "diverged_epoch": outcome["diverged_epoch"],
        }
        if not outcome["diverged_epoch"]:
            path = Path(folder) / f"{key}.weights.h5"
            entry.update(file=str(path), **engine.save_network(model, path))
        self.networks[key] = entry


# --------------------------------------------------------------------------- fingerprints


_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_SOURCE_PACKAGES = ("zoo", "callbacks", "reproductions")


def source_digest():
    """SHA-256 over the .py files of the installed zoo, callbacks and reproductions packages: the
    version of the code that runs, whatever the current directory or git state."""
    import hashlib

    if not hasattr(source_digest, "_value"):
        h = hashlib.sha256()
        for package in _SOURCE_PACKAGES:
            for path in sorted((_PACKAGE_ROOT / package).rglob("*.py")):
                h.update(str(path.relative_to(_PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
        source_digest._value = h.hexdigest()
    return source_digest._value


def _network_entry(folder, network, seed, quick, dataset):
    """The manifest entry of ``network`` for ``seed`` in a target's results ``folder`` if a run of this
    profile and data set kept it there, else why not (a string)."""
    record = _read_json(folder / "run.json")
    manifest = _read_json(folder / report.NETWORKS_MANIFEST)
    if record is None or manifest is None:
        return f"{folder} holds no trained networks"
    fp = record.get("fingerprint") or {}
    profile = "quick" if quick else "full"
    if fp.get("profile") != profile or (dataset is not None and fp.get("dataset") != dataset):
        return f"{folder} holds a {fp.get('profile')} run on {fp.get('dataset')}, not a {profile} run on {dataset}"
    for entry in manifest.get("networks", []):
        if entry.get("network") == network and entry.get("seed") == seed:
            if entry.get("diverged_epoch") or (entry.get("file") and (folder / entry["file"]).is_file()):
                return entry
            return f"its weights are not in {folder / 'networks'}"
    return f"{folder} has no {network} for seed {seed}"


def has_networks(folder, quick, dataset=None):
    """Whether a target's results ``folder`` keeps the trained networks of a run of this profile."""
    record = _read_json(Path(folder) / "run.json") or {}
    manifest = _read_json(Path(folder) / report.NETWORKS_MANIFEST) or {}
    fp = record.get("fingerprint") or {}
    entries = manifest.get("networks") or []
    return (
        fp.get("profile") == ("quick" if quick else "full")
        and (dataset is None or fp.get("dataset") == dataset)
        and bool(entries)
        and all((Path(folder) / e["file"]).is_file() for e in entries if e.get("file"))
    )


def fingerprint(target, quick, dataset=None, distribution=None, output_dir=None):
    """What produced a target's work: resumed work must have been made by the same of each (for a target
    that uses another's trained networks, the same networks: their manifest's SHA-256)."""
    dist = distribution or _ONE_DEVICE
    uses = {}
    for name in target.needs:
        manifest = Path(output_dir or ".") / name / report.NETWORKS_MANIFEST
        uses[name] = sha256_of(manifest) if manifest.is_file() else None
    return {
        "target": target.name,
        "profile": "quick" if quick else "full",
        "config": json.loads(json.dumps(target.config(quick), default=str)),
        "dataset": dataset or (target.datasets[0] if target.datasets else None),
        "strategy": {"name": dist.name, "replicas": dist.replicas},
        "code": source_digest(),
        **({"uses": uses} if target.needs else {}),
    }


# --------------------------------------------------------------------------- one target


def check_seeds(seeds):
    """``seeds`` as a list of distinct ints in [0, 2**32 - 1], at least one; else ValueError."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("`seeds` must name at least one seed, got none.")
    bad = [s for s in seeds if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or not 0 <= s <= MAX_SEED]
    if bad:
        raise ValueError(f"`seeds` must be integers in [0, {MAX_SEED}], got {bad[0]!r}.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"`seeds` must be distinct, got {seeds!r}.")
    return [int(s) for s in seeds]


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def _custom_gradient_registry():
    """TensorFlow's global registry of gradient functions, or None. Every graph-mode trace of a
    ``tf.custom_gradient`` function adds a 'CustomGradient-<n>' entry that is never removed, and it
    keeps that trace's whole graph alive: a run of many seeds grows ~6 MB per seed through it."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
        return registry if isinstance(registry, dict) else None
    except (ImportError, AttributeError):
        return None


@contextlib.contextmanager
def _forget_traced_gradients():
    """Drop the custom-gradient entries that the traces made within the block registered (their
    lookups happened while tracing, so finished traces no longer need them)."""
    registry = _custom_gradient_registry()
    before = set(registry) if registry is not None else set()
    try:
        yield
    finally:
        if registry is not None:
            for key in [k for k in registry if k not in before and str(k).startswith("CustomGradient-")]:
                registry.pop(key, None)


def run_seed(
    target,
    seed,
    *,
    quick,
    data_dir,
    output_dir,
    verbose=1,
    dataset=None,
    data=None,
    distribution=None,
    fingerprint_=None,
):
    """Run one seed of ``target`` into ``output_dir/.work/<target>/seed_<seed>/done.json`` and return
    its outcome. No lock and no results folder: :func:`run_target` (and its ``--jobs`` workers,
    one process per seed) call this and assemble the results. The Keras session is cleared first,
    so a long run of many seeds stays flat in memory. ``fingerprint_``: the run's fingerprint, already
    checked against the work folder by :func:`run_target`; a ``--jobs`` worker passes None and checks here."""
    import keras

    keras.backend.clear_session()
    work = Path(output_dir) / ".work" / target.name
    seed_dir = work / f"seed_{seed}"
    fp = fingerprint_
    if fp is None:
        fp = fingerprint(target, quick, dataset, distribution, output_dir)
        stored = _read_json(work / "fingerprint.json")
        if stored is not None:
            check_fingerprint(stored, fp, work)
    seed_dir.mkdir(parents=True, exist_ok=True)
    base = Context(
        target,
        target.profile(quick),
        quick,
        data_dir,
        Path(output_dir),
        verbose=verbose,
        dataset=dataset,
        distribution=distribution,
        fingerprint=fp,
    )
    if target.kind == "fit" and data is None:
        data = target.data(base)
    t0 = time.time()
    ctx = dataclasses.replace(base, seed=seed, seed_dir=seed_dir, extras={}, history=[], epoch_seconds={}, networks={})
    keras.utils.set_random_seed(seed)
    with _forget_traced_gradients():
        outcome = _run_fit(target, ctx, data) if target.kind == "fit" else _run_compute(target, ctx)
    outcome["networks"] = ctx.networks
    outcome["wall_time"] = time.time() - t0
    outcome["fingerprint"] = fp
    atomic_write_json(seed_dir / "done.json", outcome)
    fault_point("seed-done")
    return outcome


def _run_fit(target, ctx, d):
    """One seed of a fit target: its recipe (with the profile's epochs) through the engine."""
    outcome, model = engine.train(
        target.recipe_for(ctx.quick),
        d,
        seed=ctx.seed,
        work_dir=ctx.seed_dir,
        fingerprint=ctx.fingerprint,
        distribution=ctx.distribution,
        verbose=ctx.verbose,
        context=ctx,
    )
    ctx._keep(model.name, model, outcome, ctx.seed_dir)
    return outcome


def _run_compute(target, ctx):
    metrics = {k: float(v) for k, v in target.compute(ctx.seed, ctx).items()}
    diverged = None
    last = ctx.history[-1] if ctx.history else {}
    # several networks per seed (a "Network" column) record each one's divergence in their metrics
    if last and "Network" not in last and not math.isfinite(last.get("Train Loss") or 0.0):
        diverged = ctx.history[-1]["Epoch"]
    return {
        "metrics": metrics,
        "history": ctx.history,
        "extras": ctx.extras,
        "diverged_epoch": diverged,
        "epoch_seconds": ctx.epoch_seconds,
    }


class SeedProcessError(RuntimeError):
    """A ``--jobs`` worker process exited with an error (its log says why)."""


def _die_with_parent(parent):
    """preexec_fn of a ``--jobs`` worker: the kernel SIGKILLs it when its parent dies, however."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's finally still ends its workers on a catchable signal
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _run_seed_processes(target, seeds, jobs, *, quick, data_dir, output_dir, verbose, dataset, lock=None):
    """``--jobs``: each seed in its own ``python -m reproductions.seed_worker`` process, ``jobs`` at a time,
    each with ``cores // jobs`` intra-op threads; its output goes to ``seed_<s>/log.txt``. Workers
    inherit the target's lock (it stays held while any lives) and die with this process."""
    import functools
    import subprocess
    import sys

    threads = max(1, (os.cpu_count() or 1) // jobs)
    work = Path(output_dir) / ".work" / target.name
    queue, running, failed = list(seeds), {}, []
    started = time.time()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                seed = queue.pop(0)
                seed_dir = work / f"seed_{seed}"
                seed_dir.mkdir(parents=True, exist_ok=True)
                argv = [
                    sys.executable,
                    "-m",
                    "reproductions.seed_worker",
                    target.module,
                    target.name,
                    str(seed),
                    "--output-dir",
                    str(output_dir),
                    "--threads",
                    str(threads),
                    "--verbose",
                    str(min(verbose, 1)),
                ]
                argv += ["--quick"] if quick else []
                argv += ["--data-dir", str(data_dir)] if data_dir is not None else []
                argv += ["--dataset", dataset] if dataset else []
                log = open(seed_dir / "log.txt", "w")
                proc = subprocess.Popen(
                    argv,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=functools.partial(_die_with_parent, os.getpid()),
                    pass_fds=(lock.fileno(),) if lock is not None else (),
                )
                running[seed] = (proc, log, time.time())
                print(
                    f"  seed {seed}: started in process {proc.pid} ({threads} threads; log {seed_dir / 'log.txt'})",
                    flush=True,
                )
            time.sleep(0.5)
            for seed, (proc, log, t0) in list(running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del running[seed]
                status = "finished" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"
                print(
                    f"  seed {seed}: {status} after {fmt_seconds(time.time() - t0)}; "
                    f"{len(queue) + len(running)} to go, {fmt_seconds(time.time() - started)} so far",
                    flush=True,
                )
                if proc.returncode != 0:
                    failed.append((seed, proc.returncode))
    finally:
        for proc, log, _ in running.values():  # interrupted: no worker outlives this process
            proc.kill()
            proc.wait()
            log.close()
    if failed:
        tails = {}
        for seed, _ in failed:
            lines = (work / f"seed_{seed}" / "log.txt").read_text(errors="replace").strip().splitlines()
            tails[seed] = lines[-1] if lines else "no output"
        if all(code == 2 for _, code in failed):  # every worker refused (bad data, a fingerprint): one line
            raise RunRefused(tails[failed[0][0]].removeprefix("error: "))
        shown = "; ".join(f"seed {seed}: {tails[seed]}" for seed, _ in failed)
        raise SeedProcessError(
            f"{len(failed)} seed process(es) of {target.name} failed ({shown}); the finished "
            "seeds are kept, rerun with --resume to continue"
        )


def run_target(
    target,
    seeds,
    *,
    quick,
    data_dir,
    output_dir,
    resume,
    verbose=1,
    position=(1, 1),
    record=None,
    dataset=None,
    jobs=1,
    distribution=None,
):
    """Run ``target`` for ``seeds`` and write ``output_dir/<target>/``; returns the summary rows.
    ``jobs`` > 1 runs the seeds as that many parallel processes (the same numbers as a serial run);
    ``distribution`` (:func:`distribute.setup`) trains the runner's networks under a tf.distribute strategy.

    A refusal (bad data, a damaged checkpoint, ``resume`` over another run's work) leaves nothing
    this call created: no seed folders, no lock, no output folder."""
    from zoo.data import ChecksumError

    output_dir = Path(output_dir)
    work = output_dir / ".work" / target.name
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"`jobs` must be a positive integer, got {jobs!r}.")
    if jobs > 1 and not target.module:
        raise ValueError(
            f"--jobs {jobs} runs seeds in worker processes, which import a target from its module; "
            f"{target.name} has none (register it in reproductions.targets), so run it with jobs=1."
        )
    if jobs > 1 and distribution is not None and distribution.name != "default":
        raise ValueError(
            f"--jobs {jobs} runs seeds as separate single-device processes; it cannot be combined with "
            f"--strategy {distribution.name} (which gives one seed all devices). Use one or the other."
        )
    if dataset is not None and dataset not in target.datasets:
        raise ValueError(f"`dataset` must be one of {list(target.datasets)} for {target.name}, got {dataset!r}.")
    seeds = check_seeds(seeds)
    fp = fingerprint(target, quick, dataset, distribution, output_dir)
    output_existed = output_dir.exists()
    try:
        with target_lock(output_dir / ".work", target.name) as lock:
            fresh = not (resume and work.exists())
            before = set(work.iterdir()) if work.exists() else set()
            try:
                return _run_target_locked(
                    target,
                    seeds,
                    fp,
                    work,
                    lock,
                    quick=quick,
                    data_dir=data_dir,
                    output_dir=output_dir,
                    resume=resume,
                    verbose=verbose,
                    position=position,
                    record=record,
                    dataset=dataset,
                    jobs=jobs,
                    distribution=distribution,
                )
            except (RunRefused, ChecksumError):
                if fresh:
                    shutil.rmtree(work, ignore_errors=True)
                elif work.exists():
                    for path in set(work.iterdir()) - before:
                        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
                raise
    except (RunRefused, ChecksumError):
        if not output_existed:
            with contextlib.suppress(OSError):
                output_dir.rmdir()  # only if this call made it and left it empty
        raise


def _run_target_locked(
    target,
    seeds,
    fp,
    work,
    lock,
    *,
    quick,
    data_dir,
    output_dir,
    resume,
    verbose,
    position,
    record,
    dataset,
    jobs,
    distribution,
):
    if resume and work.exists():
        check_fingerprint(_read_json(work / "fingerprint.json"), fp, work)
    elif work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_json(work / "fingerprint.json", fp)
    started = time.time()
    pending = [s for s in seeds if not (work / f"seed_{s}" / "done.json").is_file()]
    if jobs > 1 and len(pending) > 1:
        print(
            f"[target {position[0]}/{position[1]} {target.name}] {len(pending)} seeds in {min(jobs, len(pending))} "
            "parallel processes",
            flush=True,
        )
        _run_seed_processes(
            target,
            pending,
            min(jobs, len(pending)),
            quick=quick,
            data_dir=data_dir,
            output_dir=output_dir,
            verbose=verbose,
            dataset=dataset,
            lock=lock,
        )
        resume = True
    base = Context(target, target.profile(quick), quick, data_dir, output_dir, verbose=verbose, dataset=dataset)
    d = None  # a fit target's data, loaded once when the first seed runs in this process
    results, seed_times = {}, []
    for i, seed in enumerate(seeds):
        done = work / f"seed_{seed}" / "done.json"
        eta = ""
        if seed_times:
            remaining = (len(seeds) - i) * float(np.mean(seed_times))
            eta = f", ETA {fmt_seconds(remaining)} for this target"
        print(
            f"[target {position[0]}/{position[1]} {target.name}] seed {i + 1}/{len(seeds)} (seed={seed}{eta})",
            flush=True,
        )
        if resume and done.is_file():
            results[seed] = _read_json(done)
            if results[seed] is None:
                raise CheckpointError(f"{done} is damaged; rerun without --resume to start over")
            check_fingerprint(results[seed].get("fingerprint"), fp, done)
            print("  already finished" + (" (resumed)" if jobs == 1 else ""), flush=True)
            continue
        if d is None and target.kind == "fit":
            d = target.data(base)
        outcome = run_seed(
            target,
            seed,
            quick=quick,
            data_dir=data_dir,
            output_dir=output_dir,
            verbose=verbose,
            dataset=dataset,
            data=d,
            distribution=distribution,
            fingerprint_=fp,
        )
        seed_times.append(outcome["wall_time"])
        results[seed] = outcome
        if outcome["diverged_epoch"]:
            print(
                f"  seed {seed} diverged at epoch {outcome['diverged_epoch']} (non-finite loss); continuing", flush=True
            )
    wall = time.time() - started
    run_record = dict(
        record or {},
        target=target.name,
        seeds=list(seeds),
        wall_time_seconds=wall,
        jobs=jobs,
        dataset=fp["dataset"],
        config=target.config(quick),
        fingerprint=fp,
        recipes=_recipes(results),
        seconds_per_epoch=_seconds_per_epoch(results),
        distribution=(distribution or _ONE_DEVICE).record(target.recipe.batch_size if target.kind == "fit" else None),
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    rows = report.write_target(output_dir, target, results, run_record)
    shutil.rmtree(work, ignore_errors=True)
    return rows


def _recipes(results):
    """Every network the run trained -> its recipe as run (the same in every seed; the first seed's)."""
    out = {}
    for _, r in sorted(results.items()):
        for network, entry in (r.get("networks") or {}).items():
            out.setdefault(network, entry["recipe"])
    return out


def _seconds_per_epoch(results):
    """Wall time per training epoch of each network, over all seeds (mean, min, max, epochs timed)."""
    pooled = {}
    for r in results.values():
        for network, values in (r.get("epoch_seconds") or {}).items():
            pooled.setdefault(network, []).extend(values)
    return {
        network: {
            "mean": round(float(np.mean(v)), 3),
            "min": round(float(np.min(v)), 3),
            "max": round(float(np.max(v)), 3),
            "epochs": len(v),
        }
        for network, v in pooled.items()
        if v
    }


def run_targets(
    chosen,
    *,
    seeds,
    quick,
    data_dir,
    output_dir,
    resume,
    strategy="default",
    verbose=1,
    record=None,
    dataset=None,
    jobs=1,
    cpu_devices=2,
    index_known=None,
):
    """Run several targets in order; returns 0 if all ran (verdicts do not change the exit code).

    Under ``strategy="multiworker"`` every worker trains; only the chief writes ``output_dir``
    (the others work in ``output_dir/.worker-<i>/``, removed at the end). ``index_known``: every target by
    name, for a set the index lists missing targets of (the published set's; see :func:`report.write_index`)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {list(STRATEGIES)}, got {strategy!r}.")
    if jobs > 1 and strategy != "default":
        raise ValueError(
            f"--jobs {jobs} runs seeds as separate single-device processes; it cannot be combined with "
            f"--strategy {strategy} (which gives one seed all devices). Use one or the other."
        )
    final_dir = Path(output_dir)
    report.check_index(final_dir)  # refuse before training, not after, if README.md there is not ours
    distribution = distribute.setup(strategy, cpu_devices)  # before TensorFlow starts (logical CPU devices)
    configure_determinism()
    if not distribution.chief:
        output_dir = final_dir / f".worker-{distribution.worker_index}"
    if distribution.name != "default":
        print(
            f"strategy {distribution.name}: {distribution.replicas} replicas on {distribution.devices}"
            + (
                ""
                if distribution.chief
                else f" (worker {distribution.worker_index}, not the chief: results are the chief's)"
            ),
            flush=True,
        )
    try:
        for k, target in enumerate(chosen, start=1):
            run_target(
                target,
                target.run_seeds(quick, seeds),
                quick=quick,
                data_dir=data_dir,
                output_dir=output_dir,
                resume=resume,
                verbose=verbose,
                position=(k, len(chosen)),
                record=record,
                dataset=dataset,
                jobs=jobs,
                distribution=distribution if distribution.name != "default" else None,
            )
        if distribution.chief:
            report.write_index(output_dir, known=index_known, judges=index_known or {t.name: t for t in chosen})
    finally:
        if not distribution.chief:
            shutil.rmtree(output_dir, ignore_errors=True)
    return 0
