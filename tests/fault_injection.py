"""Fault-injection harness: tries the faults a results table must survive and prints, per category,
how many were tried and how many were survived (a survived fault either finishes with the numbers an
uninterrupted run gives, or is refused in one line with exit 2 and leaves nothing behind).

    python -m tests.fault_injection            # all categories (about 4 minutes on 2 cores)
    python -m tests.fault_injection kill data  # some of them

Categories: kill (SIGKILL at each write point and at timed moments, then --resume), resume (a resume
over different work), data (damaged, missing, hostile data files), flags (bad command lines),
concurrency (a second run, a report racing a run, a killed --jobs parent), nan (non-finite numbers
in the callbacks and in training), output (a README.md this tool did not write), rewrite (kills inside a
re-judge on both swap paths and inside a weight export, concurrent re-judges), tamper (an edited results
file read by report, --compare and --rejudge), streams (a closed stdout, Ctrl-C, an ASCII-only locale),
oserror (full disk, read-only and over-long paths, damaged result files, a misspelt backend).

A case that fails prints its reason.
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
    from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
    configure_determinism()
    profile = "quick" if {quick} else "full"
    settings = RunSettings(output_dir=Path({out!r}), profile=profile, seeds=[0, 1], resume={resume}, verbose=0)
    run_target(tiny_target(), settings, record={{"command": "fault injection"}})
""")


def _tiny(work, out, *, resume=False, quick=False, kill_at=None, kill_after=None, env=None):
    script = work / "tiny.py"
    script.write_text(TINY.format(out=str(out), resume=resume, quick=quick))
    env = dict(ENV, **(env or {}), **({"ZOO_FAULT_KILL": kill_at} if kill_at else {}))
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
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
    from keras_lecture_zoo.reproductions.__main__ import main

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
    points = [
        "checkpoint-written:1",
        "checkpoint-written:3",
        "checkpoint-written:6",
        "before-replace-checkpoint.npz:2",
        "before-replace-done.json:1",
        "seed-done:1",
        "seed-done:2",
        "before-replace-summary.csv:1",
        "before-replace-run.json:1",
        "results-staged:1",
    ]
    cases = [(p, None) for p in points] + [(None, t) for t in (3.0, 5.0, 7.0)]
    for point, after in cases:
        out = work / f"kill-{len(os.listdir(work))}"
        code, _, _ = _tiny(work, out, kill_at=point, kill_after=after)
        if code == 0:  # a timed kill that came after the end: nothing to survive
            yield f"kill {point or f'after {after} s'} (finished first)", _numbers(out) == reference
            continue
        code, _, err = _tiny(work, out, resume=True)
        same = code == 0 and _numbers(out) == reference
        leftover = (out / ".work").exists()
        why = (
            f"resume exited {code}: {_last_line(err)}"
            if code
            else "numbers differ from the clean run's"
            if not same
            else "the work folder was left behind"
        )
        yield f"kill at {point or f'{after} s'}", same and not leftover, why
    yield from _rerun_kills(work, clean, reference)


def _rerun_kills(work, clean, reference):
    """A rerun over earlier results killed inside the swap, on both swap paths; --resume finishes it."""
    from keras_lecture_zoo.reproductions.fileio import NO_EXCHANGE_ENV

    for path, env in (("exchange", {}), ("two renames", {NO_EXCHANGE_ENV: "1"})):
        for point in ["results-staged:1"] + (["between-swap-renames:1"] if env else []):
            out = work / f"rerun-{len(os.listdir(work))}"
            shutil.copytree(clean, out)
            killed, _, _ = _tiny(work, out, kill_at=point, env=env)
            code, _, err = _tiny(work, out, resume=True, env=env)
            same = code == 0 and _numbers(out) == reference
            why = (
                f"not killed (exit {killed})"
                if killed != -signal.SIGKILL
                else f"resume exited {code}: {_last_line(err)}"
                if code
                else "numbers differ from the clean run's"
            )
            yield (
                f"rerun over results killed at {point} ({path}), then --resume",
                killed == -signal.SIGKILL and same,
                why,
            )


def _last_line(text):
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def resume(work):
    import dataclasses

    from keras_lecture_zoo.reproductions.errors import RunRefused
    from keras_lecture_zoo.reproductions.suite import RunSettings, run_target
    from tests._tiny_targets import tiny_target

    def killed(quick=False):
        out = Path(tempfile.mkdtemp(dir=work))
        _tiny(work, out, quick=quick, kill_at="checkpoint-written:2")
        return out

    def refused(out, target, quick=False):
        try:
            run_target(
                target,
                RunSettings(output_dir=out, profile="quick" if quick else "full", seeds=[0, 1], resume=True, verbose=0),
                record={},
            )
        except RunRefused:
            return (out / ".work" / "tiny.mlp" / "seed_0" / "checkpoint.npz").is_file()
        return False

    yield "quick work resumed as full", refused(killed(quick=True), tiny_target())
    yield "full work resumed as quick", refused(killed(), tiny_target(), quick=True)
    target = tiny_target()
    yield (
        "batch size changed",
        refused(killed(), dataclasses.replace(target, recipe=dataclasses.replace(target.recipe, batch_size=32))),
    )
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
        ok = _refused(
            ["run", "fashion.mlp", "--quick", "--seeds", "1", "--data-dir", str(root), "--output-dir", str(out)], out
        )
        yield f"{label} ({time.time() - t0:.1f} s)", ok
    root = Path(tempfile.mkdtemp(dir=work))
    yield (
        "no data, offline",
        _refused(
            ["run", "mnist.softmax", "--quick", "--data-dir", str(root), "--output-dir", str(root / "out")],
            root / "out",
            {"ZOO_OFFLINE": "1"},
        ),
    )


def flags(work):
    out = work / "never"
    blocker = work / "a-file"
    blocker.write_text("x")
    runs = [
        ["--seeds", ","],
        ["--seeds=4294967296,"],
        ["--seeds", "4294967296"],
        ["--seeds=-1"],
        ["--seeds", "0,0"],
        ["--seeds", "abc"],
        ["--seeds", "0"],
        ["--jobs", "0"],
        ["--jobs", "-3"],
        ["--strategy", "horovod"],
        ["--devices", "0"],
        ["--dataset", "cifar10"],
        ["--verbose", "7"],
        ["--bogus"],
    ]
    for extra in runs:
        yield " ".join(extra), _refused(["run", "gates.and", *extra, "--output-dir", str(out)], out)
    yield "unknown target", _refused(["run", "gates.nand", "--output-dir", str(out)], out)
    yield "--output-dir is a file", _main(["run", "gates.and", "--output-dir", str(blocker)])[0] == 2
    yield "--output-dir under a file", _refused(["run", "gates.and", "--output-dir", str(blocker / "x")], blocker / "x")
    yield (
        "--data-dir missing",
        _refused(["run", "gates.and", "--data-dir", str(work / "nowhere"), "--output-dir", str(out)], out),
    )
    for label, config in [
        ("TF_CONFIG not JSON", "{"),
        (
            "TF_CONFIG index out of range",
            '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 5}}',
        ),
        ("TF_CONFIG bad port", '{"cluster": {"worker": ["localhost:0"]}, "task": {"type": "worker", "index": 0}}'),
    ]:
        yield (
            label,
            _refused(
                ["run", "gates.and", "--strategy", "multiworker", "--output-dir", str(out)], out, {"TF_CONFIG": config}
            ),
        )
    empty = work / "empty"
    empty.mkdir()
    yield (
        "report --compare without summaries",
        _main(["report", "--output-dir", str(REPO / "results"), "--compare", str(empty)])[0] == 2,
    )


def concurrency(work):
    out = work / "concurrent"
    argv = [
        sys.executable,
        "-m",
        "reproductions",
        "run",
        "mnist.shift",
        "--quick",
        "--seeds",
        "2",
        "--output-dir",
        str(out),
        "--verbose",
        "0",
    ]
    first = subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(6)
    second = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    yield "second run of a running target", second.returncode == 3 and "already being run" in second.stderr
    from keras_lecture_zoo.reproductions import results_folder

    crashed = False
    while first.poll() is None:
        try:
            if len(results_folder.load_summaries(out)) not in (0, 4):  # mnist.shift writes 4 rows
                crashed = True
        except Exception:
            crashed = True
    yield "report racing a run", not crashed and first.returncode == 0
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
        out = work / f"jobs-{sig}"
        parent = subprocess.Popen(
            argv[:-4] + ["--jobs", "2", "--output-dir", str(out), "--verbose", "0"],
            cwd=REPO,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        pids = []
        for line in parent.stdout:
            if "started in process" in line:
                pids.append(int(line.split("started in process ")[1].split()[0]))
            if len(pids) == 2:
                break
        parent.send_signal(sig)
        parent.wait(timeout=60)
        time.sleep(3)
        orphans = [
            pid
            for pid in pids
            if Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        ]
        yield f"--jobs parent killed by {signal.Signals(sig).name}", not orphans


def nan(work):
    import warnings

    import keras
    import numpy as np

    from keras_lecture_zoo.callbacks import DeadReLUDetector, GradientCheck, check_gradients

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
    yield (
        "DeadReLUDetector on NaN probes: not dead, reported",
        (
            values["dead_relu_nonfinite_fraction"] == 1.0
            and not values["dead_relu_fraction"] == 1.0
            and any("non-finite" in str(w.message) for w in caught)
        ),
    )
    m = model()
    history = m.fit(
        x,
        y,
        epochs=3,
        verbose=0,
        callbacks=[
            DeadReLUDetector(x, frequency=2, check_on_train_begin=False),
            GradientCheck((x, y), frequency=2, check_on_train_begin=False),
        ],
    )
    yield "epochs without a check carry the keys (NaN)", len({len(v) for v in history.history.values()}) == 1
    from keras_lecture_zoo.reproductions.suite import RunSettings, run_target
    from tests._tiny_targets import diverging_build, tiny_target

    rows = run_target(
        tiny_target(build=diverging_build, seeds=3),
        RunSettings(output_dir=work / "diverge", profile="full", seeds=[0, 1, 2], verbose=0),
        record={},
    )
    yield "a diverging seed is recorded, not averaged", rows[0]["n"] == 2 and rows[0]["diverged"] == 1


def output(work):
    folder = work / "project"
    folder.mkdir()
    (folder / "README.md").write_text("# someone's project\n")
    code, err = _main(["run", "gates.and", "--seeds", "1", "--output-dir", str(folder)])
    yield (
        "run into a folder with a foreign README.md",
        code == 2
        and (folder / "README.md").read_text() == "# someone's project\n"
        and sorted(p.name for p in folder.iterdir()) == ["README.md"],
    )
    code, err = _main(["report", "--output-dir", str(folder)])
    yield "report into a folder with a foreign README.md", code == 2


# --------------------------------------------------------------------------- rewriting, tampering, the OS


def _cli(argv, env=None, **kwargs):
    """Run the CLI in a subprocess (so a fault may kill it): the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "reproductions", *argv],
        cwd=REPO,
        env=dict(ENV, **(env or {})),
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def _gates_run(work, name="base"):
    """A quick gates.and run (seconds) in ``work/name``: the folder every rewrite and tamper case starts from."""
    out = work / name
    code, err = _main(["run", "gates.and", "--quick", "--output-dir", str(out), "--verbose", "0"])
    assert code == 0, err
    return out


def _measured(folder):
    """The bytes of what a run measured (everything but the summaries and figures a re-judge remakes)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("summary") and p.suffix != ".png"
    }


def _intact(out, measured):
    """(ok, why): the gates.and folder under ``out`` verifies and kept its measured bytes."""
    from keras_lecture_zoo.reproductions import targets
    from keras_lecture_zoo.reproductions.integrity import Unverified, verify_folder

    folder = out / "gates.and"
    try:
        verify_folder(folder, targets.get("gates.and"))
    except Unverified as exc:
        return False, str(exc)
    if _measured(folder) != measured:
        return False, "the measured files changed"
    return True, ""


def rewrite(work):
    from keras_lecture_zoo.reproductions.fileio import FAULT_ENV, NO_EXCHANGE_ENV

    base = _gates_run(work)
    measured = _measured(base / "gates.and")
    for path, env in (("exchange", {}), ("two renames", {NO_EXCHANGE_ENV: "1"})):
        points = ["before-replace-summary.csv:1", "before-replace-summary.md:1", "results-staged:1"]
        points += ["between-swap-renames:1"] if env else []
        for point in points:
            out = work / f"rejudge-{len(os.listdir(work))}"
            shutil.copytree(base, out)
            killed = _cli(["report", "--output-dir", str(out), "--rejudge"], dict(env, **{FAULT_ENV: point}))
            again = _cli(["report", "--output-dir", str(out), "--rejudge"], env)
            ok, why = _intact(out, measured)
            why = (
                f"the re-judge was not killed (exit {killed.returncode})"
                if killed.returncode != -signal.SIGKILL
                else f"the next re-judge exited {again.returncode}: {_last_line(again.stderr)}"
                if again.returncode
                else why
            )
            yield (
                f"re-judge killed at {point} ({path}), then re-judged",
                killed.returncode == -signal.SIGKILL and again.returncode == 0 and ok,
                why,
            )
    out = work / "concurrent-rejudge"
    shutil.copytree(base, out)
    argv = [sys.executable, "-m", "reproductions", "report", "--output-dir", str(out), "--rejudge"]
    procs = [
        subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    codes = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    ok, why = _intact(out, measured)
    bad = [f"exit {c}: {_last_line(e)}" for c, e in codes if c not in (0, 3)]
    yield (
        "three re-judges of one folder at once",
        ok and not bad and any(c == 0 for c, _ in codes),
        "; ".join(bad) or why,
    )
    yield from _export_kills(work)


EXPORT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tests.test_weights import _fake_run, _target
    from keras_lecture_zoo.reproductions.export import export_weights
    run, into, choose = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    if not run.exists():
        _fake_run(run, [0.88, 0.90])
    export_weights(_target(choose=choose), run, into)
""")


def _loadable(into):
    """(ok, why): the weights folder's set loads as zoo.build loads a shipped one, and no file is left unnamed."""
    import json as _json

    from keras_lecture_zoo.zoo import weights as trained

    saved = trained.TRAINED_DIR
    trained.TRAINED_DIR = into
    try:
        from keras_lecture_zoo import zoo

        zoo.build("fashion_mlp", weights="fashion_mnist")
    except Exception as exc:
        return False, f"{type(exc).__name__}: {_last_line(str(exc))}"
    finally:
        trained.TRAINED_DIR = saved
    named = {e["file"] for e in _json.loads((into / "manifest.json").read_text())["weights"]}
    return True, f"files: {sorted(p.name for p in into.iterdir() if p.name not in named)}"


def _export_kills(work):
    from keras_lecture_zoo.reproductions.fileio import FAULT_ENV

    script = work / "export.py"
    script.write_text(EXPORT)
    for point in ("export-files-in:1", "before-replace-manifest.json:1", "export-manifest-in:1"):
        run, into = work / f"export-run-{len(os.listdir(work))}", work / f"trained-{len(os.listdir(work))}"
        first = subprocess.run(
            [sys.executable, str(script), str(run), str(into), "median"],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=600,
        )
        killed = subprocess.run(
            [sys.executable, str(script), str(run), str(into), "best"],
            env=dict(ENV, **{FAULT_ENV: point}),
            capture_output=True,
            text=True,
            timeout=600,
        )
        ok, why = _loadable(into)
        again = subprocess.run(
            [sys.executable, str(script), str(run), str(into), "best"],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=600,
        )
        clean, files = _loadable(into)
        tidy = sorted(p.name for p in into.iterdir()) == sorted(
            [json.loads((into / "manifest.json").read_text())["weights"][0]["file"], "manifest.json"]
        )
        why = (
            f"setup exited {first.returncode}: {_last_line(first.stderr)}"
            if first.returncode
            else f"not killed (exit {killed.returncode})"
            if killed.returncode != -signal.SIGKILL
            else why
            if not ok
            else f"the export after it: exit {again.returncode}, {files}"
        )
        yield (
            f"export killed at {point}, then exported again",
            first.returncode == 0
            and killed.returncode == -signal.SIGKILL
            and ok
            and again.returncode == 0
            and clean
            and tidy,
            why,
        )


def _edit_csv(path, column, change):
    import pandas as pd

    table = pd.read_csv(path, dtype=str)
    table.loc[0, column] = str(change(table.loc[0, column]))
    table.to_csv(path, index=False)


def tamper(work):
    base = _gates_run(work)
    edits = {
        "summary.csv mean": lambda f: _edit_csv(f / "summary.csv", "mean", lambda v: float(v) + 0.1),
        "summary.csv verdict": lambda f: _edit_csv(f / "summary.csv", "verdict", lambda v: "not reproduced"),
        "metrics.csv number": lambda f: _edit_csv(
            f / "metrics.csv",
            f.joinpath("metrics.csv").read_text().splitlines()[0].split(",")[-1],
            lambda v: float(v) + 1,
        ),
        "run.json wall time": lambda f: (f / "run.json").write_text(
            json.dumps(dict(json.loads((f / "run.json").read_text()), wall_time_seconds=1.0))
        ),
        "a measured file added": lambda f: (f / "details.json").write_text("{}"),
    }
    for label, edit in edits.items():
        for verb, extra in (("report", []), ("--compare", ["--compare", str(base)]), ("--rejudge", ["--rejudge"])):
            out = work / f"tamper-{len(os.listdir(work))}"
            shutil.copytree(base, out)
            edit(out / "gates.and")
            before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
            code, err = _main(["report", "--output-dir", str(out), *extra])
            after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
            one = len(err) == 1 and err[0].startswith("error: ") and "gates.and" in err[0]
            yield f"{label}, then {verb}", code == 2 and one and before == after, f"exit {code}: {err}"


def streams(work):
    argv = [sys.executable, "-m", "reproductions", "run", "gates.and", "--quick", "--output-dir"]
    out = work / "closed-stdout"
    proc = subprocess.Popen([*argv, str(out)], cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # `| head -1`
    code, err = proc.wait(timeout=600), proc.stderr.read().decode()
    yield (
        "run with stdout closed after one line",
        code == 0 and (out / "gates.and" / "summary.csv").is_file() and "Traceback" not in err,
        f"exit {code}: {_last_line(err)}",
    )
    for label, args in (("list", ["list"]), ("report", ["report", "--output-dir", str(out)])):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reproductions", *args],
            cwd=REPO,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        proc.stdout.close()
        code, err = proc.wait(timeout=600), proc.stderr.read().decode()
        yield f"{label} with stdout closed", code == 0 and "Traceback" not in err, f"exit {code}: {_last_line(err)}"
    out = work / "interrupted"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reproductions",
            "run",
            "mnist.shift",
            "--quick",
            "--seeds",
            "2",
            "--output-dir",
            str(out),
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:
        if "epoch" in line:
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=600)
    lines = [line for line in err.splitlines() if line.strip()]
    yield (
        "Ctrl-C during a run: one line naming --resume",
        proc.returncode == 130 and len(lines) == 1 and "--resume" in lines[0],
        f"exit {proc.returncode}: {lines[-3:]}",
    )
    resumed = _cli(
        ["run", "mnist.shift", "--quick", "--seeds", "2", "--output-dir", str(out), "--resume", "--verbose", "0"]
    )
    yield "... and --resume finishes it", resumed.returncode == 0, _last_line(resumed.stderr)
    out = work / "résultats-ü"
    ascii_env = {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0", "PYTHONIOENCODING": ""}
    done = _cli(["run", "gates.and", "--quick", "--output-dir", str(out), "--verbose", "0"], ascii_env)
    yield (
        "an ASCII-only locale and a non-ASCII output folder",
        done.returncode == 0 and (out / "gates.and" / "summary.md").is_file(),
        f"exit {done.returncode}: {_last_line(done.stderr)}",
    )


def oserror(work):
    import errno
    from unittest import mock

    base = _gates_run(work)

    def raising(code):
        def fail(*args, **kwargs):
            raise OSError(code, os.strerror(code), str(args[0]) if args else None)

        return fail

    for label, target, code, argv in (
        ("full disk at report", "os.fsync", errno.ENOSPC, ["report"]),
        ("full disk at a re-judge", "os.fsync", errno.ENOSPC, ["report", "--rejudge"]),
        ("read-only folder at report", "os.replace", errno.EROFS, ["report"]),
        ("full disk during a run", "os.fsync", errno.ENOSPC, ["run", "gates.and", "--quick", "--verbose", "0"]),
    ):
        out = work / f"os-{len(os.listdir(work))}"
        shutil.copytree(base, out)
        before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        with mock.patch(target, raising(code)):
            got, err = _main([*argv, "--output-dir", str(out)])
        after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
        word = os.strerror(code)
        yield label, got == 2 and len(err) == 1 and word in err[0] and before == after, f"exit {got}: {err}"
    long = work / ("x" * 300)
    got, err = _main(["run", "gates.and", "--quick", "--output-dir", str(long)])
    yield "an over-long output path", got == 2 and len(err) == 1, f"exit {got}: {err}"
    damages = {
        "a non-numeric mean": lambda f: _edit_csv(f / "summary.csv", "mean", lambda v: "abc"),
        "an empty summary.csv": lambda f: (f / "summary.csv").write_text(""),
        "a run.json that is a list": lambda f: (f / "run.json").write_text("[]"),
        "a missing metrics.csv": lambda f: (f / "metrics.csv").unlink(),
    }
    for label, damage in damages.items():
        for verb, extra in (("report", []), ("--compare", ["--compare", str(base)]), ("--rejudge", ["--rejudge"])):
            out = work / f"damaged-{len(os.listdir(work))}"
            shutil.copytree(base, out)
            damage(out / "gates.and")
            got, err = _main(["report", "--output-dir", str(out), *extra])
            yield f"{label}, then {verb}", got == 2 and len(err) == 1 and "gates.and" in err[0], f"exit {got}: {err}"
    typo = _cli(["list"], {"KERAS_BACKEND": "tensorflw"})
    lines = [line for line in typo.stderr.splitlines() if line.strip()]
    yield "KERAS_BACKEND misspelt", typo.returncode == 2 and len(lines) == 1, f"exit {typo.returncode}: {lines[-3:]}"
    from keras_lecture_zoo.reproductions.errors import RunRefused
    from keras_lecture_zoo.reproductions.export import export_weights
    from tests.test_weights import _fake_run, _target

    run, into = work / "export-run", work / "trained"
    _fake_run(run, [0.88])
    into.mkdir()
    with mock.patch("shutil.disk_usage", lambda path: type("Usage", (), {"free": 1_000_000})()):
        try:
            export_weights(_target(), run, into)
            refused = ""
        except RunRefused as exc:
            refused = str(exc)
    yield (
        "export onto a nearly full disk",
        "free some space first" in refused and not any(into.iterdir()),
        refused or "not refused",
    )


CATEGORIES = {
    "kill": kill,
    "resume": resume,
    "data": data,
    "flags": flags,
    "concurrency": concurrency,
    "nan": nan,
    "output": output,
    "rewrite": rewrite,
    "tamper": tamper,
    "streams": streams,
    "oserror": oserror,
}


def main(argv):
    chosen = argv or list(CATEGORIES)
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown:
        print(f"error: unknown category {unknown[0]!r}; choose from {', '.join(CATEGORIES)}", file=sys.stderr)
        return 2
    from keras_lecture_zoo.reproductions.suite import configure_determinism

    configure_determinism()
    totals = {}
    for name in chosen:
        work = Path(tempfile.mkdtemp(prefix=f"faults-{name}-"))
        tried = survived = 0
        t0 = time.time()
        try:
            for label, ok, *why in CATEGORIES[name](work):
                tried += 1
                survived += bool(ok)
                detail = (why[0] if why else "") or "its condition was false (the case records no detail)"
                reason = f"\n  {'':12s}           reason: {detail}" if not ok else ""
                print(f"  {name:12s} {'survived' if ok else 'FAILED  '}  {label}{reason}", flush=True)
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
