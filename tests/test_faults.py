"""Faults that must never put a wrong number into a results table: kills inside the checkpoint
window, resumes over another run's work, hidden working folders, bad flags, damaged data, orphaned
workers, unreachable peers, foreign files in the output folder, and memory over many seeds."""

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from keras_lecture_zoo.reproductions import results_folder, results_index
from keras_lecture_zoo.reproductions.__main__ import main
from keras_lecture_zoo.reproductions.errors import CheckpointError, ResumeMismatch, UnsafeOutput
from keras_lecture_zoo.reproductions.fileio import target_lock
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
from tests._tiny_targets import tiny_target

REPO = Path(__file__).resolve().parents[1]


def _run(target, out, seeds=(0, 1), resume=False, quick=False):
    configure_determinism()
    return run_target(
        target,
        RunSettings(output_dir=out, profile="quick" if quick else "full", seeds=list(seeds), resume=resume, verbose=0),
        record={"command": "test"},
    )


def _numbers(out, name="tiny.mlp"):
    metrics = pd.read_csv(out / name / "metrics.csv").drop(columns=["wall_time_s"])
    histories = {p.name: p.read_bytes() for p in sorted((out / name / "history").glob("*.csv"))}
    return metrics, histories


RUN_TINY = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tests._tiny_targets import tiny_target
    from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
    configure_determinism()
    profile = "quick" if {quick} else "full"
    settings = RunSettings(output_dir=Path({out!r}), profile=profile, seeds=[0, 1], resume={resume}, verbose=0)
    run_target(tiny_target(), settings, record={{"command": "test"}})
""")


def _tiny_process(tmp_path, out, *, resume, quick=False, kill_at=None):
    script = tmp_path / "run_tiny.py"
    script.write_text(RUN_TINY.format(out=str(out), resume=resume, quick=quick))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("ZOO_FAULT_KILL", None)
    if kill_at:
        env["ZOO_FAULT_KILL"] = kill_at
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)


# --------------------------------------------------------------------------- the checkpoint window


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["checkpoint-written:3", "before-replace-checkpoint.npz:3", "seed-done:1", "results-staged:1"]
)
def test_a_kill_at_any_write_resumes_to_the_uninterrupted_numbers(tmp_path, point):
    """Killed while a checkpoint's temp file is complete but not yet renamed (the old two-file window),
    after a seed is written, or with the results staged: --resume ends with the clean run's numbers."""
    _run(tiny_target(), tmp_path / "clean")
    out = tmp_path / "killed"
    first = _tiny_process(tmp_path, out, resume=False, kill_at=point)
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    assert not (out / "tiny.mlp").exists()
    second = _tiny_process(tmp_path, out, resume=True)
    assert second.returncode == 0, second.stderr[-2000:]
    if point.startswith(("checkpoint", "before")):
        assert "resuming seed 0 after epoch 2" in second.stdout  # epoch 3's weights never counted as done
    (mc, hc), (mr, hr) = _numbers(tmp_path / "clean"), _numbers(out)
    pd.testing.assert_frame_equal(mc, mr, check_exact=True)
    assert hc == hr
    assert not (out / ".work").exists()  # no lock file or working folder is left behind


def _killed_work(tmp_path, quick=False):
    out = tmp_path / "out"
    assert _tiny_process(tmp_path, out, resume=False, quick=quick, kill_at="checkpoint-written:2").returncode == -9
    return out, out / ".work" / "tiny.mlp" / "seed_0"


def test_a_checkpoint_in_the_old_two_file_format_is_refused(tmp_path):
    out, seed_dir = _killed_work(tmp_path)
    (seed_dir / "state.json").write_text(json.dumps({"epochs_done": 1}))
    with pytest.raises(CheckpointError, match="old two-file format"):
        _run(tiny_target(), out, resume=True)
    assert (seed_dir / "state.json").is_file()  # the refused work is left as it was


