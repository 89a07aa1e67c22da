"""The command line as a newcomer meets it: runs go to their own folder, the published set changes only
with --publish (full, clean, no fewer seeds), every run ends with its verdict rows, --dry-run plans,
and TensorFlow's own log lines stay off the terminal."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keras_lecture_zoo.quiet import drop_noise, is_noise
from keras_lecture_zoo.reproductions.__main__ import main
from keras_lecture_zoo.reproductions.cli import published as cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def published(tmp_path, monkeypatch):
    """A stand-in for the checkout's results/ with a published 1-seed gates.and, and a clean tree."""
    folder = tmp_path / "published"
    folder.mkdir()
    shutil.copytree(REPO / "results" / "gates.and", folder / "gates.and")
    monkeypatch.setattr(cli, "PUBLISHED", folder)
    monkeypatch.setattr(cli, "git_commit", lambda: "0" * 40)
    return folder


def _snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_a_run_goes_to_my_results_and_ends_with_its_verdict_rows(tmp_path, monkeypatch, capsys, published):
    monkeypatch.chdir(tmp_path)
    before = _snapshot(published)
    assert main(["run", "gates.and", "--verbose", "0"]) == 0
    assert (tmp_path / "my-results" / "gates.and" / "summary.csv").is_file()
    assert _snapshot(published) == before
    out = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(out) if line.startswith("target "))
    assert out[header].split() == ["target", "row", "ours", "reference", "criterion", "verdict", "published"]
    rows = out[header + 1 : header + 9]
    assert [r.split()[1] for r in rows] == ["z(00)", "z(01)", "z(10)", "z(11)", "y(00)", "y(01)", "y(10)", "y(11)"]
    assert all(r.split()[-2:] == ["reproduced", "reproduced"] for r in rows)
    assert "8 rows: 8 reproduced" in out
    assert out[-1].startswith("results in my-results/ (table: my-results/README.md")
    assert out[-1].endswith("report --output-dir my-results --compare published")  # relative to here, as typed


def test_the_published_folder_is_refused_without_publish(tmp_path, capsys, published):
    before = _snapshot(published)
    assert main(["run", "gates.and", "--output-dir", str(published)]) == 2
    assert "is the published results set" in _one_error_line(capsys) and _snapshot(published) == before
    assert main(["run", "gates.and", "--output-dir", str(published / "sub")]) == 2  # inside it, too
    assert "pass --publish" in _one_error_line(capsys) and _snapshot(published) == before
    assert main(["report", "--output-dir", str(published)]) == 2
    assert "only with --publish" in _one_error_line(capsys) and _snapshot(published) == before
    assert main(["report", "--output-dir", str(published), "--rejudge"]) == 2
    assert _snapshot(published) == before


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--quick"], "drop --quick"),
        (["--seeds", "2,3"], "would drop 0"),
        (["--dataset", "cifar10"], "--publish covers the default data sets"),
        (["--output-dir", "elsewhere"], "drop --output-dir"),
    ],
    ids=["quick", "fewer seeds", "dataset", "output-dir"],
)
def test_publish_refuses_what_would_lower_the_published_set(published, capsys, argv, expect):
    before = _snapshot(published)
    target = "residual.degradation" if "--dataset" in argv else "gates.and"
    assert main(["run", target, "--publish", *argv]) == 2
    assert expect in _one_error_line(capsys)
    assert _snapshot(published) == before


def test_publish_names_the_seeds_that_would_keep_a_larger_published_set(published, capsys):
    (published / "gates.and" / "run.json").write_text(json.dumps({"seeds": list(range(20))}))
    assert main(["run", "gates.and", "--publish"]) == 2  # the profile's 1 seed would drop 19
    assert _one_error_line(capsys).endswith("would drop 1..19; run at least the published seeds (--seeds 20)")
    (published / "gates.and" / "run.json").write_text(json.dumps({"seeds": [3, 7]}))
    assert main(["run", "gates.and", "--publish"]) == 2
    assert _one_error_line(capsys).endswith("would drop 3,7; run at least the published seeds (--seeds 0,3,7)")


def test_publish_refuses_fewer_seeds_than_the_full_profile_and_a_dirty_tree(published, capsys, monkeypatch):
    assert main(["run", "gates.xor_single_unit", "--publish", "--seeds", "0,1"]) == 2  # not published yet: 5 seeds
    assert "publishes 5 seeds (its full profile), --seeds gives 2" in _one_error_line(capsys)
    monkeypatch.setattr(cli, "git_commit", lambda: "0" * 40 + "+uncommitted changes")
    assert main(["run", "gates.and", "--publish"]) == 2
    assert "only from a clean commit" in _one_error_line(capsys)
    assert main(["report", "--publish"]) == 2
    assert "only from a clean commit" in _one_error_line(capsys)


def test_publish_replaces_the_published_set_when_asked(published, capsys):
    (published / "gates.and" / "run.json").write_text(json.dumps({"seeds": [0], "wall_time_seconds": 1.0}))
    assert main(["run", "gates.and", "--publish", "--verbose", "0"]) == 0
    record = json.loads((published / "gates.and" / "run.json").read_text())
    assert record["seeds"] == [0] and record["target"] == "gates.and"
    assert (published / "README.md").is_file()
    assert "--compare" not in capsys.readouterr().out.splitlines()[-1]  # no comparison with itself
    assert main(["report", "--publish"]) == 0


