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
