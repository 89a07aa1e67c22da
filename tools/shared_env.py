"""Create or refresh the one environment every tox env of a Keras backend runs in, then run a command inside it.

tox 4 recreates an env whose directory another env used, so the tox envs here are thin
launchers and this script (stdlib only) manages ``.tox/shared``: a venv with the package
installed in editable mode plus its TensorFlow and test extras. ``--backend jax`` or ``--backend torch``
manages ``.tox/shared-jax`` / ``.tox/shared-torch`` instead: the package with that backend and no
TensorFlow at all, and ``KERAS_BACKEND`` set for the command. It reinstalls only when setup.cfg,
pyproject.toml or the Python version change; a file lock per environment serialises concurrent runs of it,
so one environment can be installed while another is in use (CI prepares JAX's and PyTorch's meanwhile).

    python tools/shared_env.py WORK_DIR -- python -m pytest -q
    python tools/shared_env.py WORK_DIR --backend jax -- python -m pytest -q tests/test_dead_relu.py
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")
# Installed before the package in the torch env: the CPU build that this project's machines keep on disk
# (a bare `torch` requirement would fetch the newest release, a CUDA build of several GB).
TORCH_FIRST = "torch==2.13.0"


def _fingerprint() -> str:
    h = hashlib.sha256(sys.version.encode())
    for name in ("setup.cfg", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()


def ensure(env_dir: Path, backend: str = "tensorflow") -> Path:
    """Return the shared env's python, creating or updating the env (package + ``backend``'s extra) if needed."""
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    stamp = env_dir / ".zoo-installed"
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(env_dir.parent / f".{env_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = _fingerprint()
        if python.exists() and stamp.is_file() and stamp.read_text() == wanted:
            return python
        if not python.exists():
            print(f"shared env: creating {env_dir}", flush=True)
            venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        print("shared env: installing the package and its dependencies (once)", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        if backend == "torch":
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", TORCH_FIRST], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[{backend},test]"], check=True)
        stamp.write_text(wanted)
    return python


def main(argv):
    if len(argv) < 2 or "--" not in argv:
        sys.exit("usage: shared_env.py WORK_DIR [--backend tensorflow|jax|torch] -- COMMAND [ARGS...]")
    split = argv.index("--")
    options = argv[2:split]
    backend = "tensorflow"
    if options:
        if len(options) != 2 or options[0] != "--backend" or options[1] not in BACKENDS:
            sys.exit(f"shared_env.py: --backend must be one of {', '.join(BACKENDS)}, got {' '.join(options)!r}")
        backend = options[1]
    env_dir = Path(argv[1]).resolve() / ("shared" if backend == "tensorflow" else f"shared-{backend}")
    command = argv[split + 1 :]
    python = ensure(env_dir, backend)
    if command and command[0] == "python":
        command[0] = str(python)
    env = dict(os.environ, VIRTUAL_ENV=str(env_dir), PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("MPLBACKEND", "Agg")
    if backend != "tensorflow":
        env["KERAS_BACKEND"] = backend
    if not command:
        return 0
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
