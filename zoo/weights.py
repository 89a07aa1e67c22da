"""Trained weights for the zoo's models, installed with the package (keras.applications' ``weights=``).

A weight set is one ``.weights.h5`` file under ``zoo/trained/`` and one entry of its ``manifest.json``: the
model and the builder arguments it was trained with, the data set it is named after, the reproduction
target, seed and commit that produced it, its test metrics as measured in that run, and the file's size and
SHA-256 (checked before every load). ``python -m reproductions export-weights <target>`` writes both.

>>> import zoo
>>> [w.name for w in zoo.list_weights("fashion_*")]  # doctest: +SKIP
['fashion_mlp/fashion_mnist', 'fashion_simplenet/fashion_mnist']
>>> model = zoo.build("fashion_simplenet", weights="fashion_mnist")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import fnmatch
import inspect
import json
import warnings
from pathlib import Path

from keras_lecture_zoo.zoo.fileio import sha256_of

__all__ = ["WeightSet", "list_weights"]

TRAINED_DIR = Path(__file__).resolve().parent / "trained"
MANIFEST = "manifest.json"
# builder arguments that do not change the trained architecture (a model's name, its initial weights' seed)
_FREE_ARGUMENTS = ("name", "seed")


@dataclasses.dataclass(frozen=True)
class WeightSet:
    """One shipped weight set, as its manifest entry describes it."""

    model: str
    dataset: str
    file: str
    sha256: str
    bytes: int
    builder_args: dict
    structure: list  # [layer class, weight shapes] per layer with weights, then the input and output shapes
    metrics: dict  # test metrics measured in the run that trained it
    evaluation: dict  # how those metrics were measured (split, batch size), so they can be measured again
    source: dict  # target, network, seed, how the seed was chosen, commit, versions, hardware, recipe

    @property
    def name(self) -> str:
        return f"{self.model}/{self.dataset}"

    @property
    def path(self) -> Path:
        return TRAINED_DIR / self.file

    def describe(self) -> str:
        """One line for tables: the headline metric, the size, the recipe in brief."""
        acc = self.metrics.get("test_accuracy")
        head = (
            f"{100 * acc:.2f}% test accuracy"
            if acc is not None
            else ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
        )
        if self.dataset == "xor":  # the four points are the whole data set: say whether this net solves it
            right = round(4 * self.metrics["accuracy"])
            best = str(self.source.get("chosen", "")).startswith("the best of")  # then no seed of its run solves it
            head = (
                "solves XOR (4 of 4 points), "
                if right == 4
                else f"does not solve XOR ({right} of 4 points{'; no seed of its run does' if best else ''}), "
            ) + head
        where = f"{self.source.get('target')}, seed {self.source.get('seed')}"
        return f"{self.dataset}: {head}, {self.bytes / 1e6:.2f} MB ({where})"


def read_manifest(folder=None) -> list[dict]:
    """The entries of ``folder``'s (default: the shipped) weights manifest; a manifest that cannot be read is
    a ValueError naming the file."""
    path = Path(folder or TRAINED_DIR) / MANIFEST
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["weights"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise TypeError("'weights' is not a list of entries")
    except (OSError, UnicodeError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"the weights manifest {path} cannot be read ({type(exc).__name__}: {exc}); reinstall the package"
        ) from None
    return entries


_FIELDS = tuple(f.name for f in dataclasses.fields(WeightSet))


def _manifest(folder=None):
    """The weight sets a manifest lists; keys this version does not know (a newer manifest's) are ignored."""
    path = Path(folder or TRAINED_DIR) / MANIFEST
    if not path.is_file():
        return []
    sets = []
    for entry in read_manifest(folder):
        missing = [f for f in _FIELDS if f not in entry]
        if missing:
            raise ValueError(
                f"the weights manifest {path} has an entry without {', '.join(missing)} "
                f"({entry.get('model')}/{entry.get('dataset')}); reinstall the package"
            )
        sets.append(WeightSet(**{f: entry[f] for f in _FIELDS}))
    return sets


def list_weights(pattern: str = "*") -> list[WeightSet]:
    """The shipped weight sets whose ``model/dataset`` name matches a shell-style wildcard, sorted by name."""
    if not isinstance(pattern, str):
        raise TypeError(f"`pattern` must be a string such as 'fashion_*', got {pattern!r}.")
    return sorted(
        (w for w in _manifest() if fnmatch.fnmatchcase(w.name, pattern) or fnmatch.fnmatchcase(w.model, pattern)),
        key=lambda w: w.name,
    )


def structure_of(model) -> list:
    """What a weight file must fit: each layer with weights as [class name, [weight shapes]], then the input
    and output shapes (without the batch axis)."""
    layers = [
        [type(layer).__name__, [list(w.shape) for w in layer.weights]]
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if layer.weights and not layer._layers
    ]
    shapes = [list(s[1:]) for s in (model.input_shape, model.output_shape)]
    return [*layers, ["input", shapes[0]], ["output", shapes[1]]]


def _jsonable(value):
    return json.loads(json.dumps(value, default=list))


def _resolve(model_name, weights):
    """The weight set named ``weights`` for ``model_name``, or None when ``weights`` is a path."""
    sets = [w for w in _manifest() if w.model == model_name]
    if isinstance(weights, str) and not weights.endswith(".h5") and "/" not in weights and "\\" not in weights:
        match = [w for w in sets if w.dataset == weights]
        if not match:
            have = ", ".join(repr(w.dataset) for w in sets) or "none shipped"
            raise ValueError(
                f"`weights` for {model_name!r} must be None, one of its weight sets ({have}) or a path to "
                f"a .weights.h5 file; got {weights!r}. zoo.list_weights() lists every set."
            )
        return match[0]
    if not isinstance(weights, (str, Path)):
        raise ValueError(f"`weights` must be None, a weight set name or a path to a .weights.h5 file, got {weights!r}.")
    return None


def check_arguments(entry: WeightSet, builder, bound: dict):
    """keras.applications' rule: a named set requires the builder arguments it was trained with. ``bound`` holds
    the arguments the caller passed; each must equal the trained one (or, where the training left it to its
    default, that default), except arguments that do not change the architecture."""
    params = inspect.signature(builder).parameters
    for key, value in bound.items():
        if key in _FREE_ARGUMENTS or key not in params:
            continue
        trained = entry.builder_args.get(key, params[key].default)
        if trained is None and key not in entry.builder_args:
            continue  # left to the builder's default: the structure check after building decides
        if _jsonable(value) != _jsonable(trained):
            raise ValueError(
                f"weights={entry.dataset!r} for {entry.model!r} were trained with {key}={trained!r}; got "
                f"{key}={value!r}. Leave {key} at {trained!r}, or pass weights=None for untrained weights."
            )


def load(model, model_name: str, weights, bound: dict, builder):
    """Load ``weights`` (a set's name or a path) into the freshly built ``model`` of ``model_name``."""
    entry = _resolve(model_name, weights)
    if entry is None:
        path = Path(weights)
        if not str(path).endswith(".weights.h5") or not path.is_file():
            raise ValueError(
                f"`weights` must be None, a weight set name of {model_name!r} or an existing .weights.h5 "
                f"file, got {str(weights)!r}."
            )
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.load_weights(path)
        except Exception as exc:  # Keras names the mismatch in its own words; keep them
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ValueError(f"weights file {str(path)!r} does not fit {model_name!r} as built: {first}") from None
        skipped = [
            str(w.message) for w in caught if "Skipping" in str(w.message) or "freshly-initialized" in str(w.message)
        ]
        if skipped:  # Keras loads what matches and only warns about the rest: a partial load is a mismatch
            raise ValueError(
                f"weights file {str(path)!r} does not fit {model_name!r} as built: {skipped[0].splitlines()[0]}"
            )
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return model
    check_arguments(entry, builder, bound)
    got = structure_of(model)
    if _jsonable(got) != _jsonable(entry.structure):
        args = ", ".join(f"{k}={v!r}" for k, v in entry.builder_args.items()) or "its default arguments"
        raise ValueError(
            f"weights={entry.dataset!r} for {model_name!r} fit the model built with {args} (input "
            f"{tuple(entry.structure[-2][1])}, output {tuple(entry.structure[-1][1])}); these arguments "
            f"build another one (input {tuple(got[-2][1])}, output {tuple(got[-1][1])})."
        )
    if not entry.path.is_file():
        raise ValueError(
            f"weight set {entry.name!r} is in the manifest but its file {entry.path} is missing; reinstall the package."
        )
    digest = sha256_of(entry.path)
    if digest != entry.sha256:
        raise ValueError(
            f"weight set {entry.name!r}: {entry.path} does not match the SHA-256 in its manifest "
            f"({digest[:12]}… instead of {entry.sha256[:12]}…); the file was changed or damaged. "
            "Reinstall the package."
        )
    model.load_weights(entry.path)
    return model
