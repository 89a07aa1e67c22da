"""Data layer: MNIST and Fashion-MNIST from verified IDX files, and the lectures' toy sets.

Where the IDX files come from, in this order:
1. the ``data_dir`` argument;
2. the ``ZOO_DATA_DIR`` environment variable;
3. a download from the public mirrors into the cache (``ZOO_CACHE_DIR``, default
   ``~/.cache/keras-lecture-zoo``), unless ``ZOO_OFFLINE=1``.

Every load checks the SHA-256 of the *decompressed* IDX bytes against the pinned
hashes below; a bad, missing, unreadable or oversized file raises :class:`ChecksumError`
(a missing one :class:`MissingDataError`, which is also a ``FileNotFoundError``) and nothing
is returned. Decompression stops at each file's known size, so a hostile gzip cannot fill memory.
Decompressed, verified copies of ``.gz`` sources are kept in the cache, keyed on the SHA-256 of
the source ``.gz`` itself: a changed source is decompressed and verified again, whatever its size
and modification time; the cached copy is hashed again on every load.
"""

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

from zoo._fileio import atomic_write_bytes

__all__ = [
    "ChecksumError",
    "MissingDataError",
    "DATASETS",
    "Splits",
    "load",
    "load_tfds",
    "load_arrays",
    "load_datasets",
    "to_dataset",
    "resolve_data_dir",
    "cache_dir",
    "download",
    "read_idx",
    "truth_table",
    "xor",
    "circle",
    "target_function",
    "function_samples",
    "TARGET_FUNCTIONS",
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
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
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
                raise ChecksumError(f"{candidate} is not a regular file (a directory?); replace it with the "
                                    f"{spec.name} file {candidate.name}.")
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
                path, dataset or "IDX", part or path.name, expected_sha256, actual, len(data), note,
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
            path, spec.name, part, expected, actual, len(data), note,
            f"replace it with a verified copy, or delete it and unset ${ENV_DATA_DIR} to download "
            f"into the cache (the original {part}.gz from the public mirrors has this checksum).",
        )
    try:
        atomic_write_bytes(cached, data)
        atomic_write_bytes(stamp_file, json.dumps({"source": str(path.resolve()), "source_sha256": source_sha}).encode())
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


# --------------------------------------------------------------------------- splits and pipelines


