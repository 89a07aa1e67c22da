"""The audit (python -m reproductions audit) reads a results set as a careful outside reader would: each of the
five ways a table could say more than its runs measured is caught, and the published set passes."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pandas as pd

from keras_lecture_zoo.reproductions import report, targets
from keras_lecture_zoo.reproductions.audit import audit, audit_target
from keras_lecture_zoo.reproductions.spec import FAILS_AS_PREDICTED, REPRODUCED, Profile, Reference, Target, Trained

ROOT = Path(__file__).resolve().parents[1]


def _seed(metrics, extras=None, history=()):
    return {
        "metrics": metrics,
        "history": list(history),
        "extras": extras or {},
        "wall_time": 1.0,
        "diverged_epoch": None,
    }


def _target(*refs, **fields):
    return Target(
        name=fields.pop("name", "t.audit"),
        title="",
        source="",
        kind="exact",
        compute=lambda s, c: {},
        references=refs,
        full=fields.pop("full", Profile(seeds=2)),
        quick=Profile(seeds=1),
        **fields,
    )


def _stored(tmp_path, target, results, record=None, edit=None):
    """The folder a run of ``target`` writes, then its summary.csv edited as an older judge wrote it."""
    record = {"config": {"profile": "full"}, "git_commit": "aaaa", **(record or {})}
    report.write_target(tmp_path, target, results, record)
    folder = tmp_path / target.name
    if edit:
        table = pd.read_csv(folder / "summary.csv", keep_default_na=False)
        for metric, changes in edit.items():
            for column, value in changes.items():
                table.loc[table["metric"] == metric, column] = value
        table.to_csv(folder / "summary.csv", index=False)
    return folder


def test_a_schedule_short_label_on_a_miss_is_caught(tmp_path):
    """Finding 1: "schedule short" written as a verdict, on a row whose nets did not even train."""
    gap = Reference(
        "gap", 0.0, "src", compare=">", cls="claim", margin=0.1, trained=(Trained("err", "<=", 0.5, "learned"),)
    )
    target = _target(gap, full=Profile(seeds=2, short_of="300 of 64,000 steps"))
    results = {0: _seed({"gap": 0.0, "err": 0.9}), 1: _seed({"gap": 0.0, "err": 0.9})}
    folder = _stored(tmp_path, target, results, edit={"gap": {"verdict": "schedule short"}})
    findings = audit_target(target, folder)
    assert any("verdict 'schedule short' is not in the closed vocabulary" in f for f in findings)
    assert any("a trained condition fails in the stored run" in f for f in findings)
    clean = _stored(tmp_path / "clean", target, results)
    assert audit_target(target, clean) == []


def test_a_qualifier_without_evidence_or_on_a_pass_is_caught(tmp_path):
    ref = Reference("acc", 0.9, "src", tolerance=0.01, cls="published", tolerance_rule="r")
    target = _target(ref)
    folder = _stored(tmp_path, target, {0: _seed({"acc": 0.9})}, edit={"acc": {"qualifier": "schedule short"}})
    findings = audit_target(target, folder)
    assert any("on a 'reproduced' row" in f for f in findings) and any("prints no evidence" in f for f in findings)


def test_a_double_descent_peak_at_the_protocol_switch_is_caught(tmp_path):
    """Finding 2: the published Belkin-protocol run's shape (peak at H = 50, the last reused width; H = 55 not
    interpolating), judged "reproduced" as it was before the interpolation condition."""
    target = targets.get("double_descent.mnist")
    widths = [
        (40, True, 0.62, 0.010),
        (45, True, 0.70, 0.009),
        (50, True, 0.80, 0.009),
        (55, False, 0.31, 0.005),
        (60, False, 0.30, 0.004),
        (1000, False, 0.37, 0.0),
    ]
    rows = [
        {
            "width": h,
            "reused": r,
            "test_loss": loss,
            "train_error": err,
            "parameters": 785 * h + 10 * (h + 1) + 10,
            "train_loss": 2 * err,
            "test_error": loss / 3,
            "passes": 6000,
        }
        for h, r, loss, err in widths
    ]
    metrics = {f"test_loss_H{h}": loss for h, _, loss, _ in widths}
    metrics.update({"test_loss_H4": 0.73, "peak_log2_distance_to_threshold": 0.0087})
    results = {0: _seed(metrics, {"widths": rows})}
    folder = _stored(
        tmp_path,
        target,
        results,
        edit={m: {"verdict": REPRODUCED} for m in ("peak_log2_distance_to_threshold", "peak_prominence")},
    )
    findings = audit_target(target, folder)
    assert any("sits at a protocol switch" in f for f in findings)
    assert any("does not interpolate (train error 0.0050 > 0.001)" in f for f in findings)


def test_fails_as_predicted_without_a_citation_or_control_is_caught(tmp_path):
    """Finding 3: a failed fit scored as a predicted failure with no cited prediction and no positive control."""
    ref = Reference("loss_ratio_xor_model2", 1.0, "src", compare="<=", cls="sanity")
    target = _target(ref)
    folder = _stored(
        tmp_path,
        target,
        {0: _seed({"loss_ratio_xor_model2": 47.7386})},
        edit={"loss_ratio_xor_model2": {"verdict": FAILS_AS_PREDICTED}},
    )
    assert any(
        "'fails as predicted' without a cited prediction and a positive control" in f
        for f in audit_target(target, folder)
    )


def test_overlapping_windows_and_repeated_deterministic_runs_are_caught(tmp_path):
    """Finding 4: Glorot & Bengio's three errors at ± 0.005 (windows that overlap although the paper tells them
    apart), and a deterministic method reported over five identical seeds."""
    refs = [
        Reference(
            f"test_error_{a}",
            v,
            "Glorot & Bengio 2010, Table 1 (MNIST)",
            tolerance=0.005,
            cls="published",
            tolerance_rule="r",
        )
        for a, v in (("sigmoid", 0.0221), ("tanh", 0.0176), ("softsign", 0.0164))
    ]
    target = _target(*refs, contrasts=(tuple(r.metric for r in refs),))
    folder = _stored(tmp_path, target, {0: _seed({r.metric: r.value for r in refs})})
    overlaps = [f for f in audit_target(target, folder) if "overlap" in f]
    assert (
        len(overlaps) == 3
        and "test_error_tanh / test_error_softsign: windows ± 0.005 and ± 0.005 overlap" in overlaps[2]
    )
    knn = Reference("knn_accuracy", 0.854, "src", tolerance=0.01, cls="published", tolerance_rule="r")
    repeated = _stored(tmp_path / "knn", _target(knn), {s: _seed({"knn_accuracy": 0.8625}) for s in range(5)})
    declared = _target(dataclasses.replace(knn, deterministic=True))
    assert any(
        "a deterministic method reported over n = 5 identical runs" in f for f in audit_target(declared, repeated)
    )


def test_a_source_that_names_another_data_set_is_caught(tmp_path):
    """Finding 5: He et al.'s CIFAR-10 figure cited for a run on Fashion-MNIST without saying so."""
    ref = Reference("gap", 0.0, "He et al. 2016, Fig. 6 (CIFAR-10)", compare=">", cls="claim", margin=0.005)
    target = _target(ref, datasets=("fashion_mnist", "cifar10"))
    results = {0: _seed({"gap": 0.1}), 1: _seed({"gap": 0.1})}
    folder = _stored(tmp_path, target, results)
    assert any(
        "its source names CIFAR-10 but the run trained on Fashion-MNIST" in f for f in audit_target(target, folder)
    )
    said = _target(
        dataclasses.replace(ref, source="He et al. 2016, Fig. 6 (CIFAR-10, 64,000 steps); here Fashion-MNIST"),
        datasets=("fashion_mnist", "cifar10"),
    )
    assert audit_target(said, _stored(tmp_path / "said", said, results)) == []


