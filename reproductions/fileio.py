"""Crash-safe file writes, whole-folder swaps and the per-target lock: nothing half-written, no two
runs of one target, and a test-only hook that kills the process at a named point between writes."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
from pathlib import Path

from keras_lecture_zoo.zoo.fileio import FAULT_ENV, atomic_path, atomic_write_bytes, fault_point, sha256_of

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_path",
    "target_lock",
    "LockedError",
    "swap_in",
    "recover",
    "aside",
    "fault_point",
    "sha256_of",
    "FAULT_ENV",
    "NO_EXCHANGE_ENV",
]


class LockedError(RuntimeError):
    """Another process is running the same target in the same output directory."""


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` as UTF-8; a path it quotes that the OS gave as undecodable bytes is written back as
    those bytes."""
    atomic_write_bytes(path, text.encode("utf-8", "surrogateescape"))


def atomic_write_json(path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@contextlib.contextmanager
def target_lock(directory, target):
    """Hold an exclusive, non-blocking lock on ``directory/<target>.lock`` for the run of ``target``;
    yields the open lock file (child processes that inherit its descriptor keep the lock held while
    they live). The file is removed on release, and ``directory`` too if this left it empty."""
    directory = Path(directory)
    lock_file = directory / f"{target}.lock"
    while True:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            fh = open(lock_file, "a+")
        except FileNotFoundError:  # another run removed the emptied folder just now
            continue
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise LockedError(
                    f"target {target!r} is already being run into {directory.parent} (pid {holder}); "
                    "wait for that run to finish, or use another --output-dir."
                ) from None
            raise
        try:  # the holder before us may have removed the file between our open and our flock
            same = os.path.samestat(os.fstat(fh.fileno()), os.stat(lock_file))
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield fh
    finally:
        with contextlib.suppress(OSError):
            lock_file.unlink()
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
        with contextlib.suppress(OSError):
            directory.rmdir()  # only if empty


_RENAME_EXCHANGE = 2


NO_EXCHANGE_ENV = "ZOO_FAULT_NO_EXCHANGE"  # test-only: "1" takes the two-rename path, as where renameat2 is missing


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if os.environ.get(NO_EXCHANGE_ENV) == "1":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(a))


def aside(final) -> Path:
    """Where :func:`swap_in` keeps the previous folder while it renames without an atomic exchange."""
    final = Path(final)
    return final.parent / f".{final.name}.old"


def swap_in(stage, final) -> None:
    """Replace the folder ``final`` by ``stage`` whole. Where the kernel can exchange two paths
    atomically, a reader sees the old folder or the new one and never neither; elsewhere the old
    folder is renamed aside first (:func:`recover` brings it back after a crash in between)."""
    stage, final = Path(stage), Path(final)
    if final.exists() and _exchange(stage, final):
        shutil.rmtree(stage, ignore_errors=True)  # the previous results, now under the staging name
        return
    old = aside(final)
    if final.exists():
        os.rename(final, old)
    fault_point("between-swap-renames")
    os.rename(stage, final)
    shutil.rmtree(old, ignore_errors=True)


def recover(final) -> None:
    """Finish a :func:`swap_in` that a crash interrupted: bring back the previous folder if the new one
    is missing, else drop the leftover."""
    final = Path(final)
    old = aside(final)
    if old.exists():
        if final.exists():
            shutil.rmtree(old)
        else:
            os.rename(old, final)
