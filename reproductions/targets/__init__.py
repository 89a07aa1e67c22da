"""All reproduction targets: every module in this package defines ``TARGET`` (or ``TARGETS``)."""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from keras_lecture_zoo.reproductions.spec import Target

_TARGETS: dict[str, Target] | None = None


def _load() -> dict[str, Target]:
    global _TARGETS
    if _TARGETS is None:
        found = {}
        for info in pkgutil.iter_modules(__path__):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for target in getattr(module, "TARGETS", None) or [module.TARGET]:
                if target.name in found:
                    raise ValueError(f"duplicate target name {target.name!r} in {info.name}")
                target.module = module.__name__
                found[target.name] = target
        _TARGETS = dict(sorted(found.items()))
    return _TARGETS


def names() -> list[str]:
    """All target names, sorted."""
    return list(_load())


def get(name: str) -> Target:
    return _load()[name]


def resolve(requested) -> tuple[list[str], list[str]]:
    """Expand names and family prefixes ("gates" → gates.*); return (targets, unknown names)."""
    all_names = names()
    chosen, unknown = [], []
    for name in requested:
        if name in ("all", "*"):
            matches = all_names
        elif name in all_names:
            matches = [name]
        else:
            matches = [n for n in all_names if n.startswith(name + ".")]
        if not matches:
            unknown.append(name)
        for m in matches:
            if m not in chosen:
                chosen.append(m)
    return chosen, unknown


def close_matches(name: str) -> list[str]:
    families = sorted({n.split(".")[0] for n in names()})
    return difflib.get_close_matches(name, names() + families, n=4, cutoff=0.5)
