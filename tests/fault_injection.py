"""Fault-injection harness: tries the faults a results table must survive and prints, per category,
how many were tried and how many were survived (a survived fault either finishes with the numbers an
uninterrupted run gives, or is refused in one line with exit 2 and leaves nothing behind).

    python -m tests.fault_injection            # all categories (about 4 minutes on 2 cores)
    python -m tests.fault_injection kill data  # some of them

Categories: kill (SIGKILL at each write point and at timed moments, then --resume), resume (a resume
over different work), data (damaged, missing, hostile data files), flags (bad command lines),
concurrency (a second run, a report racing a run, a killed --jobs parent), nan (non-finite numbers
in the callbacks and in training), output (a README.md this tool did not write).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
DATA = Path(os.environ.get("ZOO_DATA_DIR") or REPO.parent / "shared" / "datasets")
ENV = dict(os.environ, PYTHONPATH=str(REPO), ZOO_DATA_DIR=str(DATA), ZOO_OFFLINE="1")
ENV.pop("ZOO_FAULT_KILL", None)

TINY = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tests._tiny_targets import tiny_target
    from reproductions.suite import configure_determinism, run_target
    configure_determinism()
    run_target(tiny_target(), [0, 1], quick={quick}, data_dir=None, output_dir=Path({out!r}), resume={resume},
               verbose=0, record={{"command": "fault injection"}})
""")


def _tiny(work, out, *, resume=False, quick=False, kill_at=None, kill_after=None):
    script = work / "tiny.py"
    script.write_text(TINY.format(out=str(out), resume=resume, quick=quick))
    env = dict(ENV, **({"ZOO_FAULT_KILL": kill_at} if kill_at else {}))
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.kill()
    out_text, err = proc.communicate(timeout=600)
    return proc.returncode, out_text, err


def _numbers(out):
    folder = out / "tiny.mlp"
    metrics = (folder / "metrics.csv").read_text().splitlines()
    strip = [",".join(c for i, c in enumerate(line.split(",")) if i != 2) for line in metrics]  # drop wall_time_s
    return strip, {p.name: p.read_bytes() for p in sorted((folder / "history").glob("*.csv"))}


def _main(argv, env=None):
    """Run the CLI in this process: (exit code, stderr lines)."""
    from reproductions.__main__ import main

    err = io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, [line for line in err.getvalue().splitlines() if line.strip()]


def _refused(argv, out, env=None):
    code, err = _main(argv, env)
    return code == 2 and len(err) == 1 and err[0].startswith("error: ") and not out.exists()


# --------------------------------------------------------------------------- categories


def kill(work):
    clean = work / "clean"
    assert _tiny(work, clean)[0] == 0
    reference = _numbers(clean)
    points = ["checkpoint-written:1", "checkpoint-written:3", "checkpoint-written:6",
              "before-replace-checkpoint.npz:2", "before-replace-done.json:1", "seed-done:1", "seed-done:2",
              "before-replace-summary.csv:1", "before-replace-run.json:1", "results-staged:1"]
    cases = [(p, None) for p in points] + [(None, t) for t in (3.0, 5.0, 7.0)]
    for point, after in cases:
        out = work / f"kill-{len(os.listdir(work))}"
        code, _, _ = _tiny(work, out, kill_at=point, kill_after=after)
        if code == 0:  # a timed kill that came after the end: nothing to survive
            yield f"kill {point or f'after {after} s'} (finished first)", _numbers(out) == reference
            continue
        code, _, err = _tiny(work, out, resume=True)
        yield f"kill at {point or f'{after} s'}", code == 0 and _numbers(out) == reference and not (out / ".work").exists()


def resume(work):
    import dataclasses

    from tests._tiny_targets import tiny_target
    from reproductions.errors import RunRefused
    from reproductions.suite import run_target

    def killed(quick=False):
        out = Path(tempfile.mkdtemp(dir=work))
        _tiny(work, out, quick=quick, kill_at="checkpoint-written:2")
        return out

    def refused(out, target, quick=False):
        try:
            run_target(target, [0, 1], quick=quick, data_dir=None, output_dir=out, resume=True, verbose=0, record={})
        except RunRefused:
            return (out / ".work" / "tiny.mlp" / "seed_0" / "checkpoint.npz").is_file()
        return False

    yield "quick work resumed as full", refused(killed(quick=True), tiny_target())
    yield "full work resumed as quick", refused(killed(), tiny_target(), quick=True)
    target = tiny_target()
    yield "batch size changed", refused(killed(), dataclasses.replace(
        target, recipe=dataclasses.replace(target.recipe, batch_size=32)))
    yield "epochs changed", refused(killed(), tiny_target(epochs=5))
    out = killed()
    fp = out / ".work" / "tiny.mlp" / "fingerprint.json"
    fp.write_text(json.dumps(dict(json.loads(fp.read_text()), code="0" * 64)))
    yield "code changed", refused(out, tiny_target())
    out = killed()
    ckpt = out / ".work" / "tiny.mlp" / "seed_0" / "checkpoint.npz"
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    yield "truncated checkpoint", refused(out, tiny_target())
    out = killed()
    (out / ".work" / "tiny.mlp" / "seed_0" / "state.json").write_text("{}")
    yield "old two-file checkpoint", refused(out, tiny_target())


