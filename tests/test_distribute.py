"""--strategy: tf.distribute's mirrored strategy over 2 logical CPU devices and MultiWorkerMirroredStrategy
with 2 worker processes on loopback ports give the single-device numbers; only the chief writes results."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from keras_lecture_zoo.reproductions import distribute
from keras_lecture_zoo.reproductions.__main__ import main

REPO = Path(__file__).resolve().parents[1]
TARGET = ["fashion.mlp", "--quick", "--seeds", "1", "--verbose", "0"]


def _cli(out, *extra, env=None, timeout=300):
    argv = [sys.executable, "-m", "reproductions", "run", *TARGET, "--output-dir", str(out), *extra]
    return subprocess.Popen(
        argv,
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(proc, timeout=300):
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"{proc.args} did not finish within {timeout} s")
    assert proc.returncode == 0, out[-3000:]
    return out


def _metrics(out):
    return pd.read_csv(out / "fashion.mlp" / "metrics.csv").iloc[0]


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


# --------------------------------------------------------------------------- in-process


def test_tf_config_parsing_and_the_chief():
    assert distribute.is_chief(None)
    cluster = {"worker": ["a:1", "b:2"]}
    assert distribute.is_chief({"cluster": cluster, "task": {"type": "worker", "index": 0}})
    assert not distribute.is_chief({"cluster": cluster, "task": {"type": "worker", "index": 1}})
    with_chief = {"chief": ["c:0"], **cluster}
    assert distribute.is_chief({"cluster": with_chief, "task": {"type": "chief", "index": 0}})
    assert not distribute.is_chief({"cluster": with_chief, "task": {"type": "worker", "index": 0}})
    os.environ["TF_CONFIG"] = "{not json"
    try:
        with pytest.raises(ValueError, match="TF_CONFIG must be JSON like"):
            distribute.tf_config()
    finally:
        del os.environ["TF_CONFIG"]
    with pytest.raises(ValueError, match="`strategy` must be one of \\['default', 'mirrored', 'multiworker', 'tpu'\\]"):
        distribute.setup("horovod")
    with pytest.raises(ValueError, match="`cpu_devices` must be an integer >= 1"):
        distribute.setup("mirrored", cpu_devices=0)


def test_default_record_states_the_batch_and_learning_rate_rule():
    record = distribute.setup("default").record(batch_size=128)
    assert record["strategy"] == "default" and record["replicas"] == 1
    assert record["global_batch_size"] == 128 and record["per_replica_batch_size"] == 128
    assert record["learning_rate_scaling"].startswith("none: the global batch is the recipe's batch_size")


def test_custom_step_makes_fits_update(tmp_path):
    """The multiworker step (here on one replica) gives fit's update: same loss scaling, same optimizer."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 5)).astype("float32"), rng.integers(0, 3, 32)

    def build():
        keras.utils.set_random_seed(4)
        model = keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(8, activation="relu", kernel_regularizer="l2"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
        return model

    a, b = build(), build()
    a.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    step = distribute.train_step(b, "sparse_categorical_crossentropy", distribute.setup("default").strategy, "sparse")
    for _ in range(2):
        loss, correct = step(x, y)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    assert 0 <= float(correct) <= 32


def test_cli_refuses_bad_strategy_combinations(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["run", "fashion.mlp", "--strategy", "nccl", "--output-dir", str(out)]) == 2
    assert "--strategy must be one of ['default', 'mirrored', 'multiworker', 'tpu']" in capsys.readouterr().err
    assert main(["run", "fashion.mlp", "--strategy", "mirrored", "--jobs", "2", "--output-dir", str(out)]) == 2
    assert "--jobs 2 cannot be combined with --strategy mirrored" in capsys.readouterr().err
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert main(["run", "fashion.mlp", "--strategy", "multiworker", "--output-dir", str(out)]) == 2
    assert "--strategy multiworker needs TF_CONFIG" in capsys.readouterr().err
    assert main(["run", "fashion.mlp", "--strategy", "tpu", "--output-dir", str(out)]) == 2  # no TPU here
    assert "--strategy tpu found no TPU" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- separate processes


@pytest.mark.slow
def test_mirrored_over_two_logical_cpus_matches_one_device(tmp_path, data_dir):
    single = _cli(tmp_path / "single")
    _finish(single)
    mirrored = _cli(tmp_path / "mirrored", "--strategy", "mirrored", "--devices", "2")
    _finish(mirrored)
    a, b = _metrics(tmp_path / "single"), _metrics(tmp_path / "mirrored")
    # the same updates summed in a different order: equal to float32 rounding
    assert b["test_loss"] == pytest.approx(a["test_loss"], rel=1e-5)
    assert b["test_accuracy"] == pytest.approx(a["test_accuracy"], abs=1e-3)
    record = json.loads((tmp_path / "mirrored" / "fashion.mlp" / "run.json").read_text())["distribution"]
    assert record["strategy"] == "mirrored" and record["replicas"] == 2
    assert record["global_batch_size"] == 32 and record["per_replica_batch_size"] == 16


@pytest.mark.slow
def test_multiworker_two_processes_on_loopback_write_one_results_set(tmp_path, data_dir):
    ports = _free_ports(2)
    out = tmp_path / "mw"
    procs = []
    for i in range(2):
        config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": i}}
        procs.append(_cli(out, "--strategy", "multiworker", env={"TF_CONFIG": json.dumps(config)}))
    logs = [_finish(p, timeout=240) for p in procs]
    assert "not the chief" in logs[1] and "not the chief" not in logs[0]
    assert sorted(p.name for p in out.iterdir() if p.name != ".work") == ["README.md", "fashion.mlp"]  # no .worker-1
    record = json.loads((out / "fashion.mlp" / "run.json").read_text())["distribution"]
    assert record["strategy"] == "multiworker" and record["replicas"] == 2 and record["workers"] == 2
    single = _cli(tmp_path / "single")
    _finish(single)
    a, b = _metrics(tmp_path / "single"), _metrics(out)
    assert b["test_loss"] == pytest.approx(a["test_loss"], rel=1e-5)
    assert b["train_accuracy"] == pytest.approx(a["train_accuracy"], abs=1e-3)
