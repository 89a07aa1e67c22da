"""MNIST and Fashion-MNIST as verified IDX files: where they come from (an argument, ``ZOO_DATA_DIR``, or a
download into the cache), their pinned SHA-256 sums, bounded decompression, and the raw arrays."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import http.client
import json
import math
import mmap
import os
import socket
import sys
import threading
import urllib.parse
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from keras_lecture_zoo.zoo.fileio import atomic_write_bytes

__all__ = [
    "ChecksumError",
    "MissingDataError",
    "DATASETS",
    "DatasetSpec",
    "load_arrays",
    "resolve_data_dir",
    "cache_dir",
    "download",
    "read_idx",
    "ENV_DATA_DIR",
    "ENV_CACHE_DIR",
    "ENV_MIRROR",
    "ENV_OFFLINE",
    "ENV_TIMEOUT",
]

ENV_DATA_DIR = "ZOO_DATA_DIR"
ENV_CACHE_DIR = "ZOO_CACHE_DIR"
ENV_MIRROR = "ZOO_DATA_MIRROR"
ENV_OFFLINE = "ZOO_OFFLINE"
ENV_TIMEOUT = "ZOO_DOWNLOAD_TIMEOUT"

_PARTS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# Decompressed size of each file (IDX header + 28x28 images or labels), for MNIST and Fashion-MNIST alike:
# nothing larger is ever decompressed or downloaded.
PART_BYTES = {
    "train-images-idx3-ubyte": 16 + 60_000 * 28 * 28,
    "train-labels-idx1-ubyte": 8 + 60_000,
    "t10k-images-idx3-ubyte": 16 + 10_000 * 28 * 28,
    "t10k-labels-idx1-ubyte": 8 + 10_000,
}
CONNECT_TIMEOUT = 10  # seconds per mirror (name lookup and connection, then each read) before the next one


def _offline() -> bool:
    """Whether ``ZOO_OFFLINE`` forbids network downloads (1, true or yes)."""
    return os.environ.get(ENV_OFFLINE, "").lower() in ("1", "true", "yes")


def _timeout() -> float:
    """Seconds a mirror gets to answer: ``$ZOO_DOWNLOAD_TIMEOUT``, default :data:`CONNECT_TIMEOUT`."""
    raw = os.environ.get(ENV_TIMEOUT, "")
    try:
        value = float(raw) if raw else CONNECT_TIMEOUT
    except ValueError:
        value = -1
    if not value > 0:
        raise ValueError(f"${ENV_TIMEOUT} must be a positive number of seconds, got {raw!r}")
    return value


def _connects(url: str, timeout: float) -> str | None:
    """None if ``url``'s host accepts a connection within ``timeout`` seconds, else why not. The name
    lookup runs in a thread so that a resolver that never answers costs ``timeout`` too, not minutes."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)  # urlopen goes through it
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome = []

    def attempt():
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(str(exc) or type(exc).__name__)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return outcome[0] if outcome else f"no answer within {timeout:g} s (${ENV_TIMEOUT})"


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where a data set lives and the SHA-256 of each decompressed IDX file."""

    name: str
    subdir: str
    sha256: dict
    mirrors: tuple
    class_names: tuple


DATASETS = {
    "mnist": DatasetSpec(
        name="mnist",
        subdir="mnist",
        sha256={
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        mirrors=(
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
        ),
        class_names=tuple(str(i) for i in range(10)),
    ),
    "fashion_mnist": DatasetSpec(
        name="fashion_mnist",
        subdir="fashion-mnist",
        sha256={
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        mirrors=(
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
}
_ALIASES = {"fashion-mnist": "fashion_mnist", "fashion": "fashion_mnist", "fmnist": "fashion_mnist"}


class ChecksumError(RuntimeError):
    """A data file is missing bytes, corrupted, unreadable or not the file it claims to be."""


class MissingDataError(ChecksumError, FileNotFoundError):
    """A data file (or the data folder) is not there and cannot be downloaded."""


# --------------------------------------------------------------------------- locations


def _spec(name) -> DatasetSpec:
    key = _ALIASES.get(name, name)
    if key not in DATASETS:
        raise ValueError(f"`name` must be one of {sorted(DATASETS)} (or {sorted(_ALIASES)}), got {name!r}.")
    return DATASETS[key]


def resolve_data_dir(data_dir=None) -> Path | None:
    """The local data directory: ``data_dir`` if given, else ``$ZOO_DATA_DIR``, else None."""
    chosen = data_dir if data_dir is not None else os.environ.get(ENV_DATA_DIR) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        source = "`data_dir`" if data_dir is not None else f"${ENV_DATA_DIR}"
        raise MissingDataError(
            f"{source} points at {str(path)!r}, which is not a directory. Point it at a folder holding "
            f"mnist/ and fashion-mnist/ IDX files (e.g. ../shared/datasets), or unset it to download."
        )
    return path


def cache_dir() -> Path:
    """Download and decompression cache: ``$ZOO_CACHE_DIR`` or ``~/.cache/keras-lecture-zoo``."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "keras-lecture-zoo"


