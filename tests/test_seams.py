"""The packages meet at public seams: none imports another's private module, the zoo (the base) imports
neither callbacks nor reproductions' training code, callbacks do not import reproductions, and dir(zoo) is
the zoo's API."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("zoo", "callbacks", "reproductions")
NAMESPACE = "keras_lecture_zoo"  # the one top-level name they are installed and imported by
# which packages each may import: the zoo is the base, callbacks build on it, reproductions on both
ALLOWED = {"zoo": {"zoo"}, "callbacks": {"zoo", "callbacks"}, "reproductions": set(PACKAGES)}


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


def _package_names(path):
    """The imports of ``path`` inside this project, by package ("zoo.registry" for keras_lecture_zoo.zoo.registry)."""
    return {n.removeprefix(NAMESPACE + ".") for n in _imports(path) if n.startswith(NAMESPACE + ".")}


def _modules():
    return [(package, path) for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize(
    "package,path", _modules(), ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else v
)
def test_no_private_module_of_another_package_and_no_upward_import(package, path):
    for name in _package_names(path):
        top, *rest = name.split(".")
        if top not in PACKAGES or top == package:
            continue
        assert top in ALLOWED[package], f"{path.relative_to(ROOT)} imports {name}: {package} may not import {top}"
        private = [part for part in rest if part.startswith("_") and not part.startswith("__")]
        assert not private, f"{path.relative_to(ROOT)} imports {name}, a private part of {top}"


def test_dir_of_zoo_is_its_api():
    from keras_lecture_zoo import zoo

    assert dir(zoo) == sorted(zoo.__all__)
    assert not {"os", "sys", "importlib"} & set(vars(zoo))


def test_the_quieting_module_imports_only_the_standard_library():
    """`python -m zoo` and the reproductions command line quiet TensorFlow before it loads: zoo.quiet must load
    without it."""
    import sys

    found = {n.split(".")[0] for n in _imports(ROOT / "keras_lecture_zoo" / "quiet.py")}
    assert found <= set(sys.stdlib_module_names) | {"__future__"}, found


SOURCES = ("zoo", "callbacks", "reproductions", "tests", "benchmarks", "tools")


@pytest.mark.parametrize("folder", SOURCES)
def test_nothing_imports_a_package_by_its_folder_name(folder):
    """Every import goes through keras_lecture_zoo: a module imported both as `zoo.x` and as
    `keras_lecture_zoo.zoo.x` would be two modules (two registries), and an installed copy has only the latter."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        bare = {n for n in _imports(path) if n.split(".")[0] in PACKAGES}
        found += [f"{path.relative_to(ROOT)}: {n}" for n in sorted(bare)]
    assert not found, found[:10]
