"""The packages meet at public seams: none imports another's private module, the zoo (the base) imports
neither callbacks nor reproductions' training code, callbacks do not import reproductions, and dir(zoo) is
the zoo's API."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("zoo", "callbacks", "reproductions")
# which packages each may import: the zoo is the base, callbacks build on it, reproductions on both
ALLOWED = {"zoo": {"zoo"}, "callbacks": {"zoo", "callbacks"}, "reproductions": set(PACKAGES)}
# The one import against the layering: `python -m zoo` quiets TensorFlow's start-up lines with the module the
# reproductions command line uses, before the builders import TensorFlow. It must stay a module that imports
# nothing of reproductions itself (a light, standard-library-only module).
LIGHT_EXCEPTION = ("zoo/__init__.py", "reproductions.quiet")


def _imports(path):
    """Every module name ``path`` imports (absolute imports; the name and, for from-imports, name.member)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules():
    return [(package, path) for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize(
    "package,path", _modules(), ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v
)
def test_no_private_module_of_another_package_and_no_upward_import(package, path):
    for name in _imports(path):
        top, *rest = name.split(".")
        if top not in PACKAGES or top == package:
            continue
        if (path.relative_to(ROOT).as_posix(), name.rsplit(".", 1)[0] if rest[1:] else name) == LIGHT_EXCEPTION:
            continue
        assert top in ALLOWED[package], f"{path.relative_to(ROOT)} imports {name}: {package} may not import {top}"
        private = [part for part in rest if part.startswith("_") and not part.startswith("__")]
        assert not private, f"{path.relative_to(ROOT)} imports {name}, a private part of {top}"


def test_dir_of_zoo_is_its_api():
    import zoo

    assert dir(zoo) == sorted(zoo.__all__)
    assert not {"os", "sys", "importlib"} & set(vars(zoo))


def test_the_module_zoo_borrows_imports_only_the_standard_library():
    import sys

    found = {n.split(".")[0] for n in _imports(ROOT / "reproductions" / "quiet.py")}
    assert found <= set(sys.stdlib_module_names) | {"__future__"}, found
