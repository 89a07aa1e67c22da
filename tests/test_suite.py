"""The suite's trust guarantees: determinism, resume after a kill, intact results, divergence, locks, CLI."""

import configparser
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from keras_lecture_zoo.reproductions import figures, report, results_index, targets
from keras_lecture_zoo.reproductions.__main__ import main
from keras_lecture_zoo.reproductions.fileio import LockedError, target_lock
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
from tests._tiny_targets import diverging_build, tiny_target

REPO = Path(__file__).resolve().parents[1]


def _run(target, out, seeds=(0, 1), resume=False):
    configure_determinism()
    return run_target(
        target,
        RunSettings(output_dir=out, profile="full", seeds=list(seeds), resume=resume, verbose=0),
        record={"command": "test"},
    )


def _numbers(out, name):
    metrics = pd.read_csv(out / name / "metrics.csv").drop(columns=["wall_time_s"])
    histories = {p.name: p.read_bytes() for p in sorted((out / name / "history").glob("*.csv"))}
    return metrics, histories


def test_same_seed_gives_bitwise_identical_results(tmp_path):
    _run(tiny_target(), tmp_path / "a")
    _run(tiny_target(), tmp_path / "b")
    (ma, ha), (mb, hb) = _numbers(tmp_path / "a", "tiny.mlp"), _numbers(tmp_path / "b", "tiny.mlp")
    pd.testing.assert_frame_equal(ma, mb, check_exact=True)
    assert ha == hb and len(ha) == 2
    assert not ma.iloc[0].equals(ma.iloc[1])  # different seeds, different numbers


SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tests._tiny_targets import tiny_target, KillOnce
    from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
    configure_determinism()
    marker = Path({marker!r})
    target = tiny_target(
        callbacks=lambda work_dir: [KillOnce(marker, epoch={kill_epoch})] if work_dir.name == 'seed_1' else [])
    settings = RunSettings(output_dir=Path({out!r}), seeds=[0, 1], resume={resume}, verbose=0)
    run_target(target, settings, record={{"command": "test"}})