@dataclasses.dataclass
class Splits:
    """Train / validation / test arrays of one data set (validation may be empty)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple = ()

    @property
    def train(self):
        return self.x_train, self.y_train

    @property
    def val(self):
        return self.x_val, self.y_val

    @property
    def test(self):
        return self.x_test, self.y_test

    def datasets(self, batch_size=128, *, shuffle_seed=0):
        """(train, val or None, test) ``tf.data`` pipelines; train is shuffled with ``shuffle_seed``."""
        train = to_dataset(self.x_train, self.y_train, batch_size, shuffle=True, seed=shuffle_seed)
        val = to_dataset(self.x_val, self.y_val, batch_size) if len(self.x_val) else None
        return train, val, to_dataset(self.x_test, self.y_test, batch_size)


def _validation_count(validation_size, n) -> int:
    if validation_size is None or validation_size == 0:
        return 0
    if isinstance(validation_size, bool):
        raise ValueError(f"`validation_size` must be a fraction in (0, 1) or a count, got {validation_size!r}.")
    if isinstance(validation_size, float) and 0 < validation_size < 1:
        return int(round(n * validation_size))
    if isinstance(validation_size, (int, np.integer)) and 0 < validation_size < n:
        return int(validation_size)
    raise ValueError(
        f"`validation_size` must be a fraction in (0, 1) or a count in [1, {n - 1}], got {validation_size!r}."
    )


def load(
    name,
    data_dir=None,
    *,
    validation_size=0,
    split_seed=None,
    normalize=True,
    flatten=False,
) -> Splits:
    """Load MNIST or Fashion-MNIST as verified numpy arrays with a deterministic validation split.

    ``validation_size``: a fraction in (0, 1) or a count taken from the 60,000 training
    images. With ``split_seed=None`` the validation set is the *last* images (what
    ``keras.Model.fit(validation_split=...)`` does); with an int seed it is a seeded
    random subset. Images are float32 in [0, 1] of shape (N, 28, 28, 1), or
    (N, 784) with ``flatten=True``; ``normalize=False`` keeps uint8. Labels are int32.
    """
    spec = _spec(name)
    raw = load_arrays(spec.name, data_dir)
    x_train, y_train = raw["x_train"], raw["y_train"].astype("int32")
    x_test, y_test = raw["x_test"], raw["y_test"].astype("int32")
    n_val = _validation_count(validation_size, len(x_train))
    if split_seed is None:
        order = np.arange(len(x_train))
    else:
        if not isinstance(split_seed, (int, np.integer)) or isinstance(split_seed, bool) or split_seed < 0:
            raise ValueError(f"`split_seed` must be None or a non-negative integer, got {split_seed!r}.")
        order = np.random.default_rng(int(split_seed)).permutation(len(x_train))
    train_idx, val_idx = order[: len(order) - n_val], order[len(order) - n_val :]
    if split_seed is not None:
        train_idx, val_idx = np.sort(train_idx), np.sort(val_idx)

    def prep(x):
        x = x.reshape(len(x), -1) if flatten else x[..., np.newaxis]
        return (x.astype("float32") / np.float32(255.0)) if normalize else x

    return Splits(
        prep(x_train[train_idx]), y_train[train_idx],
        prep(x_train[val_idx]), y_train[val_idx],
        prep(x_test), y_test,
        spec.class_names,
    )


TFDS_DATASETS = ("cifar10",)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_tfds(name, data_dir=None, *, validation_size=0, normalize=True, download=True) -> Splits:
    """Load a tensorflow-datasets image set (``"cifar10"``) as :class:`Splits` arrays.

    ``data_dir`` is tfds' own data directory (None: tfds' default, ``~/tensorflow_datasets``);
    ``download=False`` (or ``ZOO_OFFLINE=1``) fails instead of fetching, and any failure to obtain the
    data raises :class:`MissingDataError` in one line. The validation set is the last
    ``validation_size`` training images, as in :func:`load`. Images are float32 in [0, 1]
    (N, 32, 32, 3); labels int32. No checksum of ours: tfds verifies its own downloads.
    """
    from zoo._validation import check_choice

    check_choice(name, "name", TFDS_DATASETS)
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:  # pragma: no cover - tfds is a dependency
        raise ImportError("load_tfds needs tensorflow-datasets (pip install tensorflow-datasets).") from err

    offline = _offline()

    def arrays(split):
        try:
            ds = tfds.load(name, split=split, as_supervised=True, data_dir=data_dir, download=download and not offline)
        except AssertionError as exc:  # tfds' "could not find data in ..." when it may not download
            why = f"${ENV_OFFLINE}=1 forbids the download" if offline and download else "download=False"
            raise MissingDataError(
                f"{name} is not in tensorflow-datasets' folder {data_dir or '~/tensorflow_datasets'} and {why}. "
                f"Fix: prepare it there once with network access, or pass data_dir= to the folder that holds it."
            ) from exc
        except Exception as exc:  # the download itself failed (no network, a refused or cut connection)
            if isinstance(exc, (MissingDataError, ValueError, TypeError, ImportError)):  # ours, a bad argument, a broken install
                raise
            detail = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise MissingDataError(
                f"could not download {name} with tensorflow-datasets into {data_dir or '~/tensorflow_datasets'}: "
                f"{detail}. Fix: retry with network access, or pass data_dir= to a folder that holds it prepared."
            ) from exc
        xs, ys = [], []
        for x, y in tfds.as_numpy(ds.batch(4096)):
            xs.append(x)
            ys.append(y)
        return np.concatenate(xs), np.concatenate(ys).astype("int32")

    x_train, y_train = arrays("train")
    x_test, y_test = arrays("test")
    n_val = _validation_count(validation_size, len(x_train))
    cut = len(x_train) - n_val

    def prep(x):
        return (x.astype("float32") / np.float32(255.0)) if normalize else x

    return Splits(prep(x_train[:cut]), y_train[:cut], prep(x_train[cut:]), y_train[cut:], prep(x_test), y_test,
                  CIFAR10_CLASSES)


def to_dataset(x, y=None, batch_size=128, *, shuffle=False, seed=None, drop_remainder=False):
    """A batched, prefetched ``tf.data.Dataset`` over arrays; shuffled per epoch with ``seed``."""
    import tensorflow as tf

    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    ds = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(int(batch_size), drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def load_datasets(name, data_dir=None, *, batch_size=128, shuffle_seed=0, **load_kwargs):
    """(train, val or None, test) ``tf.data`` pipelines; see :func:`load` for the options."""
    return load(name, data_dir, **load_kwargs).datasets(batch_size, shuffle_seed=shuffle_seed)


# --------------------------------------------------------------------------- toy sets

_GATES = {
    "and": lambda x: np.all(x, axis=1),
    "or": lambda x: np.any(x, axis=1),
    "nand": lambda x: ~np.all(x, axis=1),
    "nor": lambda x: ~np.any(x, axis=1),
    "xor": lambda x: np.sum(x, axis=1) % 2 == 1,
    "not": lambda x: ~x[:, 0].astype(bool),
    "festival_a": lambda x: np.sum(x, axis=1) >= 2,
    "festival_b": lambda x: x[:, 2].astype(bool) & (x[:, 0].astype(bool) | x[:, 1].astype(bool)),
}
_GATE_ARITY = {"not": (1,), "festival_a": (3,), "festival_b": (3,)}


def truth_table(gate, n_inputs=None):
    """All 2**n binary inputs in lexicographic order (as the lectures list them) and the gate's 0/1 targets.

    ``n_inputs`` defaults to the gate's own arity (NOT: 1, festival: 3, others: 2).
    """
    if gate not in _GATES:
        raise ValueError(f"`gate` must be one of {sorted(_GATES)}, got {gate!r}.")
    allowed = _GATE_ARITY.get(gate, (2, 3))
    if n_inputs is None:
        n_inputs = allowed[0]
    if n_inputs not in allowed:
        raise ValueError(f"`n_inputs` for gate {gate!r} must be one of {list(allowed)}, got {n_inputs!r}.")
    x = np.array([[(i >> (n_inputs - 1 - j)) & 1 for j in range(n_inputs)] for i in range(2**n_inputs)], "float32")
    y = _GATES[gate](x.astype(bool)).astype("float32").reshape(-1, 1)
    return x, y


def xor():
    """L001's XOR data: X = [[0,0],[0,1],[1,0],[1,1]], y = [[0],[1],[1],[0]] (float32)."""
    return truth_table("xor", 2)