def _find_part(folder: Path, spec: DatasetSpec, part: str) -> Path | None:
    for d in (folder / spec.subdir, folder):
        for candidate in (d / part, d / f"{part}.gz"):
            if candidate.is_file():
                return candidate
            if candidate.exists():
                raise ChecksumError(
                    f"{candidate} is not a regular file (a directory?); replace it with the "
                    f"{spec.name} file {candidate.name}."
                )
    return None


# --------------------------------------------------------------------------- IDX + checksums


@contextlib.contextmanager
def _opened(path: Path):
    """``path`` open for binary reading; a directory, or a file that cannot be opened or read, is a
    :class:`ChecksumError`."""
    try:
        with open(path, "rb") as fh:
            yield fh
    except ChecksumError:
        raise
    except IsADirectoryError:
        raise ChecksumError(f"{path} is a directory, not a data file; replace it with the IDX file.") from None
    except OSError as exc:
        raise ChecksumError(f"{path} cannot be read ({exc.strerror}); fix its permissions or replace it.") from None


def _map(path: Path):
    """Read-only zero-copy view of a file (memory-mapped; plain bytes for an empty file)."""
    with _opened(path) as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return b""


def _gunzip(chunks, limit: int):
    """(bytes, sha256 of them, note or None) of a gzip stream given as byte chunks, never producing
    more than ``limit`` bytes: a stream that would is cut off and reported in the note."""
    d = zlib.decompressobj(wbits=31)
    h = hashlib.sha256()
    out = bytearray()
    try:
        for chunk in chunks:
            while chunk:
                piece = d.decompress(chunk, limit + 1 - len(out))
                out += piece
                h.update(piece)
                if len(out) > limit:
                    return b"", h.hexdigest(), f"it decompresses to more than the expected {limit:,} bytes"
                chunk = d.unconsumed_tail
            if d.eof:
                break
    except zlib.error as exc:
        return b"", h.hexdigest(), f"the gzip stream is corrupted ({exc})"
    if not d.eof:
        return bytes(out), h.hexdigest(), "the gzip stream ends early (truncated download?)"
    return bytes(out), h.hexdigest(), None


def _file_chunks(path: Path, size=1 << 20):
    """The bytes of ``path`` in chunks of ``size``, for streamed hashing and decompression."""
    with _opened(path) as fh:
        while chunk := fh.read(size):
            yield chunk


def _decompress(path: Path, limit: int | None = None) -> tuple[bytes, str | None]:
    """Bytes of ``path`` (gunzipped if .gz, at most ``limit`` bytes) and a note if the stream was damaged."""
    if path.suffix != ".gz":
        return _map(path), None
    data, _, note = _gunzip(_file_chunks(path), limit if limit is not None else 1 << 31)
    return data, note


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ChecksumError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + math.prod(dims):
        raise ChecksumError(f"{path}: IDX header says shape {dims} but the file holds {len(data) - header} bytes.")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _checksum_error(path, dataset, part, expected, actual, nbytes, note, fix):
    detail = f" ({note})" if note else ""
    return ChecksumError(
        f"SHA-256 mismatch for {path}{detail}: it should be the decompressed {dataset} file {part}.\n"
        f"  expected sha256: {expected}\n"
        f"  actual sha256:   {actual} (of {nbytes:,} decompressed bytes)\n"
        f"  fix: {fix}"
    )


def read_idx(path, expected_sha256=None, *, dataset="", part="") -> np.ndarray:
    """Read one IDX file (raw or .gz); verify its decompressed SHA-256 if one is given."""
    path = Path(path)
    if not path.exists():
        raise MissingDataError(f"IDX file {path} does not exist.")
    data, note = _decompress(path, PART_BYTES.get(part))
    if expected_sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if note or actual != expected_sha256:
            raise _checksum_error(
                path,
                dataset or "IDX",
                part or path.name,
                expected_sha256,
                actual,
                len(data),
                note,
                "delete the file and load again to download a fresh copy, or replace it with a verified copy "
                "(compare with SHA256SUMS of the decompressed files).",
            )
    return _parse_idx(data, path)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    for chunk in _file_chunks(path):
        h.update(chunk)
    return h.hexdigest()