def test_a_damaged_checkpoint_is_refused_not_trained_on(tmp_path, capsys):
    out, seed_dir = _killed_work(tmp_path)
    ckpt = seed_dir / "checkpoint.npz"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="is damaged"):
        _run(tiny_target(), out, resume=True)


def test_a_quick_run_is_not_resumed_as_a_full_one(tmp_path, capsys):
    out, _ = _killed_work(tmp_path, quick=True)
    with pytest.raises(ResumeMismatch, match="profile: 'quick' there, 'full' now"):
        _run(tiny_target(), out, resume=True)
    assert (out / ".work" / "tiny.mlp" / "seed_0" / "checkpoint.npz").is_file()
    _run(tiny_target(), out, resume=True, quick=True)  # the matching resume goes on
    assert pd.read_csv(out / "tiny.mlp" / "metrics.csv")["epochs_run"].tolist() == [2.0, 2.0]


def test_a_resume_after_the_recipe_changed_names_the_difference(tmp_path):
    import dataclasses

    out, _ = _killed_work(tmp_path)
    changed = dataclasses.replace(tiny_target(), recipe=dataclasses.replace(tiny_target().recipe, batch_size=32))
    with pytest.raises(ResumeMismatch, match="config: recipe.batch_size 16 there, 32 now"):
        _run(changed, out, resume=True)


