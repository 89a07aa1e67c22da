"""The command line's edge with the operating system: a closed or full standard output never stops a run
(its progress lines go nowhere, its results are still written), and every OS error that reaches the command
line is said in one line: what failed, on which path, and what to do."""

from __future__ import annotations

import errno
import os
import re
import sys

from keras_lecture_zoo.reproductions.errors import first_line

__all__ = ["ForgivingStream", "guard_stdout", "os_error_line"]

_ADVICE = {
    errno.ENOSPC: "the disk is full; free some space and run the command again (a run continues with --resume)",
    errno.EDQUOT: "the disk quota is used up; free some space and run the command again",
    errno.EROFS: "the file system is read-only; choose a writable --output-dir",
    errno.EACCES: "permission denied; choose a folder you can write to (--output-dir)",
    errno.EPERM: "permission denied; choose a folder you can write to (--output-dir)",
    errno.ENAMETOOLONG: "the path is too long for the file system; choose a shorter --output-dir",
    errno.ENOENT: "no such file or folder; check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path",
    errno.EISDIR: "a folder stands where a file is expected; check the path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run the command again",
    errno.EIO: "the device reported an input/output error; check the disk",
}
_H5_ERRNO = re.compile(r"errno = (\d+)")  # h5py reports the OS error inside its message, with no errno set


class ForgivingStream:
    """A text stream that stops writing, silently, once its reader is gone or its device is full, so a
    progress line can never end the work it reports on."""

    def __init__(self, stream):
        self._stream, self._closed = stream, False

    def write(self, text):
        if not self._closed:
            try:
                return self._stream.write(text)
            except (BrokenPipeError, OSError, ValueError):
                self._give_up()
        return len(text)

    def flush(self):
        if not self._closed:
            try:
                self._stream.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._give_up()

    def _give_up(self):
        self._closed = True
        try:  # the interpreter's own flush at exit must not fail on the dead descriptor either
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guard_stdout():
    """Make ``sys.stdout`` a :class:`ForgivingStream` (once)."""
    if not isinstance(sys.stdout, ForgivingStream):
        sys.stdout = ForgivingStream(sys.stdout)


def os_error_line(exc) -> str:
    """One line for an OS or encoding error: what failed, on which path, what to do."""
    if isinstance(exc, UnicodeError):
        return (
            f"a name or text could not be encoded ({type(exc).__name__}: {exc.reason}); use a UTF-8 locale "
            "(e.g. LANG=C.UTF-8) or an ASCII --output-dir"
        )
    code = exc.errno
    if code is None:
        found = _H5_ERRNO.search(str(exc))
        code = int(found.group(1)) if found else None
    what = exc.strerror or (os.strerror(code) if code else first_line(exc))
    paths = [p for p in (exc.filename, getattr(exc, "filename2", None)) if p]
    where = f" ({' -> '.join(map(_shown, paths))})" if paths else ""
    advice = _ADVICE.get(code, "check the path and run the command again")
    return f"{what}{where}: {advice}"


def _shown(path):
    return os.fsdecode(path) if isinstance(path, bytes) else str(path)


def fmt_seconds(s):
    """A duration as a reader scans it: '4m05s', or '2h19m' from an hour on."""
    s = int(round(s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def plural(n, word):
    """'1 seed', '2 seeds': a count with its noun."""
    return f"{n} {word}{'' if n == 1 else 's'}"
