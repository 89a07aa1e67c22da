"""Crash-safe writes for every package: a file is written beside its destination, flushed to disk and
renamed over it in one step, so a reader (or a crash) sees the old file or the new one, never half of
one; and the test-only hook that kills the process at a named point between writes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "fault_point", "sha256_of", "FAULT_ENV"]

FAULT_ENV = "ZOO_FAULT_KILL"  # test-only: "<point>" or "<point>:<n>" SIGKILLs this process at the n-th hit
_fault_hits: dict = {}


def fault_point(name: str) -> None:
    """Test hook: SIGKILL this process when ``$ZOO_FAULT_KILL`` names this point (``point`` or
    ``point:n`` for the n-th time it is reached), so a kill lands deterministically between writes."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _fault_hits[name] = _fault_hits.get(name, 0) + 1
    if _fault_hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temp path beside ``path``; on success it is fsynced and renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        fault_point(f"before-replace-{path.name}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def sha256_of(path) -> str:
    """The SHA-256 of a file's bytes, hex: how every weights file and measured file is pinned."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