def test_report_publish_refuses_a_hand_edited_summary(published, capsys):
    """The published index is written only over rows the audit passes: a summary whose verdict its own
    measurements do not give is refused in one line, and the index is left as it was."""
    summary = published / "gates.and" / "summary.csv"
    summary.write_text(summary.read_text().replace("reproduced", "not reproduced", 1))
    assert main(["report", "--publish"]) == 2
    line = _one_error_line(capsys)
    assert "the published set has 1 audit finding(s), the first: gates.and " in line
    assert "its stored measurements give 'reproduced'" in line and not (published / "README.md").exists()


def test_report_works_on_my_results_by_default_and_compares_with_the_published_set(
    tmp_path, monkeypatch, capsys, published
):
    monkeypatch.chdir(tmp_path)
    assert main(["report"]) == 2
    assert "no run of yours yet" in _one_error_line(capsys)
    assert main(["run", "gates.and", "--verbose", "0"]) == 0
    capsys.readouterr()
    assert main(["report", "--compare", str(published)]) == 0
    table = capsys.readouterr().out
    assert "| gates.and | z(00) | -2 | -2 | 0 |" in table and "missing" not in table


def test_a_plan_quotes_no_published_time_for_another_strategy(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "fashion.mlp", "--dry-run"]) == 0
    assert "published run: about" in capsys.readouterr().out
    assert main(["run", "fashion.mlp", "--strategy", "mirrored", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "no published timing under --strategy mirrored (the published run: default)" in out
    assert "the published runs of these took" not in out


def test_dry_run_prints_the_plan_and_creates_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "gates", "xor.keras_model1", "--seeds", "5", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "would run 6 targets (30 seeds, full profile) into my-results/"
    assert any(line.split()[:2] == ["xor.keras_model1", "seeds"] and "published run: about" in line for line in out)
    assert out[-1].startswith("the published runs of these took about ")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "line, noise",
    [
        (b"I0000 00:00:1795455757.283786   26809 port.cc:153] oneDNN custom operations are on.", True),
        (b"E0000 00:00:1795455764.851737   26809 node_def_util.cc:682] NodeDef mentions attribute use_unbounded", True),
        (b"W0000 00:00:1795456018.008174    4263 util.cc:163] Not handling type DT_DOUBLE", True),
        (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
        (b"F0000 00:00:1795456018.008174    4263 check.cc:1] Check failed: a fatal error stays", False),
        (b"error: --seeds must be a count", False),
        (b"Traceback (most recent call last):", False),
        (b"I love this line", False),
    ],
)
def test_only_tensorflows_own_log_lines_count_as_noise(line, noise):
    assert is_noise(line) is noise


def test_the_continuation_lines_of_a_dropped_entry_go_with_it():
    lines = [
        b"E0000 00:00:1795455764.851737   26809 node_def_util.cc:682] NodeDef mentions attribute use_unbounded",
        b"\twhen importing GraphDef to MLIR module in GrapplerHook",
        b"\twhen importing GraphDef to MLIR module",
        b"  epoch 1/1: Train Loss 0.6131",
        b"\ta user's own tab-indented line stays",
    ]
    assert drop_noise(lines) == ([b"  epoch 1/1: Train Loss 0.6131", b"\ta user's own tab-indented line stays"], False)
    assert drop_noise([b"\tcontinued across a read"], previous_dropped=True) == ([], True)


def test_a_command_line_run_prints_no_tensorflow_log_lines(tmp_path):
    """The real command line (a fresh process that loads TensorFlow and builds tf.data graphs)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the default a user has
    argv = [
        sys.executable,
        "-m",
        "keras_lecture_zoo.reproductions",
        "run",
        "gates.xor_single_unit",
        "--seeds",
        "1",
        "--output-dir",
        str(tmp_path / "out"),
    ]
    quiet = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if is_noise(line.encode())], quiet.stderr
    assert "retracing" not in quiet.stderr
    assert quiet.stdout.splitlines()[-1].startswith(f"results in {tmp_path / 'out'}/")
    bad = subprocess.run(
        argv[:5] + ["--seeds", "x"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "error: --seeds must be a count (e.g. 5) or a comma-separated list (e.g. 0,1,7), got 'x'"
    ]


def test_target_names_are_known_without_importing_a_target():
    from keras_lecture_zoo.reproductions import targets

    assert targets.declared_names() == targets.names()


def test_a_misspelt_target_is_refused_before_keras_loads(tmp_path):
    code = (
        "import sys\n"
        "from keras_lecture_zoo.reproductions.cli.main import main\n"
        "code = main(['run', 'gates.adn'])\n"
        "print(code, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["2", "False"], out.stderr
    assert (
        out.stderr.strip()
        == "error: unknown target 'gates.adn'; closest matches: gates.and, gates, gates.or, gates.festival"
    )