def _read_verified(path: Path, spec: DatasetSpec, part: str) -> np.ndarray:
    """Verified array for ``part`` at ``path``, through the decompressed cache for .gz sources
    (keyed on the source's own SHA-256, so a changed source is never served from the cache)."""
    expected = spec.sha256[part]
    if path.suffix != ".gz":
        return read_idx(path, expected, dataset=spec.name, part=part)
    source_sha = _file_sha256(path)
    cached = cache_dir() / "idx" / f"{expected}.idx"
    stamp_file = cached.with_suffix(".json")
    try:
        if cached.is_file() and json.loads(stamp_file.read_text()).get("source_sha256") == source_sha:
            data = _map(cached)
            if hashlib.sha256(data).hexdigest() == expected:
                return _parse_idx(data, cached)
    except (OSError, ValueError, AttributeError, ChecksumError):
        pass  # a missing or damaged cache entry is rebuilt from the source below
    data, actual, note = _gunzip(_file_chunks(path), PART_BYTES[part])
    if note or actual != expected:
        raise _checksum_error(
            path,
            spec.name,
            part,
            expected,
            actual,
            len(data),
            note,
            f"replace it with a verified copy, or delete it and unset ${ENV_DATA_DIR} to download "
            f"into the cache (the original {part}.gz from the public mirrors has this checksum).",
        )
    try:
        atomic_write_bytes(cached, data)
        atomic_write_bytes(
            stamp_file, json.dumps({"source": str(path.resolve()), "source_sha256": source_sha}).encode()
        )
    except OSError:
        pass  # a read-only cache only costs speed
    return _parse_idx(data, path)


def download(name, destination=None, *, quiet=False) -> Path:
    """Download the four IDX .gz files of ``name`` into ``destination`` (default: the cache).

    Each file is verified before it is moved into place. ``$ZOO_DATA_MIRROR`` (a base
    URL under which ``<subdir>/<file>.gz`` lives, ``file://`` allowed) replaces the
    public mirrors; ``ZOO_OFFLINE=1`` forbids network downloads.
    """
    spec = _spec(name)
    folder = Path(destination) if destination is not None else cache_dir() / "downloads"
    target = folder / spec.subdir
    override = os.environ.get(ENV_MIRROR)
    mirrors = (override.rstrip("/") + f"/{spec.subdir}/",) if override else spec.mirrors
    offline = _offline()
    timeout = _timeout()
    for part in _PARTS:
        dest = target / f"{part}.gz"
        if dest.is_file():
            continue
        errors = []
        for base in mirrors:
            url = base + f"{part}.gz"
            if offline and not url.startswith("file:"):
                errors.append(f"{url}: not fetched because {ENV_OFFLINE}=1")
                continue
            limit = PART_BYTES[part]
            try:
                if not url.startswith("file:") and (why := _connects(url, timeout)) is not None:
                    errors.append(f"{url}: {why}")
                    continue
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    if not quiet:  # only once a mirror answers: a dead network prints the error alone
                        print(f"Downloading {url}", file=sys.stderr, flush=True)
                    # gzip never grows data by more than a few bytes per 16 KiB block: cap the download too
                    payload = resp.read(limit + limit // 100 + 65_536)
                    if resp.read(1):
                        errors.append(f"{url}: larger than any gzip of the {limit:,}-byte file")
                        continue
            except (OSError, http.client.HTTPException) as exc:  # refused, timed out, cut off mid-file
                errors.append(f"{url}: {exc or type(exc).__name__}")
                continue
            data, actual, note = _gunzip([payload], limit)
            if note:
                errors.append(f"{url}: {note}")
                continue
            if actual != spec.sha256[part]:
                errors.append(f"{url}: sha256 {actual}, expected {spec.sha256[part]}")
                continue
            atomic_write_bytes(dest, payload)
            break
        else:
            raise MissingDataError(
                f"no local {spec.name} data and no download: " + "; ".join(errors) + ". "
                f"Fix: pass data_dir= (--data-dir) or set ${ENV_DATA_DIR} to a folder with the IDX files, "
                f"or set ${ENV_MIRROR} to a reachable mirror."
            )
    return folder


def load_arrays(name, data_dir=None) -> dict:
    """Raw verified uint8 arrays: x_train (N,28,28), y_train (N,), x_test, y_test."""
    spec = _spec(name)
    folder = resolve_data_dir(data_dir)
    if folder is None:
        folder = download(spec.name)
    paths = {}
    for part in _PARTS:
        found = _find_part(folder, spec, part)
        if found is None:
            raise MissingDataError(
                f"{spec.name} file {part}(.gz) not found in {folder / spec.subdir} or {folder}. "
                f"Fix: point data_dir / ${ENV_DATA_DIR} at the folder that holds {spec.subdir}/, "
                f"or unset it to download into {cache_dir()}."
            )
        paths[part] = found
    # hashlib and zlib release the GIL, so the four files are verified in parallel
    with ThreadPoolExecutor(max_workers=len(_PARTS)) as pool:
        arrays = dict(zip(_PARTS, pool.map(lambda part: _read_verified(paths[part], spec, part), _PARTS)))
    return {
        "x_train": arrays["train-images-idx3-ubyte"],
        "y_train": arrays["train-labels-idx1-ubyte"],
        "x_test": arrays["t10k-images-idx3-ubyte"],
        "y_test": arrays["t10k-labels-idx1-ubyte"],
    }
