"""Keep TensorFlow's own log lines off the terminal of a command-line run (``--verbose 2`` shows them).

TensorFlow's C++ side logs through absl before anything could configure it (the oneDNN notice, the
``NodeDef mentions attribute`` error of tf.data graphs, grappler's ``Not handling type DT_DOUBLE``),
straight to file descriptor 2, where ``TF_CPP_MIN_LOG_LEVEL`` no longer reaches. So the command line
routes descriptor 2 through a pipe and drops exactly those lines (absl's ``I0000 hh:mm:ss.micros pid
file:line]`` prefix for info, warning and error; fatal ones pass), and sets TensorFlow's and absl's
Python loggers to errors only (the ``tf.function retracing`` warnings). Everything else, tracebacks
included, passes unchanged. One cost: a process that the C++ side aborts (a fatal ``Check failed``)
dies with the filter thread, and its last lines may not reach the terminal; rerun with ``--verbose 2``,
which leaves descriptor 2 alone.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading

# absl's C++ log prefix (severity I/W/E, month-day, time, thread id, file:line]) and its one-off preamble.
NOISE = re.compile(
    rb"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)"
)
_installed = False


def is_noise(line: bytes) -> bool:
    """Whether one line of standard error is TensorFlow's own logging, not the user's business."""
    return NOISE.match(line) is not None


def drop_noise(lines, previous_dropped=False):
    """(the lines to keep, whether the last line was dropped): noise lines, and the tab-indented
    continuation lines of a dropped entry (TensorFlow's ``\twhen importing GraphDef to MLIR ...``)."""
    kept = []
    for line in lines:
        dropped = is_noise(line) or (previous_dropped and line.startswith(b"\t"))
        if not dropped:
            kept.append(line)
        previous_dropped = dropped
    return kept, previous_dropped


def _forward(read_fd: int, real_fd: int) -> None:
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        pending, dropping = b"", False
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept, dropping = drop_noise(lines, dropping)
            if kept:
                os.write(real_fd, b"".join(line + b"\n" for line in kept))
        if pending:
            kept, _ = drop_noise([pending], dropping)
            if kept:
                os.write(real_fd, kept[0])


def silence_tensorflow_logs() -> None:
    """Filter descriptor 2 for the rest of this process (idempotent); call before TensorFlow loads."""
    global _installed
    if _installed:
        return
    _installed = True
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    sys.stderr.flush()
    real = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    reader = threading.Thread(target=_forward, args=(read_fd, real), name="stderr-filter", daemon=True)
    reader.start()

    def restore():
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(real, 2)  # closes the pipe's last writer in this process: the reader drains and ends
        reader.join(timeout=5)

    atexit.register(restore)