""")


def _subprocess(tmp_path, out, resume, kill_epoch=3):
    script = tmp_path / "run.py"
    script.write_text(
        SCRIPT.format(marker=str(tmp_path / "killed"), out=str(out), resume=resume, kill_epoch=kill_epoch)
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)


def test_killed_run_resumes_to_the_uninterrupted_numbers(tmp_path):
    _run(tiny_target(), tmp_path / "clean")
    out = tmp_path / "resumed"
    first = _subprocess(tmp_path, out, resume=False)
    assert first.returncode == -9, first.stderr[-2000:]  # killed during seed 1, epoch 3
    work = out / ".work" / "tiny.mlp"
    assert (work / "seed_0" / "done.json").is_file()
    import numpy as np

    with np.load(work / "seed_1" / "checkpoint.npz") as ckpt:
        assert json.loads(ckpt["__state__"].tobytes())["epochs_done"] == 2
    assert not (work / "seed_1" / "state.json").exists()  # one file per checkpoint
    assert not (out / "tiny.mlp").exists()  # nothing half-written
    second = _subprocess(tmp_path, out, resume=True)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "already finished (resumed)" in second.stdout and "resuming seed 1 after epoch 2" in second.stdout
    (mc, hc), (mr, hr) = _numbers(tmp_path / "clean", "tiny.mlp"), _numbers(out, "tiny.mlp")
    pd.testing.assert_frame_equal(mc, mr, check_exact=True)
    assert hc == hr


def test_a_killed_run_leaves_the_previous_results_intact(tmp_path):
    out = tmp_path / "out"
    _run(tiny_target(), out)
    before = {p.relative_to(out): p.read_bytes() for p in (out / "tiny.mlp").rglob("*") if p.is_file()}
    assert _subprocess(tmp_path, out, resume=False).returncode == -9
    after = {p.relative_to(out): p.read_bytes() for p in (out / "tiny.mlp").rglob("*") if p.is_file()}
    assert before == after


def test_a_diverging_seed_is_recorded_and_the_others_go_on(tmp_path):
    rows = _run(tiny_target(build=diverging_build, seeds=3), tmp_path, seeds=(0, 1, 2))
    metrics = pd.read_csv(tmp_path / "tiny.mlp" / "metrics.csv")
    assert metrics.set_index("seed").loc[1, "diverged_epoch"] == 1
    assert metrics["diverged_epoch"].isna().sum() == 2
    assert rows[0]["n"] == 2 and rows[0]["diverged"] == 1
    assert "seed 1 at epoch 1" in (tmp_path / "tiny.mlp" / "summary.md").read_text()


def test_outputs_have_the_lecture_columns_and_a_record(tmp_path):
    _run(tiny_target(), tmp_path)
    folder = tmp_path / "tiny.mlp"
    history = pd.read_csv(folder / "history" / "seed_0.csv")
    assert list(history.columns[:5]) == [
        "Epoch",
        "Train Loss",
        "Train Accuracy",
        "Validation Loss",
        "Validation Accuracy",
    ]
    assert history["Epoch"].tolist() == [1, 2, 3, 4]
    assert (folder / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((folder / "run.json").read_text())
    assert record["seeds"] == [0, 1] and record["config"]["epochs"] == 4 and record["wall_time_seconds"] > 0
    summary = pd.read_csv(folder / "summary.csv")
    assert summary.loc[0, "verdict"] in ("reproduced", "not reproduced") and summary.loc[0, "n"] == 2


def test_same_target_is_locked_and_other_targets_are_not(tmp_path):
    with target_lock(tmp_path / ".work", "tiny.mlp"):
        with pytest.raises(LockedError, match="'tiny.mlp' is already being run"):
            _run(tiny_target(), tmp_path)
        _run(tiny_target(name="tiny.other", epochs=1, seeds=1), tmp_path, seeds=(0,))
    assert (tmp_path / "tiny.other" / "summary.md").is_file()
    _run(tiny_target(epochs=1, seeds=1), tmp_path, seeds=(0,))  # the lock is released


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["run", "gates.nand", "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: unknown target 'gates.nand'; closest matches: gates.and, gates.or"] or (
        len(err) == 1 and err[0].startswith("error: unknown target 'gates.nand'; closest matches: gates.and")
    )
    for argv in (
        ["run", "gates", "--seeds", "0,0"],
        ["run", "gates", "--strategy", "horovod"],
        ["run"],
        ["run", "gates", "--bogus"],
        ["fly"],
        ["run", "gates", "--data-dir", str(tmp_path / "nowhere")],
    ):
        assert main(argv + ["--output-dir", str(out)] if argv[0] == "run" else argv) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1  # the reason alone, not the target list
    assert main(["run", "gates", "--seeds", "0", "--output-dir", str(out)]) == 2
    assert "for seed 0 alone write --seeds 1 or the list --seeds 0," in capsys.readouterr().err
    assert not out.exists()


def test_gates_end_to_end_through_the_cli(tmp_path, capsys):
    out = tmp_path / "results"
    assert targets.resolve(["gates"])[0] == [
        "gates.and",
        "gates.and3_sigmoid",
        "gates.festival",
        "gates.or",
        "gates.xor_single_unit",
    ]
    assert main(["run", "gates", "--seeds", "1", "--output-dir", str(out), "--verbose", "0"]) == 0
    index = (out / "README.md").read_text()
    # and: z+y (8), and3: 8, festival: 16, or: z+y (8), xor_single_unit: 5
    rows = [line for line in index.splitlines() if "](gates." in line]
    assert len(rows) == 8 + 8 + 16 + 8 + 5 and all("| reproduced |" in line for line in rows)
    assert "| exact | 43 | 43 | 0 | 0 | 0 |" in index and "| sanity | 2 | 2 | 0 | 0 | 0 |" in index
    assert main(["report", "--output-dir", str(out)]) == 0
    assert main(["report", "--output-dir", str(out), "--compare", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| same |" in table and "differs" not in table


def test_compare_flags_differences_beyond_tolerance(tmp_path):
    import shutil

    _run(tiny_target(), tmp_path / "a")
    assert "| same |" in results_index.compare(tmp_path / "a", tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    summary = tmp_path / "b" / "tiny.mlp" / "summary.csv"
    df = pd.read_csv(summary)
    df.loc[0, "mean"] += 0.25
    df.to_csv(summary, index=False)
    table = results_index.compare(tmp_path / "a", tmp_path / "b")
    assert "| tiny.mlp | test_accuracy |" in table and "| -0.2500 | 0 | differs |" in table


def test_tox_runs_any_target_through_one_env_and_keeps_no_list_of_them():
    """`tox -e run -- NAMES` passes the names to the CLI, which resolves them from the registry; tox.ini
    names no target or family, so a new target needs no tox edit."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "tox.ini")
    assert "python -m reproductions run {posargs}" in cfg["testenv:run"]["commands"]
    families = {n.split(".")[0] for n in targets.names()}
    envs = {s.removeprefix("testenv:") for s in cfg.sections()}
    assert not envs & (set(targets.names()) | families)
    assert not any(name in (REPO / "tox.ini").read_text() for name in targets.names())


