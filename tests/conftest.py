"""Test configuration: local data only, a private cache, no network.

Backends: under ``KERAS_BACKEND=jax`` or ``torch`` (``tox -e jax``, ``tox -e torch``: environments without
TensorFlow) only the modules marked ``pytestmark = pytest.mark.every_backend`` are collected: the zoo, the
callbacks and the engine, which must work on every Keras 3 backend. Under TensorFlow every module runs.

Data: ``$ZOO_DATA_DIR``, or, when it is unset, ``../shared/datasets`` beside the checkout if that
folder exists (the layout CI uses). Tests that need data take the ``data_dir`` fixture: without data
they skip, except under ``CI=true``, where they fail.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["ZOO_OFFLINE"] = "1"  # the loader may never reach the network from a test

_REPO = Path(__file__).resolve().parents[1]
_FALLBACK = _REPO.parent / "shared" / "datasets"
if not os.environ.get("ZOO_DATA_DIR") and _FALLBACK.is_dir():
    os.environ["ZOO_DATA_DIR"] = str(_FALLBACK)


BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def pytest_ignore_collect(collection_path, config):
    """On JAX and PyTorch, leave out the test modules that are not marked for every backend."""
    if BACKEND == "tensorflow" or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return "pytest.mark.every_backend" not in collection_path.read_text() or None


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Each test session gets its own decompression/download cache."""
    os.environ["ZOO_CACHE_DIR"] = str(tmp_path_factory.mktemp("zoo-cache"))
    yield


@pytest.fixture(scope="session")
def data_dir():
    """The configured local IDX directory; missing data fails in CI and skips elsewhere."""
    value = os.environ.get("ZOO_DATA_DIR")
    if not value or not Path(value).is_dir():
        message = "no local data: set ZOO_DATA_DIR to a folder with mnist/ and fashion-mnist/ IDX files"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return Path(value)