def circle(n=200, *, radius=1.0, extent=2.0, seed=0):
    """L003's circle data: ``n`` points uniform in [-extent, extent]², label 1 inside the circle."""
    n = int(n)
    if n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}.")
    if not radius > 0 or not extent > 0:
        raise ValueError(f"`radius` and `extent` must be positive, got radius={radius!r}, extent={extent!r}.")
    x = np.random.default_rng(seed).uniform(-extent, extent, size=(n, 2)).astype("float32")
    y = (np.sum(x**2, axis=1) < radius**2).astype("float32").reshape(-1, 1)
    return x, y


TARGET_FUNCTIONS = {
    "sine": lambda x: np.sin(2 * np.pi * x),
    "bump": lambda x: np.exp(-(((x - 0.5) / 0.1) ** 2)),
    "abs": lambda x: np.abs(2 * x - 1),
    "wiggle": lambda x: np.sin(3 * np.pi * x) + 0.5 * np.sin(9 * np.pi * x),
    "step_ramp": lambda x: np.clip(10 * (x - 0.45), 0, 1),
}


def target_function(name):
    """A bounded continuous function on [0, 1] for the universal-approximation experiment."""
    if name not in TARGET_FUNCTIONS:
        raise ValueError(f"`name` must be one of {sorted(TARGET_FUNCTIONS)}, got {name!r}.")
    return TARGET_FUNCTIONS[name]


def function_samples(name, n=256, *, seed=None, noise=0.0):
    """(x, y) of shape (n, 1) on [0, 1]: an even grid if ``seed`` is None, else seeded uniform."""
    f = target_function(name)
    if seed is None:
        x = np.linspace(0.0, 1.0, int(n))
        rng = np.random.default_rng(0)
    else:
        rng = np.random.default_rng(seed)
        x = np.sort(rng.uniform(0.0, 1.0, int(n)))
    y = f(x) + (noise * rng.standard_normal(x.shape) if noise else 0.0)
    return x.reshape(-1, 1).astype("float32"), np.asarray(y).reshape(-1, 1).astype("float32")