def test_the_cli_refuses_a_mismatched_resume_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "xor.keras_model2", "--quick", "--seeds", "1", "--output-dir", str(out), "--verbose", "0"]) == 0
    work = out / ".work" / "xor.keras_model2"
    work.mkdir(parents=True)
    (work / "fingerprint.json").write_text(json.dumps({"target": "xor.keras_model2", "profile": "quick"}))
    assert main(["run", "xor.keras_model2", "--seeds", "1", "--output-dir", str(out), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and err[0].startswith("error: --resume refused")
        and "profile: 'quick' there, 'full' now" in err[0]
    )


# --------------------------------------------------------------------------- hidden folders and report


def test_hidden_working_folders_are_never_read_as_results(tmp_path):
    import shutil

    _run(tiny_target(epochs=1), tmp_path, seeds=(0,))
    shutil.copytree(tmp_path / "tiny.mlp", tmp_path / ".tiny.mlp.staging")
    shutil.copytree(tmp_path / "tiny.mlp", tmp_path / ".other.old")
    (tmp_path / ".work" / "x").mkdir(parents=True)
    df = results_index.write_index(tmp_path)
    assert df["target"].tolist() == ["tiny.mlp", "tiny.mlp"]  # .other.old: a swap a crash interrupted, read from there
    shutil.rmtree(tmp_path / ".other.old")
    assert results_index.write_index(tmp_path)["target"].tolist() == ["tiny.mlp"]


def test_report_racing_a_run_sees_one_whole_set_and_never_crashes(tmp_path):
    _run(tiny_target(epochs=1), tmp_path, seeds=(0,))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tests._tiny_targets import tiny_target
        from keras_lecture_zoo.reproductions.suite import RunSettings, run_target
        for i in range(6):
            settings = RunSettings(output_dir=Path({str(tmp_path)!r}), seeds=[0, 1][: 1 + i % 2], verbose=0)
            run_target(tiny_target(epochs=1), settings, record={{}})
    """),
        ],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = set()
    while proc.poll() is None:
        rows = results_folder.load_summaries(tmp_path)
        assert len(rows) == 1  # never both sets, never none
        seen.add(int(rows.loc[0, "n"]))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert seen <= {1, 2}


# --------------------------------------------------------------------------- refusals: one line, exit 2, nothing made


def _refused(capsys, argv, out, expect):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert expect in err[0], err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "seeds, expect",
    [
        (",", "names no seed"),
        (" , ,", "names no seed"),
        ("4294967296", "at most 10,000"),
        ("4294967296,", "from 0 to 4294967295"),
        ("0,99999999999999999999", "from 0 to 4294967295"),
        ("-1,2", "from 0 to"),
    ],
)
def test_seeds_that_name_nothing_or_overflow_are_refused(tmp_path, capsys, seeds, expect):
    out = tmp_path / "out"
    _refused(capsys, ["run", "gates.and", f"--seeds={seeds}", "--output-dir", str(out)], out, expect)


def test_an_output_dir_that_is_a_file_or_cannot_be_made_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "gates.and", "--output-dir", str(blocker)]) == 2
    assert "is a file" in capsys.readouterr().err
    _refused(capsys, ["run", "gates.and", "--output-dir", str(blocker / "sub")], blocker / "sub", "cannot be created")


@pytest.mark.parametrize(
    "config, expect",
    [
        ("{not json", "not valid JSON"),
        ('{"cluster": {"worker": ["localhost:1"]}}', "'cluster' object and a 'task' object"),
        (
            '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}',
            "task index 3 is out of range",
        ),
        ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "ps", "index": 0}}', "task type 'ps'"),
        (
            '{"cluster": {"worker": ["localhost:99999"]}, "task": {"type": "worker", "index": 0}}',
            "port from 1 to 65535",
        ),
        ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "non-empty list"),
    ],
)
def test_malformed_or_out_of_range_tf_config_is_refused(tmp_path, capsys, monkeypatch, config, expect):
    monkeypatch.setenv("TF_CONFIG", config)
    out = tmp_path / "out"
    _refused(capsys, ["run", "gates.and", "--strategy", "multiworker", "--output-dir", str(out)], out, expect)


def test_report_compare_on_a_folder_without_summaries_is_refused(tmp_path, capsys):
    _run(tiny_target(epochs=1), tmp_path / "a", seeds=(0,))
    (tmp_path / "empty").mkdir()
    assert main(["report", "--output-dir", str(tmp_path / "a"), "--compare", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds no results" in err[0]


def _fashion_copy(tmp_path):
    src = Path(os.environ["ZOO_DATA_DIR"]) / "fashion-mnist"
    dst = tmp_path / "data" / "fashion-mnist"
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).symlink_to(f)
    return dst


@pytest.mark.parametrize(
    "fault, expect",
    [
        ("corrupt", "SHA-256 mismatch"),
        ("missing", "not found"),
        ("directory", "is not a regular file"),
    ],
)
def test_data_faults_exit_2_in_one_line_and_create_nothing(tmp_path, capsys, data_dir, fault, expect):
    folder = _fashion_copy(tmp_path)
    victim = next(p for p in folder.iterdir() if p.name.startswith("t10k-labels"))
    victim.unlink()
    if fault == "corrupt":
        data = bytearray(
            gzip.decompress((data_dir / "fashion-mnist" / victim.name).read_bytes())
            if victim.name.endswith(".gz")
            else (data_dir / "fashion-mnist" / victim.name).read_bytes()
        )
        data[100] ^= 0xFF
        (folder / "t10k-labels-idx1-ubyte").write_bytes(bytes(data))
    elif fault == "directory":
        (folder / "t10k-labels-idx1-ubyte").mkdir()
    out = tmp_path / "out"
    _refused(
        capsys,
        ["run", "fashion.mlp", "--quick", "--seeds", "1", "--data-dir", str(folder.parent), "--output-dir", str(out)],
        out,
        expect,
    )


def test_no_data_and_no_network_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, silent_mirror):
    """The README's first MNIST run on a machine without the data: one line naming the fix, in seconds."""
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    _refused(capsys, ["run", "mnist.softmax", "--quick", "--output-dir", str(out)], out, "ZOO_OFFLINE=1")
    monkeypatch.delenv("ZOO_OFFLINE")  # a mirror that never answers, on loopback
    monkeypatch.setenv("ZOO_DATA_MIRROR", silent_mirror)
    monkeypatch.setenv("ZOO_DOWNLOAD_TIMEOUT", "1")
    _refused(
        capsys, ["run", "mnist.softmax", "--quick", "--output-dir", str(out)], out, "timed out. Fix: pass data_dir="
    )


@pytest.fixture
def silent_mirror():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # connections wait in the backlog, never answered
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_an_unreadable_data_file_is_a_checksum_error(tmp_path, monkeypatch):
    from keras_lecture_zoo.zoo import data

    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"x")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", denied)
    with pytest.raises(data.ChecksumError, match="cannot be read \\(Permission denied\\)"):
        list(data.idx._file_chunks(path))


