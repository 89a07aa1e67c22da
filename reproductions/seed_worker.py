"""``--jobs``: each seed of a target in its own process, ``jobs`` at a time.

The suite writes the run's settings to ``.work/<target>/settings.json`` and starts
``python -m keras_lecture_zoo.reproductions.seed_worker MODULE TARGET SEED --settings FILE`` per seed: the
worker imports the target from the module that defines it (no registry lookup), reads the settings back and
runs that one seed with ``cores // jobs`` compute threads. Workers inherit the target's lock (it stays held
while any lives) and die with the process that started them."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
import time
from pathlib import Path

from keras_lecture_zoo.reproductions.errors import RunRefused, SeedProcessError
from keras_lecture_zoo.reproductions.settings import RunSettings, SettingsError

SETTINGS_FILE = "settings.json"


def run_in_processes(target, seeds, settings, lock=None):
    """Run ``seeds`` of ``target`` in worker processes, ``settings.jobs`` at a time; each worker's output goes to
    ``seed_<s>/log.txt``. A seed that fails raises :class:`SeedProcessError` once the others finished (they are
    kept for ``--resume``); when every failed worker refused in one line, that line is raised as a refusal."""
    from keras_lecture_zoo.reproductions.console import fmt_seconds

    work = settings.output_dir / ".work" / target.name
    jobs = min(settings.jobs, len(seeds))
    settings_file = work / SETTINGS_FILE
    worker_settings = dataclasses.replace(settings, jobs=jobs, verbose=min(settings.verbose, 1))
    settings_file.write_text(worker_settings.to_json())
    queue, running, failed = list(seeds), {}, []
    started = time.time()
    try:
        while queue or running:
            while queue and len(running) < jobs:
                seed = queue.pop(0)
                running[seed] = (*_start(target, seed, settings_file, lock, _threads(worker_settings)), time.time())
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
        _raise_failures(target, work, failed)


def _start(target, seed, settings_file, lock, threads):
    """Start the worker of one seed; returns (process, its open log file)."""
    import functools
    import subprocess

    seed_dir = settings_file.parent / f"seed_{seed}"
    seed_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "keras_lecture_zoo.reproductions.seed_worker", target.module, target.name, str(seed)]
    log = open(seed_dir / "log.txt", "w")
    proc = subprocess.Popen(
        argv + ["--settings", str(settings_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        pass_fds=(lock.fileno(),) if lock is not None else (),
    )
    print(f"  seed {seed}: started in process {proc.pid} ({threads} threads; log {seed_dir / 'log.txt'})", flush=True)
    return proc, log


def _raise_failures(target, work, failed):
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


def _die_with_parent(parent):
    """preexec_fn of a worker: the kernel SIGKILLs it when its parent dies, however."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the parent's finally still ends its workers on a catchable signal
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _threads(settings):
    """Compute threads of one worker: the cores shared among the ``jobs`` running at once."""
    return max(1, (os.cpu_count() or 1) // settings.jobs)


def _target(module_name, name):
    module = importlib.import_module(module_name)
    for target in getattr(module, "TARGETS", None) or [module.TARGET]:
        if target.name == name:
            return target
    raise SystemExit(f"error: {module_name} defines no target {name!r}")


def main(argv=None):
    """The worker of one seed: exit status 0, or 2 with one line for a refusal (the suite reports it)."""
    parser = argparse.ArgumentParser(prog="python -m keras_lecture_zoo.reproductions.seed_worker")
    parser.add_argument("module")
    parser.add_argument("target")
    parser.add_argument("seed", type=int)
    parser.add_argument("--settings", required=True, help="the run's settings (RunSettings as JSON)")
    args = parser.parse_args(argv)
    settings = RunSettings.from_json(Path(args.settings).read_text())
    if settings.verbose < 2:
        from keras_lecture_zoo.quiet import silence_tensorflow_logs

        silence_tensorflow_logs()
    from keras_lecture_zoo.reproductions.distribute import StrategyError
    from keras_lecture_zoo.reproductions.suite import configure_determinism, run_seed
    from keras_lecture_zoo.zoo.data import ChecksumError

    _limit_threads(_threads(settings))
    configure_determinism()
    try:
        run_seed(_target(args.module, args.target), args.seed, settings)
    except (RunRefused, ChecksumError, StrategyError, SettingsError) as exc:  # a refusal: one line, exit 2, as the CLI
        print("error: " + " ".join(part.strip() for part in str(exc).splitlines() if part.strip()), file=sys.stderr)
        return 2
    return 0


def _limit_threads(threads):
    """Give this worker ``threads`` compute threads on the active Keras backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
    # JAX: not limited (XLA sizes its CPU thread pool when it starts; --jobs workers share the cores)


if __name__ == "__main__":
    sys.exit(main())
