"""All reproduction targets: every module in this package defines ``TARGET`` (or ``TARGETS``), and its docstring
opens with the name of the target it defines ("gates.and: ..."), so names are known without importing any target
(and so without loading Keras): a misspelt name is refused at once."""

from __future__ import annotations

import ast
import difflib
import importlib
import pkgutil
from pathlib import Path

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
            declared = (module.__doc__ or "").split(":", 1)[0].strip()
            for target in getattr(module, "TARGETS", None) or [module.TARGET]:
                if target.name != declared:
                    raise ValueError(
                        f"{info.name}.py defines target {target.name!r}: its docstring must open with that name "
                        f'("""{target.name}: what it reproduces ..."""), so names are known without importing'
                    )
                if target.name in found:
                    raise ValueError(f"duplicate target name {target.name!r} in {info.name}")
                target.module = module.__name__
                found[target.name] = target
        _TARGETS = dict(sorted(found.items()))
    return _TARGETS


def names() -> list[str]:
    """All target names, sorted."""
    return list(_load())


def declared_names() -> list[str]:
    """All target names, sorted, read from the modules' docstrings without importing them (tests check that
    they are :func:`names`)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            source = (Path(__path__[0]) / f"{info.name}.py").read_text(encoding="utf-8")  # in any locale
            found.append((ast.get_docstring(ast.parse(source)) or "").split(":", 1)[0].strip())
    return sorted(found)


def get(name: str) -> Target:
    return _load()[name]


def resolve(requested) -> tuple[list[str], list[str]]:
    """Expand names and family prefixes ("gates" → gates.*); return (targets, unknown names). Imports no target."""
    all_names = declared_names()
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
    all_names = declared_names()
    families = sorted({n.split(".")[0] for n in all_names})
    return difflib.get_close_matches(name, all_names + families, n=4, cutoff=0.5)
