"""Test configuration: local data only, a private cache, no network.

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
