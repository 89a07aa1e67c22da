"""The zoo, the callbacks and the engine on every Keras 3 backend: no TensorFlow where it is not the backend,
targets with TensorFlow code of their own refused elsewhere, and the backend in every run record."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from keras_lecture_zoo.reproductions.__main__ import main

pytestmark = pytest.mark.every_backend

ROOT = Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()
# Where TensorFlow may be imported in the backend-neutral packages: inside a function that runs on the
# TensorFlow backend only (callbacks.autodiff, the probe's graph check, zoo.layers' fused BatchNorm kernel), or for
# tf.data pipelines.
TENSORFLOW_BRANCHES = {"callbacks/autodiff.py", "callbacks/_probe.py", "zoo/data/splits.py", "zoo/layers.py"}


def _tensorflow_imports(path):
    """(line, at module level?) of every import of tensorflow in a source file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        )
        if any(n == "tensorflow" or n.startswith("tensorflow.") for n in names):
            found.append((node.lineno, id(node) in top))
    return found


def test_the_zoo_and_the_callbacks_import_tensorflow_only_in_tensorflow_branches():
    for folder in ("zoo", "callbacks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            imports = _tensorflow_imports(path)
            assert not [line for line, top in imports if top], f"{rel} imports tensorflow at module level"
            if imports:
                assert rel in TENSORFLOW_BRANCHES, f"{rel} imports tensorflow (lines {[n for n, _ in imports]})"


def test_importing_the_package_loads_no_tensorflow_on_another_backend():
    if BACKEND == "tensorflow":
        pytest.skip("TensorFlow is the backend here: tox -e jax and tox -e torch run this test")
    code = (
        "import sys, zoo, callbacks, reproductions.engine, reproductions.suite, reproductions.targets as t; t.names(); "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, KERAS_BACKEND=BACKEND),
        check=True,
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_target_with_tensorflow_code_of_its_own_is_refused_on_another_backend(tmp_path, capsys):
    if BACKEND == "tensorflow":
        pytest.skip("TensorFlow is the backend here")
    assert main(["run", "mnist.softmax", "--quick", "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "need --backend tensorflow, not " + BACKEND in err and "tf.GradientTape" in err
    assert not (tmp_path / "out").exists()
    assert main(["run", "gates.and", "--strategy", "mirrored", "--output-dir", str(tmp_path / "out")]) == 2
    assert "tf.distribute strategy" in capsys.readouterr().err


def test_backend_flag_errors(tmp_path, capsys):
    assert main(["run", "gates.and", "--backend", "theano", "--output-dir", str(tmp_path)]) == 2
    assert "--backend must be one of tensorflow, jax, torch, got 'theano'" in capsys.readouterr().err
    other = next(b for b in ("tensorflow", "jax", "torch") if b != BACKEND)
    assert main(["run", "gates.and", "--backend", other, "--output-dir", str(tmp_path)]) == 2
    assert f"Keras already runs on {BACKEND}" in capsys.readouterr().err


def test_the_run_record_names_the_backend_and_its_version(tmp_path):
    assert main(["run", "gates.and", "--backend", BACKEND, "--output-dir", str(tmp_path), "--verbose", "0"]) == 0
    record = json.loads((tmp_path / "gates.and" / "run.json").read_text())
    assert record["backend"] == BACKEND
    assert record["versions"][BACKEND] and record["versions"]["keras"] == keras.__version__
    assert isinstance(record["hardware"]["gpus"], list)