def test_the_default_tox_run_leaves_out_the_long_tests_and_runs_the_rest():
    """`tox` (CI) runs the envs of env_list: each pytest there deselects ``long`` or selects only ``slow``, and
    `tox -e long` runs them, so a long check is neither lost nor run in CI's 30 minutes."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "tox.ini")
    default = cfg["tox"]["env_list"].replace(",", " ").split()
    assert "long" not in default and "pytest -m long" in cfg["testenv:long"]["commands"]
    for env in default:
        command = cfg[f"testenv:{env}"]["commands"]
        if "pytest" in command:
            assert '-m "not slow and not long"' in command or "-m slow " in command, (env, command)
    assert "ruff check" in cfg["testenv:lint"]["commands"] and "lint" in default  # the house rules, in CI too
    setup = configparser.ConfigParser(interpolation=None)
    setup.read(REPO / "setup.cfg")
    assert "long:" in setup["tool:pytest"]["markers"]


def test_no_tox_description_reads_as_a_factor_condition():
    """tox 4 takes a line that starts "word: " as a factor condition (the value only for envs with that factor),
    so `description = benchmark: ...` gave every bench env an empty description and listed a phantom env."""
    import re

    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "tox.ini")
    for section in (s for s in cfg.sections() if s.startswith("testenv:")):
        description = cfg[section].get("description", "")
        assert description and not re.match(r"[\w,!-]+:\s", description), (section, description)


def test_xor_fast_path_makes_the_plain_recipes_updates():
    """60 full-batch epochs as one fit of 60 steps give the plain fit(epochs=60) result."""
    import keras
    import numpy as np

    from keras_lecture_zoo import zoo
    from keras_lecture_zoo.reproductions.engine.loop import _fit_full_batch
    from keras_lecture_zoo.zoo import data

    x, y = data.xor()
    target = targets.get("xor.keras_model3")

    def fresh(spe=1):
        keras.utils.set_random_seed(5)
        model = zoo.xor_model3(seed=5)
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mean_squared_error", steps_per_execution=spe)
        return model

    plain = fresh()
    plain.fit(x, y, batch_size=4, epochs=60, verbose=0)
    fast = fresh(10)
    history, diverged = _fit_full_batch(fast, {"x_train": x, "y_train": y}, 60, target.recipe)
    assert diverged is None and int(fast.optimizer.iterations.numpy()) == 60
    assert [row["Epoch"] for row in history] == list(range(10, 61, 10))
    for a, b in zip(plain.get_weights(), fast.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    assert not np.allclose(plain.get_weights()[0], zoo.xor_model3(seed=5).get_weights()[0])  # it did train


def test_missed_row_stays_with_its_cause_and_report_hook_output(tmp_path):
    import dataclasses

    from keras_lecture_zoo.reproductions.spec import Reference

    def hook(results, folder):
        (folder / "extra.txt").write_text(str(sorted(results)))
        return "## Extra section"

    target = dataclasses.replace(
        tiny_target(epochs=1),
        references=(Reference("test_accuracy", 1.5, "impossible", compare=">=", cls="sanity"),),
        causes={"test_accuracy": lambda results: f"the reference is above 1 on purpose ({len(results)} seeds)"},
        report=hook,
    )
    rows = _run(target, tmp_path)
    assert rows[0]["verdict"] == "not reproduced"
    text = (tmp_path / "tiny.mlp" / "summary.md").read_text()
    line = next(x for x in text.splitlines() if x.startswith("- `test_accuracy` (not reproduced): "))
    assert "seeds where test_accuracy >= 1.5 fails: seed 0: " in line  # computed from the run's numbers
    assert line.endswith("Likely cause: the reference is above 1 on purpose (2 seeds)")
    assert "## Extra section" in text
    assert (tmp_path / "tiny.mlp" / "extra.txt").read_text() == "[0, 1]"


# --------------------------------------------------------------------------- --jobs: seeds in parallel processes


def test_jobs_run_seeds_in_processes_with_the_serial_numbers(tmp_path, capsys):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    common = ["run", "xor.keras_model2", "--quick", "--seeds", "3", "--verbose", "0"]
    assert main(common + ["--output-dir", str(serial)]) == 0
    assert main(common + ["--jobs", "2", "--output-dir", str(parallel)]) == 0
    out = capsys.readouterr().out
    assert out.count("started in process") == 3 and "3 seeds in 2 parallel processes" in out
    (ms, hs), (mp, hp) = _numbers(serial, "xor.keras_model2"), _numbers(parallel, "xor.keras_model2")
    pd.testing.assert_frame_equal(ms, mp, check_exact=True)
    assert hs == hp and len(hs) == 3
    assert json.loads((parallel / "xor.keras_model2" / "run.json").read_text())["jobs"] == 2
    assert not (parallel / ".work" / "xor.keras_model2").exists()


def test_seed_processes_that_refuse_for_missing_data_exit_2_and_leave_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    empty = tmp_path / "no-data"
    empty.mkdir()
    assert (
        main(
            [
                "run",
                "fashion.mlp",
                "--quick",
                "--seeds",
                "2",
                "--jobs",
                "2",
                "--data-dir",
                str(empty),
                "--output-dir",
                str(tmp_path / "out"),
                "--verbose",
                "0",
            ]
        )
        == 2
    )
    captured = capsys.readouterr()
    assert "FAILED (exit 2)" in captured.out
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: fashion_mnist file") and "not found" in err[0]
    assert not (tmp_path / "out").exists()
    assert main(["run", "gates", "--jobs", "0", "--output-dir", str(tmp_path / "out")]) == 2


def test_a_killed_seed_process_fails_the_run_and_resume_finishes_it(tmp_path, monkeypatch, capsys):
    """Workers killed right after writing their seed (a crash, not a refusal): exit 1, the finished
    seeds' work stays, and --resume assembles the results from it."""
    out = tmp_path / "out"
    argv = [
        "run",
        "xor.keras_model2",
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
    monkeypatch.setenv("ZOO_FAULT_KILL", "seed-done")
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "FAILED (exit -9)" in captured.out and "rerun with --resume" in captured.err
    assert (out / ".work" / "xor.keras_model2" / "seed_1" / "done.json").is_file()
    monkeypatch.delenv("ZOO_FAULT_KILL")
    assert main(argv + ["--resume"]) == 0
    assert capsys.readouterr().out.count("already finished") == 2
    assert pd.read_csv(out / "xor.keras_model2" / "metrics.csv")["seed"].tolist() == [0, 1]


@pytest.mark.parametrize("networks", [1, 2, 4])
def test_per_network_curves_keep_their_legend_inside_the_figure(tmp_path, monkeypatch, networks):
    """The one- and two-panel figures (residual.fashion_resnet20, residual.fashion_densenet) clipped their
    one-row legend, and then their title, at both sides; every entry must lie within the figure."""
    rows = [
        {
            "Network": f"net{n}",
            "Epoch": e,
            "Train Loss": 1 / e,
            "Validation Loss": 1.1 / e,
            "Train Accuracy": 1 - 0.5 / e,
            "Validation Accuracy": 1 - 0.6 / e,
        }
        for n in range(networks)
        for e in (1, 2, 3)
    ]
    saved = {}
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: saved.setdefault("fig", fig))
    figures.network_curves(
        tmp_path / "curves.png",
        tiny_target("residual.fashion_resnet20"),
        {0: pd.DataFrame(rows), 1: pd.DataFrame(rows)},
    )
    fig = saved["fig"]
    renderer = fig.canvas.get_renderer()
    box, legend = fig.bbox, fig.legends[0].get_window_extent(renderer)
    assert box.x0 <= legend.x0 and legend.x1 <= box.x1 and box.y0 <= legend.y0, (networks, legend, box)
    for ax in fig.axes:  # and the panels' x labels stay above the legend
        assert ax.get_tightbbox(renderer).y0 >= legend.y1 - 1, (networks, ax.get_title())
    # the title (cut at both sides of a one-panel figure) lies within the figure, above the panels
    title = fig._suptitle.get_window_extent(renderer)
    assert box.x0 <= title.x0 and title.x1 <= box.x1 and title.y1 <= box.y1, (networks, title, box)
    assert all(ax.get_tightbbox(renderer).y1 <= title.y0 + 1 for ax in fig.axes), networks


