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
import math
import shutil
import time

import numpy as np

from keras_lecture_zoo.reproductions import distribute, engine, report, results_index
from keras_lecture_zoo.reproductions.console import fmt_seconds
from keras_lecture_zoo.reproductions.context import Context
from keras_lecture_zoo.reproductions.engine import configure_determinism
from keras_lecture_zoo.reproductions.errors import CheckpointError, RunRefused, SeedProcessError
from keras_lecture_zoo.reproductions.fileio import atomic_write_json, fault_point, target_lock
from keras_lecture_zoo.reproductions.fingerprint import check_fingerprint, fingerprint, source_digest
from keras_lecture_zoo.reproductions.results_folder import check_index, read_json
from keras_lecture_zoo.reproductions.settings import RunSettings

__all__ = [
    "Context",
    "RunSettings",
    "run_targets",
    "run_target",
    "run_seed",
    "configure_determinism",
    "source_digest",
    "SeedProcessError",
]


def run_targets(targets, settings, record=None, index_known=None):
    """Run several targets in order; returns 0 if all ran (verdicts do not change the exit code).

    Under ``--strategy multiworker`` every worker trains; only the chief writes the output folder (the others
    work in ``<output>/.worker-<i>/``, removed at the end). ``index_known``: every target by name, for a set the
    index lists missing targets of (the published set's; see :func:`results_index.write_index`)."""
    final_dir = settings.output_dir
    check_index(final_dir)  # refuse before training, not after, if README.md there is not ours
    distribution = distribute.setup(settings.strategy, settings.devices)  # before TensorFlow starts
    configure_determinism()
    if not distribution.chief:
        settings = dataclasses.replace(settings, output_dir=final_dir / f".worker-{distribution.worker_index}")
    if distribution.name != "default":
        role = (
            ""
            if distribution.chief
            else f" (worker {distribution.worker_index}, not the chief: results are the chief's)"
        )
        print(
            f"strategy {distribution.name}: {distribution.replicas} replicas on {distribution.devices}{role}",
            flush=True,
        )
    try:
        for k, target in enumerate(targets, start=1):
            run_target(
                target,
                settings,
                position=(k, len(targets)),
                record=record,
                distribution=distribution if distribution.name != "default" else None,
            )
        if distribution.chief:
            judges = index_known or {t.name: t for t in targets}
            results_index.write_index(settings.output_dir, known=index_known, judges=judges)
    finally:
        if not distribution.chief:
            shutil.rmtree(settings.output_dir, ignore_errors=True)
    return 0


def run_target(target, settings, *, position=(1, 1), record=None, distribution=None):
    """Run ``target`` under ``settings`` and write ``<output>/<target>/``; returns the summary rows. ``--jobs`` > 1
    runs the seeds as that many parallel processes (the same numbers as a serial run); ``distribution``
    (:func:`distribute.setup`) trains the networks under a tf.distribute strategy.

    A refusal (bad data, a damaged checkpoint, ``--resume`` over another run's work) leaves nothing
    this call created: no seed folders, no lock, no output folder."""
    from keras_lecture_zoo.zoo.data import ChecksumError

    run = _TargetRun(target, settings, settings.seeds_of(target), position, record, distribution)
    output_existed = settings.output_dir.exists()
    try:
        with target_lock(settings.output_dir / ".work", target.name) as lock:
            return run.locked(lock)
    except (RunRefused, ChecksumError):
        if not output_existed:
            with contextlib.suppress(OSError):
                settings.output_dir.rmdir()  # only if this call made it and left it empty
        raise