def test_missing_data_is_a_checksum_error_and_still_a_file_not_found_error(tmp_path):
    from keras_lecture_zoo.zoo import data

    with pytest.raises(data.ChecksumError) as info:
        data.load_arrays("mnist", tmp_path)
    assert isinstance(info.value, FileNotFoundError)


def test_a_gzip_bomb_is_cut_off_at_the_files_known_size(tmp_path, monkeypatch):
    import tracemalloc

    from keras_lecture_zoo.zoo import data

    folder = tmp_path / "mnist"
    folder.mkdir()
    bomb = folder / "train-labels-idx1-ubyte.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        chunk = bytes(1 << 20)
        for _ in range(256):  # 256 MiB of zeros in a ~250 KB file
            fh.write(chunk)
    tracemalloc.start()
    with pytest.raises(data.ChecksumError, match="decompresses to more than the expected 60,008 bytes"):
        data.idx._read_verified(bomb, data.DATASETS["mnist"], "train-labels-idx1-ubyte")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 2**20


def test_a_changed_source_gz_is_never_served_from_the_cache(tmp_path, data_dir):
    from keras_lecture_zoo.zoo import data

    src = data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz"
    if not src.is_file():
        pytest.skip("the local data has no .gz source")
    copy = tmp_path / "t10k-labels-idx1-ubyte.gz"
    copy.write_bytes(src.read_bytes())
    spec = data.DATASETS["mnist"]
    data.idx._read_verified(copy, spec, "t10k-labels-idx1-ubyte")  # warms the cache
    stat = copy.stat()
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # same size, same mtime below
    copy.write_bytes(bytes(raw))
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(data.ChecksumError):
        data.idx._read_verified(copy, spec, "t10k-labels-idx1-ubyte")


# --------------------------------------------------------------------------- foreign files in the output folder


def test_a_readme_this_tool_did_not_write_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "README.md").write_text("# My project\n")
    with pytest.raises(UnsafeOutput):
        results_index.write_index(tmp_path)
    assert main(["run", "gates.and", "--seeds", "1", "--output-dir", str(tmp_path), "--verbose", "0"]) == 2
    assert "was not written by this tool" in capsys.readouterr().err
    assert main(["report", "--output-dir", str(tmp_path)]) == 2
    assert (tmp_path / "README.md").read_text() == "# My project\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]


def test_the_published_index_and_this_tools_own_index_are_rewritten(tmp_path):
    (tmp_path / "README.md").write_text((REPO / "results" / "README.md").read_text())
    results_index.write_index(tmp_path)  # the committed index (written before the marker existed) is ours
    assert (tmp_path / "README.md").read_text().startswith(results_folder.INDEX_MARKER)
    results_index.write_index(tmp_path)