def test_epoch_ticks_are_compact_numbers():
    assert [figures._compact_number(x) for x in (0, 250, 5000, 200_000, 1_500_000)] == [
        "0",
        "250",
        "5k",
        "200k",
        "1.5M",
    ]


@pytest.mark.parametrize("final, log", [(1e-4, True), (0.05, False)])
def test_curves_put_a_loss_spanning_decades_on_a_log_axis(tmp_path, monkeypatch, final, log):
    """A fit whose loss falls from 0.5 to 1e-4 drew its last three decades as a flat line at 0 on a linear axis;
    a loss within a factor of 30 stays linear. Epoch ticks are compact (200,000 epochs ran their labels together)."""
    epochs = [250 * i for i in range(1, 801)]
    rows = [
        {"Epoch": e, "Train Loss": 0.5 * (final / 0.5) ** (i / 799), "Network": n}
        for n in ("a", "b")
        for i, e in enumerate(epochs)
    ]
    single = [{k: v for k, v in r.items() if k != "Network"} for r in rows[:800]]
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: drawn.append(fig))
    figures.draw_curves(tmp_path / "c.png", tiny_target(), {0: {"history": rows}})
    figures.draw_curves(tmp_path / "c.png", tiny_target(), {0: {"history": single}})
    for fig in drawn:
        loss_axes = [ax for ax in fig.axes if ax.get_ylabel() == "loss" or ax.get_title() in ("a", "b")]
        assert loss_axes and all((ax.get_yscale() == "log") == log for ax in loss_axes)
        fig.canvas.draw()
        low, high = loss_axes[0].get_xlim()
        labels = [t.get_text() for t in loss_axes[0].get_xticklabels() if low <= t.get_position()[0] <= high]
        assert 2 <= len(labels) <= 7 and "200k" in labels, labels


