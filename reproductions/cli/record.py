"""The run record (``run.json``): the command, commit, versions, hardware and data provenance of a run, naming no
machine's file system."""

from __future__ import annotations

import os
import platform
import shlex
import time
from pathlib import Path

from keras_lecture_zoo.reproductions.cli import published

__all__ = ["run_record", "portable_argv", "data_provenance", "OUTSIDE"]


def run_record(argv, settings):
    """What a run records beside its numbers: the command as typed (folders made portable), the commit and
    source digest, the data's provenance, the versions and the hardware."""
    import keras
    import matplotlib
    import numpy
    import pandas
    import sklearn

    from keras_lecture_zoo.reproductions.engine import backend_name

    backend = backend_name()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from keras_lecture_zoo.reproductions.fingerprint import source_digest

    return {
        "command": "python -m reproductions " + shlex.join(portable_argv(argv)),
        "git_commit": published.git_commit(),
        "source_sha256": source_digest(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "data": data_provenance(settings.data_dir or os.environ.get("ZOO_DATA_DIR")),
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            **_backend_versions(),
            "numpy": numpy.__version__,
            "pandas": pandas.__version__,
            "scikit-learn": sklearn.__version__,
            "matplotlib": matplotlib.__version__,
        },
        "backend": backend,
        "hardware": {
            "cpu": cpu,
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "gpus": _accelerators(backend),
        },
    }


OUTSIDE = "<outside the checkout>"  # what a record shows for a folder of one machine's file system


_PATH_OPTIONS = ("--output-dir", "--data-dir", "--compare", "--from", "--into")


def portable_argv(argv):
    """``argv`` with every folder option's path made portable: relative to the checkout when inside it, else
    ``<outside the checkout>/<its name>``; a record names no machine's file system."""
    out, expect_path = [], False
    for arg in argv:
        option, eq, value = arg.partition("=")
        if expect_path:
            out.append(_portable_path(arg))
        elif eq and option in _PATH_OPTIONS:
            out.append(f"{option}={_portable_path(value)}")
        else:
            out.append(arg)
        expect_path = arg in _PATH_OPTIONS
    return out


def _portable_path(text):
    path = Path(text)
    if not path.is_absolute():
        return text
    try:
        return path.resolve().relative_to(published.PUBLISHED.parent).as_posix()
    except ValueError:
        return f"{OUTSIDE}/{path.name}"


def data_provenance(data_dir):
    """Where a run's data came from, by kind of place, and how each file was checked: by name and pinned digest,
    not by one machine's path."""
    from keras_lecture_zoo.zoo.data.idx import DATASETS

    return {
        "source": "a local data folder (--data-dir or ZOO_DATA_DIR)" if data_dir else "the download cache",
        "check": "every file a run reads is checked against its pinned SHA-256 before use",
        "sha256": {name: dict(spec.sha256) for name, spec in sorted(DATASETS.items())},
    }


def _backend_versions():
    """{package: version} of the installed Keras backends (TensorFlow, JAX, PyTorch), without importing
    one that is not the active backend."""
    from importlib import metadata

    versions = {}
    for label, dist in (
        ("tensorflow", "tensorflow-cpu"),
        ("tensorflow", "tensorflow"),
        ("jax", "jax"),
        ("torch", "torch"),
    ):
        if label in versions:
            continue
        try:
            versions[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return versions


def _accelerators(backend):
    """The accelerators the active ``backend`` trains on (names; empty on a CPU)."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [
            f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices() if d.platform != "cpu"
        ]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []
