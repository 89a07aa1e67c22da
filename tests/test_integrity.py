"""Nothing lost, nothing forged: a results folder's numbers are bound to its measurements, every tool that
rewrites one is as crash-safe as a run, and every OS error reaching the command line is one line."""

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest

from keras_lecture_zoo.reproductions import targets
from keras_lecture_zoo.reproductions.__main__ import main
from keras_lecture_zoo.reproductions.fileio import aside, target_lock
from keras_lecture_zoo.reproductions.integrity import MEASUREMENTS, RUN_SHA256, Unverified, verify_folder

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(REPO))


@pytest.fixture(scope="module")
def gates_run(tmp_path_factory):
    """A quick gates.and run (seconds): the folder each case copies and damages."""
    out = tmp_path_factory.mktemp("base") / "results"
    assert main(["run", "gates.and", "--quick", "--output-dir", str(out), "--verbose", "0"]) == 0
    return out


@pytest.fixture
def run_copy(gates_run, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(gates_run, out)
    return out


def _error_line(capsys):
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _edit(path, column, value):
    table = pd.read_csv(path, dtype=str)
    table.loc[0, column] = value
    table.to_csv(path, index=False)


# --------------------------------------------------------------------------- the binding


def test_a_run_records_its_measurements_and_each_row_names_the_record(gates_run):
    folder = gates_run / "gates.and"
    record = json.loads((folder / "run.json").read_text())
    assert set(record[MEASUREMENTS]) == {"metrics.csv"}
    summary = pd.read_csv(folder / "summary.csv", dtype={RUN_SHA256: str})
    import hashlib

    assert set(summary[RUN_SHA256]) == {hashlib.sha256((folder / "run.json").read_bytes()).hexdigest()}
    assert verify_folder(folder, targets.get("gates.and")) == record


FORGERIES = {
    "a summary mean": lambda f: _edit(f / "summary.csv", "mean", "0.8833"),
    "a summary verdict": lambda f: _edit(f / "summary.csv", "verdict", "not reproduced"),
    "a metrics.csv number": lambda f: (f / "metrics.csv").write_text(
        (f / "metrics.csv").read_text().replace(",-2.0", ",-1.0", 1)
    ),
    "the run record": lambda f: (f / "run.json").write_text(
        json.dumps(dict(json.loads((f / "run.json").read_text()), wall_time_seconds=0.5))
    ),
}


@pytest.mark.parametrize("forged", list(FORGERIES))
@pytest.mark.parametrize("command", ["report", "--compare", "--rejudge"])
def test_a_forged_number_is_refused_in_one_line_naming_the_file(forged, command, run_copy, gates_run, capsys):
    folder = run_copy / "gates.and"
    FORGERIES[forged](folder)
    before = _files(run_copy)
    extra = {"report": [], "--compare": ["--compare", str(gates_run)], "--rejudge": ["--rejudge"]}[command]
    assert main(["report", "--output-dir", str(run_copy), *extra]) == 2
    line = _error_line(capsys)
    assert str(folder) in line and any(n in line for n in ("summary.csv", "metrics.csv", "run.json")), line
    assert _files(run_copy) == before  # refused, not repaired


def test_the_clean_published_copy_compares_and_rejudges(run_copy, gates_run, capsys):
    assert main(["report", "--output-dir", str(run_copy), "--compare", str(gates_run)]) == 0
    assert main(["report", "--output-dir", str(run_copy), "--rejudge"]) == 0
    assert verify_folder(run_copy / "gates.and", targets.get("gates.and"))


def test_publish_refuses_uncommitted_results(monkeypatch, capsys):
    """The clean-commit rule covers results/: a hand-edited published file stops --publish before anything."""
    from keras_lecture_zoo.reproductions.cli import published as cli

    monkeypatch.setattr(cli, "git_commit", lambda: "0" * 40)
    monkeypatch.setattr(cli, "uncommitted_results", lambda: ["results/gates.and/summary.csv"])
    assert main(["report", "--publish"]) == 2
    line = _error_line(capsys)
    assert "only over committed results" in line and "results/gates.and/summary.csv" in line
    assert main(["run", "gates.and", "--publish"]) == 2
    assert "only over committed results" in _error_line(capsys)


# --------------------------------------------------------------------------- rewriting safely


def test_a_rejudge_after_a_crash_between_the_two_renames_keeps_the_run(run_copy):
    """What a kill between the fallback swap's renames leaves (the stored run aside, a staged one never moved in):
    the re-judge reads the run from where recover() puts it back, and nothing is lost."""
    folder = run_copy / "gates.and"
    measured = {k: v for k, v in _files(folder).items() if not k.startswith("summary")}
    os.rename(folder, aside(folder))
    (run_copy / ".gates.and.staging").mkdir()
    assert main(["report", "--output-dir", str(run_copy), "--rejudge"]) == 0
    assert {k: v for k, v in _files(folder).items() if not k.startswith("summary")} == measured
    assert not aside(folder).exists() and not (run_copy / ".gates.and.staging").exists()


def test_a_rejudge_waits_for_no_one_and_is_refused_while_the_target_is_held(run_copy, capsys):
    with target_lock(run_copy / ".work", "gates.and"):
        assert main(["report", "--output-dir", str(run_copy), "--rejudge"]) == 3
        assert "already being run" in _error_line(capsys)


def test_a_full_disk_during_a_rejudge_is_one_line_and_leaves_the_folder(run_copy, capsys):
    before = _files(run_copy)
    with mock.patch("os.fsync", side_effect=OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))):
        assert main(["report", "--output-dir", str(run_copy), "--rejudge"]) == 2
    assert "No space left on device" in _error_line(capsys) and _files(run_copy) == before


# --------------------------------------------------------------------------- one line for the OS


@pytest.mark.parametrize(
    "code,words",
    [
        (errno.ENOSPC, "free some space"),
        (errno.EROFS, "writable --output-dir"),
        (errno.EACCES, "folder you can write to"),
    ],
)
def test_an_os_error_at_report_is_one_line_with_what_to_do(run_copy, capsys, code, words):
    with mock.patch("os.replace", side_effect=OSError(code, os.strerror(code), str(run_copy / "README.md"))):
        assert main(["report", "--output-dir", str(run_copy)]) == 2
    line = _error_line(capsys)
    assert os.strerror(code) in line and words in line and "README.md" in line


def test_an_h5py_style_error_without_errno_is_read_from_its_message():
    from keras_lecture_zoo.reproductions.console import os_error_line

    line = os_error_line(
        OSError(
            "Unable to synchronously create file (file write failed: errno = 28, error message "
            "= 'No space left on device')"
        )
    )
    assert line.startswith("No space left on device") and "free some space" in line


def test_an_over_long_output_path_is_one_line(tmp_path, capsys):
    assert main(["run", "gates.and", "--quick", "--output-dir", str(tmp_path / ("x" * 300))]) == 2
    _error_line(capsys)


def test_ctrl_c_is_one_line_naming_resume(monkeypatch, capsys):
    from keras_lecture_zoo.reproductions.cli import main as cli_main

    def interrupted(args, argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "_dispatch", interrupted)
    assert main(["run", "gates.and"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0]


def test_a_misspelt_keras_backend_variable_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflw")
    assert main(["list"]) == 2
    assert "KERAS_BACKEND must be one of tensorflow, jax, torch, got 'tensorflw'" in _error_line(capsys)


DAMAGES = {
    "a non-numeric mean": lambda f: _edit(f / "summary.csv", "mean", "abc"),
    "an empty summary.csv": lambda f: (f / "summary.csv").write_text(""),
    "a run.json that is a list": lambda f: (f / "run.json").write_text("[]"),
    "a missing metrics.csv": lambda f: (f / "metrics.csv").unlink(),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_result_files_are_one_line(damage, run_copy, gates_run, capsys):
    DAMAGES[damage](run_copy / "gates.and")
    for extra in ([], ["--compare", str(gates_run)], ["--rejudge"]):
        assert main(["report", "--output-dir", str(run_copy), *extra]) == 2
        assert "gates.and" in _error_line(capsys)


@pytest.mark.slow
def test_a_closed_stdout_never_stops_a_run(tmp_path):
    """`run ... | head -1`: the run goes on without its progress lines and writes its results."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reproductions", "run", "gates.and", "--quick", "--output-dir", str(out)],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.readline()
    proc.stdout.close()
    assert proc.wait(timeout=300) == 0
    assert "Traceback" not in proc.stderr.read().decode() and (out / "gates.and" / "summary.csv").is_file()


@pytest.mark.slow
def test_an_ascii_locale_writes_a_non_ascii_output_folder(tmp_path):
    out = tmp_path / "résultats-ü"
    env = dict(ENV, LANG="C", LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    argv = [
        sys.executable,
        "-m",
        "reproductions",
        "run",
        "gates.and",
        "--quick",
        "--output-dir",
        str(out),
        "--verbose",
        "0",
    ]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "gates.and" / "summary.md").is_file()
    with pytest.raises(Unverified, match="records no SHA-256"):
        record = out / "gates.and" / "run.json"
        record.write_text(json.dumps({k: v for k, v in json.loads(record.read_text()).items() if k != MEASUREMENTS}))
        verify_folder(out / "gates.and")
