"""tools/offline_host.py and tools/offline_run.sh: a full run made on an offline GPU host (no git there) is
published here only from a clean commit whose code is the run's, byte for byte (source_sha256), full profile,
all seeds, measured files matching their digests."""

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import offline_host as kit  # noqa: E402

from keras_lecture_zoo.reproductions.suite import source_digest  # noqa: E402


def _record(**changes):
    record = {
        "target": "gates.and",
        "config": {"profile": "full"},
        "source_sha256": source_digest(),
        "seeds": [0],
        "command": "python -m reproductions run gates.and --backend jax --output-dir offline-results",
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    "changes, refusal",
    [
        ({}, None),
        ({"config": {"profile": "quick"}}, "a quick run; only a full run is published"),
        ({"target": "gates.or"}, "its run.json is of 'gates.or'"),
        ({"source_sha256": "0" * 64}, "is not this commit's"),
        ({"seeds": [1]}, "would drop [0]"),
        ({"command": "python -m reproductions run gates.and --dataset cifar10"}, "only the default data sets"),
    ],
)
def test_check_run_publishes_only_this_commits_full_runs(changes, refusal):
    why = kit.check_run(_record(**changes), "gates.and", source_digest(), [0], 1)
    assert why is None if refusal is None else refusal in why


def test_check_run_needs_the_full_profiles_seeds():
    assert "1 seeds; its full profile publishes 2" in kit.check_run(_record(), "gates.and", source_digest(), [], 2)


def _offline_out(tmp_path, record):
    """The --into folder as offline_run.sh leaves it: offline-results/ with the published gates.and run, its
    run.json replaced by ``record``, packed and split into parts."""
    run = tmp_path / "offline-results"
    shutil.copytree(REPO / "results" / "gates.and", run / "gates.and")
    (run / "gates.and" / "run.json").write_text(json.dumps(record))
    out = tmp_path / "out"
    out.mkdir()
    with tarfile.open(tmp_path / "all.tgz", "w:gz") as tar:
        tar.add(run, arcname="offline-results")
    data = (tmp_path / "all.tgz").read_bytes()
    half = len(data) // 2
    (out / f"{kit.PACK}.part-0").write_bytes(data[:half])
    (out / f"{kit.PACK}.part-1").write_bytes(data[half:])
    return out


def test_adopt_swaps_the_run_in_and_names_the_commit(tmp_path):
    published = tmp_path / "results"
    shutil.copytree(REPO / "results" / "gates.and", published / "gates.and")
    record = {
        **json.loads((REPO / "results" / "gates.and" / "run.json").read_text()),
        "source_sha256": source_digest(),
        "git_commit": "unknown (no git)",
        "backend": "jax",
        "hardware": {"cpu": "x", "cores": 16, "gpus": ["gpu:0 NVIDIA H100 80GB HBM3"]},
    }
    out = _offline_out(tmp_path, record)
    assert kit.adopt(out, published=published, commit="f" * 40) == ["gates.and"]
    adopted = json.loads((published / "gates.and" / "run.json").read_text())
    assert adopted["git_commit"] == "f" * 40
    assert "jax on gpu:0 NVIDIA H100 80GB HBM3" in adopted["made_outside_checkout"]
    summary = (published / "gates.and" / "summary.md").read_text()  # remade from the amended record
    assert f"- git commit: {'f' * 40}\n- made outside the checkout: run in a copy of commit" in summary
    assert "GPUs: ['gpu:0 NVIDIA H100 80GB HBM3']" in summary
    assert (published / "gates.and" / "metrics.csv").read_bytes() == (
        REPO / "results/gates.and/metrics.csv"
    ).read_bytes()
    assert sorted(p.name for p in published.iterdir()) == ["gates.and"]  # no staging or unpacked folders left


def test_adopt_refuses_other_code_and_changes_nothing(tmp_path):
    published = tmp_path / "results"
    shutil.copytree(REPO / "results" / "gates.and", published / "gates.and")
    before = (published / "gates.and" / "run.json").read_bytes()
    out = _offline_out(tmp_path, _record(source_sha256="0" * 64))
    with pytest.raises(kit.KitError, match="is not this commit's"):
        kit.adopt(out, published=published, commit="f" * 40)
    with pytest.raises(kit.KitError, match="'gates.xor' is not a registered target"):
        kit.adopt(out, ["gates.xor"], published=published, commit="f" * 40)
    with pytest.raises(kit.KitError, match="gates.or not in the offline run"):
        kit.adopt(out, ["gates.or"], published=published, commit="f" * 40)
    assert (published / "gates.and" / "run.json").read_bytes() == before
    assert sorted(p.name for p in published.iterdir()) == ["gates.and"]


def test_the_cli_refuses_in_one_line_with_status_2(tmp_path, capsys):
    assert kit.main(["adopt", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: ")
    assert kit.main(["pack", "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "--data-dir" in capsys.readouterr().err


def test_pack_copies_the_named_data_sets(tmp_path):
    data = tmp_path / "data"
    (data / "mnist").mkdir(parents=True)
    (data / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"x" * 10)
    with pytest.raises(kit.KitError, match="no fashion-mnist/ folder"):
        kit.pack(["fashion-mnist"], str(data), "3.12", kit=tmp_path / "kit", download=False)
    with pytest.raises(kit.KitError, match="'cifar10' is not one of fashion-mnist, mnist"):
        kit.pack(["cifar10"], str(data), "3.12", kit=tmp_path / "kit", download=False)
    assert kit.pack(["mnist"], str(data), "3.12", kit=tmp_path / "kit", download=False) == 10
    assert (tmp_path / "kit" / "data" / "mnist" / "train-labels-idx1-ubyte.gz").is_file()


def test_offline_run_refuses_without_the_kit_or_its_arguments(tmp_path):
    (tmp_path / "tools").mkdir()
    shutil.copy(REPO / "tools" / "offline_run.sh", tmp_path / "tools")
    script, env = str(tmp_path / "tools" / "offline_run.sh"), {"PATH": "/usr/bin:/bin"}
    for argv, message in (
        (["gates.and"], "usage: bash tools/offline_run.sh --into DIR"),
        (["--into", str(tmp_path / "out"), "--backend", "tensorflow", "gates.and"], "--backend must be jax or torch"),
        (
            ["--into", str(tmp_path / "out"), "--stop-after", "soon", "gates.and"],
            "--stop-after must be a number of seconds",
        ),
        (["--into", str(tmp_path / "out"), "gates.and"], "python tools/offline_host.py pack"),
    ):
        result = subprocess.run(["bash", script, *argv], capture_output=True, text=True, env=env)
        assert result.returncode == 2 and message in result.stderr, (argv, result.stderr)


def test_adopt_refuses_a_run_whose_measurements_were_changed(tmp_path):
    published = tmp_path / "results"
    shutil.copytree(REPO / "results" / "gates.and", published / "gates.and")
    record = {**json.loads((REPO / "results" / "gates.and" / "run.json").read_text()), "source_sha256": source_digest()}
    record["measurements"] = {"metrics.csv": "0" * 64}
    out = _offline_out(tmp_path, record)
    with pytest.raises(kit.KitError, match="metrics.csv does not match the SHA-256"):
        kit.adopt(out, published=published, commit="f" * 40)