@dataclasses.dataclass
class _TargetRun:
    """One target's run over its seeds, under its lock: fingerprint, seeds (here or in worker processes), record."""

    target: object
    settings: RunSettings
    seeds: list
    position: tuple
    record: dict | None
    distribution: object

    @property
    def work(self):
        return self.settings.output_dir / ".work" / self.target.name

    def locked(self, lock):
        """Run the seeds into the work folder, then the results folder; a refusal removes what it added."""
        from keras_lecture_zoo.zoo.data import ChecksumError

        work = self.work
        fresh = not (self.settings.resume and work.exists())
        before = set(work.iterdir()) if work.exists() else set()
        try:
            return self._run(lock)
        except (RunRefused, ChecksumError):
            if fresh:
                shutil.rmtree(work, ignore_errors=True)
            elif work.exists():
                for path in set(work.iterdir()) - before:
                    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            raise

    def _run(self, lock):
        from keras_lecture_zoo.reproductions.seed_worker import run_in_processes

        target, settings, work = self.target, self.settings, self.work
        fp = fingerprint(target, settings, self.distribution)
        if settings.resume and work.exists():
            check_fingerprint(read_json(work / "fingerprint.json"), fp, work)
        elif work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True, exist_ok=True)
        atomic_write_json(work / "fingerprint.json", fp)
        started = time.time()
        pending = [s for s in self.seeds if not (work / f"seed_{s}" / "done.json").is_file()]
        resume = settings.resume
        if settings.jobs > 1 and len(pending) > 1:
            self._say(f"{len(pending)} seeds in {min(settings.jobs, len(pending))} parallel processes")
            run_in_processes(target, pending, settings, lock)
            resume = True
        results = self._seeds(fp, resume)
        run_record = dict(
            self.record or {},
            target=target.name,
            seeds=list(self.seeds),
            wall_time_seconds=time.time() - started,
            jobs=settings.jobs,
            dataset=fp["dataset"],
            config=target.config(settings.profile),
            fingerprint=fp,
            recipes=_recipes(results),
            seconds_per_epoch=_seconds_per_epoch(results),
            distribution=self._distribution_record(),
            finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        rows = report.write_target(settings.output_dir, target, results, run_record)
        shutil.rmtree(work, ignore_errors=True)
        return rows

    def _seeds(self, fp, resume):
        """Every seed's outcome: read back where a worker or an earlier run finished it, else run here."""
        target, seeds = self.target, self.seeds
        data = None  # a fit target's data, loaded once when the first seed runs in this process
        results, seed_times = {}, []
        for i, seed in enumerate(seeds):
            eta = ""
            if seed_times:
                eta = f", ETA {fmt_seconds((len(seeds) - i) * float(np.mean(seed_times)))} for this target"
            self._say(f"seed {i + 1}/{len(seeds)} (seed={seed}{eta})")
            done = self.work / f"seed_{seed}" / "done.json"
            if resume and done.is_file():
                results[seed] = _finished(done, fp)
                print("  already finished" + (" (resumed)" if self.settings.jobs == 1 else ""), flush=True)
                continue
            if data is None and target.kind == "fit":
                data = target.data(Context(target, self.settings))
            outcome = run_seed(target, seed, self.settings, data=data, distribution=self.distribution, fingerprint_=fp)
            seed_times.append(outcome["wall_time"])
            results[seed] = outcome
            if outcome["diverged_epoch"]:
                diverged = outcome["diverged_epoch"]
                print(f"  seed {seed} diverged at epoch {diverged} (non-finite loss); continuing", flush=True)
        return results

    def _say(self, text):
        print(f"[target {self.position[0]}/{self.position[1]} {self.target.name}] {text}", flush=True)

    def _distribution_record(self):
        batch = self.target.recipe.batch_size if self.target.kind == "fit" else None
        return (self.distribution or distribute.ONE_DEVICE).record(batch)


def _finished(done, fp):
    """A finished seed's stored outcome, made by this run's fingerprint."""
    outcome = read_json(done)
    if outcome is None:
        raise CheckpointError(f"{done} is damaged; rerun without --resume to start over")
    check_fingerprint(outcome.get("fingerprint"), fp, done)
    return outcome


def run_seed(target, seed, settings, *, data=None, distribution=None, fingerprint_=None):
    """Run one seed of ``target`` into ``<output>/.work/<target>/seed_<seed>/done.json`` and return its outcome.
    No lock and no results folder: :func:`run_target` (and its ``--jobs`` workers, one process per seed) call this
    and assemble the results. The Keras session is cleared first, so a long run of many seeds stays flat in
    memory. ``fingerprint_``: the run's fingerprint, already checked against the work folder by
    :func:`run_target`; a ``--jobs`` worker passes None and checks here."""
    import keras

    keras.backend.clear_session()
    work = settings.output_dir / ".work" / target.name
    seed_dir = work / f"seed_{seed}"
    fp = fingerprint_
    if fp is None:
        fp = fingerprint(target, settings, distribution)
        stored = read_json(work / "fingerprint.json")
        if stored is not None:
            check_fingerprint(stored, fp, work)
    seed_dir.mkdir(parents=True, exist_ok=True)
    base = Context(target, settings, distribution=distribution, fingerprint=fp)
    if target.kind == "fit" and data is None:
        data = target.data(base)  # the data of seed 0's context, as in a serial run
    ctx = dataclasses.replace(base, seed=seed, seed_dir=seed_dir, extras={}, history=[], epoch_seconds={}, networks={})
    t0 = time.time()
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
        target.recipe_for(ctx.settings.profile), d, seed=ctx.seed, work_dir=ctx.seed_dir, context=ctx
    )
    ctx.keep(model.name, model, outcome, ctx.seed_dir)
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