# --------------------------------------------------------------------------- processes


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_jobs_workers_die_with_their_parent_and_the_lock_is_not_taken_meanwhile(tmp_path, sig, data_dir):
    """Killing a --jobs run kills its seed processes and frees the target's lock (taken again here); after a
    SIGKILL, which leaves the most behind, the same run then runs again to the end."""
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "reproductions",
        "run",
        "mnist.shift",
        "--quick",
        "--seeds",
        "2",
        "--jobs",
        "2",
        "--output-dir",
        str(out),
        "--verbose",
        "0",
    ]
    parent = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    workers = []
    for line in parent.stdout:
        if "started in process" in line:
            workers.append(int(line.split("started in process ")[1].split()[0]))
        if len(workers) == 2:
            break
    time.sleep(1.0)
    parent.send_signal(sig)
    parent.wait(timeout=60)
    deadline = time.time() + 20
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "a --jobs worker outlived its parent"
    with target_lock(out / ".work", "mnist.shift"):  # free the moment the workers are gone
        pass
    if sig != signal.SIGKILL:  # the rerun below after the kill that leaves the most behind (no clean-up ran)
        return
    again = subprocess.run(
        argv[:-2] + ["--verbose", "0", "--seeds", "1", "--jobs", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]


def _alive(pid):
    """Whether any thread of process ``pid`` still runs. A killed multi-threaded process's main thread can be a
    zombie while its other threads are still exiting, and its files (the target's lock among them) stay open
    until the last of them is gone, so the main thread's state alone does not say the lock is free."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return False
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    return True
        except FileNotFoundError:
            continue
    return False


def test_multiworker_with_an_unreachable_peer_fails_in_one_line_within_its_timeout(tmp_path):
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("localhost", 0))
            ports.append(s.getsockname()[1])
    config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": 0}}
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CONFIG=json.dumps(config), ZOO_CONNECT_TIMEOUT="3")
    t0 = time.time()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reproductions",
            "run",
            "gates.and",
            "--strategy",
            "multiworker",
            "--output-dir",
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert time.time() - t0 < 60
    err = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and f"could not reach localhost:{ports[1]} within 3 s" in err[0]
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- memory over many seeds


MEMORY = textwrap.dedent("""
    import sys
    from pathlib import Path
    import keras
    from tests._tiny_targets import tiny_target
    from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    seen = []

    class Rss(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            seen.append(rss())

    configure_determinism()
    target = tiny_target(epochs=1, callbacks=lambda work_dir: [Rss()])
    run_target(target, RunSettings(output_dir=Path({out!r}), seeds=list(range(24)), verbose=0), record={{}})
    print(seen[5], seen[-1])
""")


@pytest.mark.slow
def test_many_seeds_stay_flat_in_memory(tmp_path):
    """No leak per seed: at most 1 MB a seed over 18 seeds after 6 (measured 2026-12-06: the RSS of a
    40-seed run was flat within 3 MB from its first seed, so 6 are warm-up enough)."""
    script = tmp_path / "memory.py"
    script.write_text(MEMORY.format(out=str(tmp_path / "out")))
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    after_6, after_24 = map(float, proc.stdout.split()[-2:])
    assert after_24 - after_6 < 18, f"RSS grew {after_24 - after_6:.0f} MB over 18 seeds"


def test_a_download_that_decompresses_past_the_files_size_is_rejected(tmp_path, monkeypatch):
    from keras_lecture_zoo.zoo import data

    mirror = tmp_path / "mirror" / "mnist"
    mirror.mkdir(parents=True)
    with gzip.open(mirror / "train-images-idx3-ubyte.gz", "wb") as fh:
        for _ in range(64):
            fh.write(bytes(1 << 20))  # 64 MiB, more than the 47,040,016-byte file
    monkeypatch.setenv("ZOO_DATA_MIRROR", (tmp_path / "mirror").as_uri())
    with pytest.raises(data.MissingDataError, match="decompresses to more than the expected 47,040,016 bytes"):
        data.download("mnist", tmp_path / "dest", quiet=True)
    assert not (tmp_path / "dest" / "mnist" / "train-images-idx3-ubyte.gz").exists()


def test_the_run_record_names_the_packages_own_commit_from_any_directory(tmp_path, monkeypatch):
    from keras_lecture_zoo.reproductions.cli.published import git_commit as _git_commit

    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("the package is not in a git checkout here")
    monkeypatch.chdir(tmp_path)  # not a checkout; before, this recorded "unknown"
    assert _git_commit().split("+")[0] == head.stdout.strip()
    other = tmp_path / "other-repo"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    monkeypatch.chdir(other)  # another repository; before, its (missing) commit was recorded
    assert _git_commit().split("+")[0] == head.stdout.strip()
