"""Name → builder registry for every lecture model (timm-style).

Builders register themselves with ``@register_model(lecture=..., family=...)``;
users call ``build("fashion_simplenet")`` or ``list_models("*mlp*")``. Registering gives every builder a
``weights=`` argument (None, a shipped weight set's name such as ``"fashion_mnist"``, or a path to a
``.weights.h5`` file; see :mod:`zoo.weights`).
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import functools
import inspect
from typing import Callable

import keras

__all__ = ["ModelEntry", "register_model", "build", "list_models", "get_entry"]


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one builder."""

    name: str
    builder: Callable[..., keras.Model]
    lecture: str
    family: str
    summary: str
    expected_params: int | None = None


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    fn: Callable[..., keras.Model] | None = None,
    *,
    name: str | None = None,
    lecture: str = "",
    family: str = "",
    expected_params: int | None = None,
):
    """Register a builder under ``name`` (default: the function's name).

    ``expected_params`` is the parameter count of the default build that the
    lectures or the reference sources state; tests assert it.
    """

    def decorator(builder):
        key = name or builder.__name__
        if key in _REGISTRY:
            raise ValueError(f"A model named {key!r} is already registered.")
        doc = (builder.__doc__ or "").strip().splitlines()
        builder = _with_weights(key, builder)
        _REGISTRY[key] = ModelEntry(
            name=key,
            builder=builder,
            lecture=lecture,
            family=family or builder.__module__.rsplit(".", 1)[-1],
            summary=doc[0] if doc else "",
            expected_params=expected_params,
        )
        return builder

    if fn is not None:
        return decorator(fn)
    return decorator


def _with_weights(model_name, builder):
    """``builder`` with a keyword-only ``weights=None``: the model is built as before, then the named weight set
    (after its builder arguments and SHA-256 are checked) or the ``.weights.h5`` file is loaded into it."""
    signature = inspect.signature(builder)

    @functools.wraps(builder)
    def build_with_weights(*args, weights=None, **kwargs):
        model = builder(*args, **kwargs)
        if weights is not None:
            from keras_lecture_zoo.zoo import weights as trained

            bound = signature.bind(*args, **kwargs).arguments
            trained.load(model, model_name, weights, bound, builder)
        return model

    params = list(signature.parameters.values())
    extra = inspect.Parameter("weights", inspect.Parameter.KEYWORD_ONLY, default=None)
    at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params))
    build_with_weights.__signature__ = signature.replace(parameters=[*params[:at], extra, *params[at:]])
    return build_with_weights


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of the registered models matching a shell-style wildcard."""
    if not isinstance(pattern, str):
        raise TypeError(f"`pattern` must be a string such as '*resnet*', got {pattern!r}.")
    return sorted(n for n in _REGISTRY if fnmatch.fnmatchcase(n, pattern))


def get_entry(name: str) -> ModelEntry:
    """The registry entry for ``name``; an unknown name raises with close matches."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), _REGISTRY, n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model name {name!r}.{hint} Call zoo.list_models() to see all {len(_REGISTRY)} registered models."
        ) from None


def build(model_name: str, /, **kwargs) -> keras.Model:
    """Build the registered model ``model_name``; ``kwargs`` (including ``name``) go to its builder."""
    return get_entry(model_name).builder(**kwargs)