def test_summary_shows_the_training_curves_once(tmp_path):
    """curves.png is drawn for every run with a history; the summary shows it under "Training curves" unless the
    target's own report already does, and says nothing of it when there is no history."""
    rows = []
    results = {0: {"metrics": {}, "history": [{"Epoch": 1, "Train Loss": 1.0}], "wall_time": 1.0}}
    shown = report._summary_markdown(tiny_target(), rows, results, {}, "", curves=True)
    assert shown.count("](curves.png)") == 1 and "## Training curves" in shown
    own = report._summary_markdown(tiny_target(), rows, results, {}, "![mine](curves.png)", curves=True)
    assert own.count("](curves.png)") == 1 and "## Training curves" not in own
    assert "curves.png" not in report._summary_markdown(tiny_target(), rows, results, {}, "", curves=False)


def test_epoch_times_list_networks_in_the_order_of_their_numbers():
    """run.json keeps its keys sorted (width_16 before width_2); the summary reads the numbers as numbers."""
    per = {n: {"mean": 1.0, "min": 1.0, "max": 1.0, "epochs": 3} for n in ("lr0.01", "lr0.003", "width_16", "width_2")}
    (line,) = report._epoch_time_lines({"seconds_per_epoch": json.loads(json.dumps(per, sort_keys=True))})
    assert [part.split()[0] for part in line.split(": ", 1)[1].split("; ")] == [
        "lr0.003",
        "lr0.01",
        "width_2",
        "width_16",
    ]
