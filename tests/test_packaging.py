"""The installed package is one top-level name, keras_lecture_zoo: a user's own zoo.py or callbacks.py beside their
script neither breaks ours nor is shadowed by it, and the wheel holds every package folder of the checkout."""

import configparser
import importlib.util
import os
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("zoo", "callbacks", "reproductions")


def _listed_packages():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return {line.strip() for line in cfg["options"]["packages"].splitlines() if line.strip()}


def test_setup_cfg_lists_every_package_folder_under_the_one_name():
    folders = {
        "keras_lecture_zoo." + ".".join(path.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for path in (ROOT / folder).rglob("__init__.py")
    }
    assert _listed_packages() == folders | {"keras_lecture_zoo"}


@pytest.mark.slow
def test_a_script_beside_its_own_zoo_and_callbacks_modules_uses_the_installed_package(tmp_path):
    """A fresh venv with the wheel installed (its dependencies borrowed from this environment, no network)."""
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)]
    subprocess.run([*build, str(ROOT)], check=True, cwd=tmp_path, timeout=300)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", *map(str, wheels.glob("*.whl"))]
    subprocess.run(install, check=True, timeout=300)
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    assert {p.name for p in site.iterdir()} & set(FOLDERS) == set(), (
        "the wheel installs a bare zoo, callbacks or reproductions"
    )
    user = tmp_path / "project"
    user.mkdir()
    (user / "zoo.py").write_text("MINE = 'zoo'\n")
    (user / "callbacks.py").write_text("MINE = 'callbacks'\n")
    (user / "script.py").write_text(
        textwrap.dedent("""
        import callbacks, zoo as my_zoo
        from keras_lecture_zoo import zoo
        from keras_lecture_zoo.callbacks import EarlyStopping
        assert callbacks.MINE == "callbacks" and my_zoo.MINE == "zoo"
        assert EarlyStopping.__module__ == "keras_lecture_zoo.callbacks.early_stopping"
        print(zoo.build("xor_mlp").count_params(), zoo.__file__)
        """)
    )
    borrowed = sysconfig.get_paths()["purelib"]  # keras and the backend, from the environment running the tests
    env = dict(os.environ, PYTHONPATH=borrowed, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([str(python), "script.py"], cwd=user, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    params, location = out.stdout.split()[-2:]
    assert params == "9" and Path(location).is_relative_to(site)


def test_without_its_keras_backend_the_package_says_which_extras_install_one(tmp_path):
    missing = [name for name in ("tensorflow", "jax", "torch") if importlib.util.find_spec(name) is None]
    if not missing:
        pytest.skip("every Keras backend is installed here")
    env = dict(os.environ, KERAS_BACKEND=missing[0])
    code = "from keras_lecture_zoo import zoo"
    imported = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    last = imported.stderr.strip().splitlines()[-1]
    assert imported.returncode == 1 and last.startswith("keras_lecture_zoo.BackendMissing: keras-lecture-zoo needs")
    assert "[tensorflow]" in last and "[jax]" in last and "[torch]" in last and missing[0] in last
    argv = [sys.executable, "-m", "keras_lecture_zoo.reproductions", "run", "gates.and", "--output-dir", "out"]
    cli = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 2 and cli.stderr.strip().splitlines() == ["error: " + last.split(": ", 1)[1]]
    assert not (tmp_path / "out").exists()
    flag = subprocess.run(  # --backend is set before anything loads Keras, so it gets the same line
        [*argv[:5], "--backend", missing[0], "--dry-run"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert flag.returncode == 2 and flag.stderr.strip().splitlines() == cli.stderr.strip().splitlines()
