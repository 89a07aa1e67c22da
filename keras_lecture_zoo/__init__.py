"""keras-lecture-zoo under the one top-level name it installs: ``keras_lecture_zoo.zoo`` (the lecture models),
``keras_lecture_zoo.callbacks`` and ``keras_lecture_zoo.reproductions`` (the suite), so that a user's own
``zoo.py`` or ``callbacks.py`` neither breaks ours nor is shadowed by it.

An installed copy holds the three packages in this folder. A checkout keeps them as its top-level folders
``zoo/``, ``callbacks/`` and ``reproductions/``, and this package reads them from there."""

from pathlib import Path as _Path

__version__ = "0.1.0"

_here = _Path(__file__).resolve().parent
if not (_here / "zoo").is_dir() and (_here.parent / "reproductions" / "spec.py").is_file():
    __path__.append(str(_here.parent))  # a checkout: the packages are the folders beside this one


class BackendMissing(ImportError):
    """Keras is installed without the backend ``KERAS_BACKEND`` names (a bare install has none)."""


def import_keras():
    """Keras, imported once its backend can load; where it cannot, one line naming the extras that install one
    (a bare ``pip install`` brings Keras without any backend)."""
    import os

    try:
        import keras
    except ModuleNotFoundError as exc:
        if exc.name not in ("tensorflow", "jax", "torch"):
            raise
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
        raise BackendMissing(
            f"keras-lecture-zoo needs a Keras backend, and {backend} (KERAS_BACKEND) is not installed: install the "
            "package with one, pip install 'keras-lecture-zoo[tensorflow]', '[jax]' or '[torch]', and set "
            "KERAS_BACKEND=jax or torch for those"
        ) from None
    return keras