def data(work):
    src = DATA / "fashion-mnist"
    part = "t10k-labels-idx1-ubyte"
    original = next(p for p in src.iterdir() if p.name.startswith(part))
    raw = gzip.decompress(original.read_bytes()) if original.name.endswith(".gz") else original.read_bytes()

    def folder_with(name, content):
        root = Path(tempfile.mkdtemp(dir=work))
        dst = root / "fashion-mnist"
        dst.mkdir()
        for f in src.iterdir():
            if not f.name.startswith(part):
                (dst / f.name).symlink_to(f)
        if content == "dir":
            (dst / name).mkdir()
        elif content is not None:
            (dst / name).write_bytes(content)
        return root

    flipped = bytearray(raw)
    flipped[50] ^= 1
    bomb = io.BytesIO()
    with gzip.GzipFile(fileobj=bomb, mode="wb") as fh:
        for _ in range(64):
            fh.write(bytes(1 << 20))
    cases = {
        "one flipped byte": (part, bytes(flipped)),
        "truncated": (part, raw[: len(raw) // 2]),
        "empty": (part, b""),
        "missing": (part, None),
        "directory in place of the file": (part, "dir"),
        "gzip bomb (64 MiB of zeros)": (part + ".gz", bomb.getvalue()),
        "not gzip behind .gz": (part + ".gz", b"plain bytes"),
        "bad magic number": (part, b"\x01\x02" + raw[2:]),
    }
    for label, (name, content) in cases.items():
        root = folder_with(name, content)
        out = root / "out"
        t0 = time.time()
        ok = _refused(["run", "fashion.mlp", "--quick", "--seeds", "1", "--data-dir", str(root), "--output-dir", str(out)],
                      out)
        yield f"{label} ({time.time() - t0:.1f} s)", ok
    root = Path(tempfile.mkdtemp(dir=work))
    yield "no data, offline", _refused(["run", "mnist.softmax", "--quick", "--data-dir", str(root),
                                        "--output-dir", str(root / "out")], root / "out", {"ZOO_OFFLINE": "1"})


def flags(work):
    out = work / "never"
    blocker = work / "a-file"
    blocker.write_text("x")
    runs = [["--seeds", ","], ["--seeds=4294967296,"], ["--seeds", "4294967296"], ["--seeds=-1"], ["--seeds", "0,0"],
            ["--seeds", "abc"], ["--seeds", "0"], ["--jobs", "0"], ["--jobs", "-3"], ["--strategy", "horovod"],
            ["--devices", "0"], ["--dataset", "cifar10"], ["--verbose", "7"], ["--bogus"]]
    for extra in runs:
        yield " ".join(extra), _refused(["run", "gates.and", *extra, "--output-dir", str(out)], out)
    yield "unknown target", _refused(["run", "gates.nand", "--output-dir", str(out)], out)
    yield "--output-dir is a file", _main(["run", "gates.and", "--output-dir", str(blocker)])[0] == 2
    yield "--output-dir under a file", _refused(["run", "gates.and", "--output-dir", str(blocker / "x")], blocker / "x")
    yield "--data-dir missing", _refused(["run", "gates.and", "--data-dir", str(work / "nowhere"), "--output-dir", str(out)], out)
    for label, config in [("TF_CONFIG not JSON", "{"), ("TF_CONFIG index out of range",
                          '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 5}}'),
                          ("TF_CONFIG bad port", '{"cluster": {"worker": ["localhost:0"]}, "task": {"type": "worker", "index": 0}}')]:
        yield label, _refused(["run", "gates.and", "--strategy", "multiworker", "--output-dir", str(out)], out,
                              {"TF_CONFIG": config})
    empty = work / "empty"
    empty.mkdir()
    yield "report --compare without summaries", _main(["report", "--output-dir", str(REPO / "results"),
                                                        "--compare", str(empty)])[0] == 2


def concurrency(work):
    out = work / "concurrent"
    argv = [sys.executable, "-m", "reproductions", "run", "mnist.shift", "--quick", "--seeds", "2", "--output-dir",
            str(out), "--verbose", "0"]
    first = subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6)
    second = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    yield "second run of a running target", second.returncode == 3 and "already being run" in second.stderr
    from reproductions import report

    crashed = False
    while first.poll() is None:
        try:
            if len(report._load_summaries(out)) not in (0, 4):  # mnist.shift writes 4 rows
                crashed = True
        except Exception:
            crashed = True
    yield "report racing a run", not crashed and first.returncode == 0
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        out = work / f"jobs-{sig}"
        parent = subprocess.Popen(argv[:-4] + ["--jobs", "2", "--output-dir", str(out), "--verbose", "0"], cwd=REPO,
                                  env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        pids = []
        for line in parent.stdout:
            if "started in process" in line:
                pids.append(int(line.split("started in process ")[1].split()[0]))
            if len(pids) == 2:
                break
        parent.send_signal(sig)
        parent.wait(timeout=60)
        time.sleep(3)
        orphans = [pid for pid in pids if Path(f"/proc/{pid}").exists() and
                   Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"]
        yield f"--jobs parent killed by {signal.Signals(sig).name}", not orphans


def nan(work):
    import warnings

    import keras
    import numpy as np

    from callbacks import DeadReLUDetector, GradientCheck, check_gradients

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
        m.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return m

    x, y = np.random.default_rng(0).normal(size=(16, 4)).astype("float32"), np.arange(16) % 3
    m = model()
    m.layers[0].kernel.assign(np.full((4, 8), np.nan, "float32"))
    yield "GradientCheck on NaN weights fails", not check_gradients(m, x, y).passed
    yield "GradientCheck on NaN inputs fails", not check_gradients(model(), np.full_like(x, np.nan), y).passed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model_nan = model()
            model_nan.layers[0].kernel.assign(np.full((4, 8), np.nan, "float32"))
            cb = GradientCheck((x, y), raise_on_failure=True, verbose=1)
            cb.set_model(model_nan)
            with contextlib.redirect_stdout(io.StringIO()):
                cb.on_train_begin()
        raised = None
    except Exception as exc:
        raised = type(exc).__name__
    yield "GradientCheck raise_on_failure on NaN raises GradientCheckError", raised == "GradientCheckError"
    yield "GradientCheck with a from_logits Loss object passes a healthy model", check_gradients(model(), x, y).passed
    m = model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector = DeadReLUDetector(np.full_like(x, np.nan))
        detector.set_model(m)
        values = detector.check(0)
    yield "DeadReLUDetector on NaN probes: not dead, reported", (
        values["dead_relu_nonfinite_fraction"] == 1.0 and not values["dead_relu_fraction"] == 1.0
        and any("non-finite" in str(w.message) for w in caught))
    m = model()
    history = m.fit(x, y, epochs=3, verbose=0, callbacks=[
        DeadReLUDetector(x, frequency=2, check_on_train_begin=False),
        GradientCheck((x, y), frequency=2, check_on_train_begin=False)])
    yield "epochs without a check carry the keys (NaN)", len({len(v) for v in history.history.values()}) == 1
    from tests._tiny_targets import diverging_build, tiny_target
    from reproductions.suite import run_target

    rows = run_target(tiny_target(build=diverging_build, seeds=3), [0, 1, 2], quick=False, data_dir=None,
                      output_dir=work / "diverge", resume=False, verbose=0, record={})
    yield "a diverging seed is recorded, not averaged", rows[0]["n"] == 2 and rows[0]["diverged"] == 1


def output(work):
    folder = work / "project"
    folder.mkdir()
    (folder / "README.md").write_text("# someone's project\n")
    code, err = _main(["run", "gates.and", "--seeds", "1", "--output-dir", str(folder)])
    yield "run into a folder with a foreign README.md", code == 2 and (folder / "README.md").read_text() == "# someone's project\n" \
        and sorted(p.name for p in folder.iterdir()) == ["README.md"]
    code, err = _main(["report", "--output-dir", str(folder)])
    yield "report into a folder with a foreign README.md", code == 2


CATEGORIES = {"kill": kill, "resume": resume, "data": data, "flags": flags, "concurrency": concurrency, "nan": nan,
              "output": output}


def main(argv):
    chosen = argv or list(CATEGORIES)
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown:
        print(f"error: unknown category {unknown[0]!r}; choose from {', '.join(CATEGORIES)}", file=sys.stderr)
        return 2
    from reproductions.suite import configure_determinism

    configure_determinism()
    totals = {}
    for name in chosen:
        work = Path(tempfile.mkdtemp(prefix=f"faults-{name}-"))
        tried = survived = 0
        t0 = time.time()
        try:
            for label, ok in CATEGORIES[name](work):
                tried += 1
                survived += bool(ok)
                print(f"  {name:12s} {'survived' if ok else 'FAILED  '}  {label}", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        totals[name] = (tried, survived, time.time() - t0)
    print("\ncategory      tried / survived   seconds")
    for name, (tried, survived, seconds) in totals.items():
        print(f"{name:12s}  {tried:5d} / {survived:<8d}  {seconds:7.0f}")
    tried, survived = sum(t[0] for t in totals.values()), sum(t[1] for t in totals.values())
    print(f"{'all':12s}  {tried:5d} / {survived:<8d}")
    return 0 if tried == survived else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