def test_a_hand_edited_number_or_verdict_is_caught(tmp_path):
    ref = Reference("acc", 0.8833, "src", tolerance=0.01, cls="published", tolerance_rule="r")
    target = _target(ref)
    folder = _stored(
        tmp_path, target, {0: _seed({"acc": 0.784})}, edit={"acc": {"mean": 0.8833, "verdict": REPRODUCED}}
    )
    findings = audit_target(target, folder)
    assert any("the summary says 'reproduced'; its stored measurements give 'not reproduced'" in f for f in findings)
    assert any("does not match metrics.csv" in f for f in findings)


def test_the_published_results_pass_the_audit():
    known = {name: targets.get(name) for name in targets.names()}
    assert audit(ROOT / "results", known) == []


def test_the_audit_command_prints_a_line_per_finding_and_exits_non_zero(tmp_path):
    ref = Reference("acc", 0.9, "src", tolerance=0.01, cls="published", tolerance_rule="r")
    name = targets.names()[0]
    target = dataclasses.replace(targets.get(name))
    folder = _stored(tmp_path, _target(ref, name=name), {0: _seed({"acc": 0.9})})
    assert folder.is_dir() and target.name == name
    done = subprocess.run(
        [sys.executable, "-m", "reproductions", "audit", "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    assert f"{name} acc: no reference of this code judges this row" in done.stdout
    assert "finding(s) over 1 target folders" in done.stderr
    empty = subprocess.run(
        [sys.executable, "-m", "reproductions", "audit", "--output-dir", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert (
        empty.returncode == 2 and empty.stderr.count("\n") == 1 and "holds no target results to audit" in empty.stderr
    )
