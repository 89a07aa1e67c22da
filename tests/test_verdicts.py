"""Verdicts that mean something: every row has a class, claims need an effect beyond the seed noise
and fail on null results, claims about trained networks say "not trained" when they did not train,
causes are computed from the run, and a stored run can be re-judged without touching its numbers."""

import dataclasses
import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keras_lecture_zoo.reproductions import figures, report, results_folder, results_index, targets
from keras_lecture_zoo.reproductions.spec import (
    CLASSES,
    FAILS_AS_PREDICTED,
    NOT_REPRODUCED,
    NOT_TRAINED,
    REPRODUCED,
    SCHEDULE_SHORT,
    VERDICTS,
    Prediction,
    Profile,
    Progress,
    Reference,
    Target,
    Trained,
    claim_holds,
)
from keras_lecture_zoo.reproductions.suite import RunSettings, configure_determinism, run_target
from keras_lecture_zoo.reproductions.tolerances import binomial_tolerance, separating_tolerances

ALL_REFS = [(t, i, ref) for t in targets.names() for i, ref in enumerate(targets.get(t).references)]
CLAIMS = [(t, i, ref) for t, i, ref in ALL_REFS if ref.cls == "claim"]
_SIGN = {">": 1, ">=": 1, "<": -1, "<=": -1}


def test_every_row_of_every_target_has_a_class():
    assert ALL_REFS and {ref.cls for _, _, ref in ALL_REFS} <= set(CLASSES)
    counts = {c: sum(ref.cls == c for _, _, ref in ALL_REFS) for c in CLASSES}
    assert all(counts.values()), counts  # every class is used


def test_a_row_without_a_class_is_refused():
    with pytest.raises(
        ValueError, match=r"`cls` \(the row's class\) must be one of \['published', 'claim', 'exact', 'sanity'\]"
    ):
        Reference("m", 1.0, "src", compare=">")
    with pytest.raises(ValueError, match="must be one of"):
        Reference("m", 1.0, "src", compare=">", cls="qualitative")


def test_a_claim_needs_an_effect_size_and_a_direction():
    with pytest.raises(ValueError, match=r"a claim needs an effect size, `margin` > 0"):
        Reference("m", 0.0, "src", compare=">", cls="claim")
    with pytest.raises(ValueError, match="a claim compares with one of"):
        Reference("m", 0.0, "src", compare="==", cls="claim", margin=1)
    with pytest.raises(ValueError, match="belong to claims"):
        Reference("m", 0.0, "src", compare=">", cls="sanity", margin=1)
    with pytest.raises(ValueError, match="tolerance_rule"):
        Reference("m", 0.9, "src", tolerance=0.01, cls="published")


@pytest.mark.parametrize("target,index,ref", CLAIMS, ids=[f"{t}:{r.metric}" for t, _, r in CLAIMS])
def test_claim_fails_on_a_null_result(target, index, ref):
    """Identical networks give the null value (no effect) up to seed noise smaller than the claim's effect
    size; whatever the noise's pattern and the number of seeds, the claim must not pass."""
    null = ref.value
    noise = 0.45 * ref.margin
    patterns = [
        [null] * 3,
        [null - noise, null, null + noise],
        [null + _SIGN[ref.compare] * noise] * 5,  # every seed a little the right way: still inside the margin
        list(null + noise * np.sin(np.arange(10))),
        [null + _SIGN[ref.compare] * noise * k / 10 for k in range(1, 11)],
    ]
    for values in patterns:
        verdict = ref.verdict(values, trained=[True] * len(values) if ref.trained else None)
        assert verdict == NOT_REPRODUCED, (values, verdict)


@pytest.mark.parametrize("target,index,ref", CLAIMS, ids=[f"{t}:{r.metric}" for t, _, r in CLAIMS])
def test_claim_can_pass_and_says_not_trained(target, index, ref):
    """A clear effect passes (so the criterion can be met at all); a claim about trained networks whose
    networks did not train gets "not trained", never a pass."""
    effect = [ref.value + _SIGN[ref.compare] * 2 * ref.margin] * 3
    passed = FAILS_AS_PREDICTED if ref.predicts_failure else REPRODUCED
    assert ref.verdict(effect, trained=[True] * 3 if ref.trained else None) == passed
    if ref.trained:
        assert ref.verdict(effect, trained=[True, False, True]) == NOT_TRAINED


def test_noise_rule():
    assert claim_holds([0.1, 0.2])  # every seed beyond the margin
    assert not claim_holds([0.5])  # one seed: no seed noise to stand out of
    assert not claim_holds([0.1, -0.01])  # two seeds: no mean rule
    assert claim_holds([0.5, 0.6, -0.01, 0.55])  # n >= 3, mean far above 2 standard errors
    assert not claim_holds([1.0, -0.9, 0.2])  # mean 0.1, standard error 0.55


def test_trained_conditions_read_every_seed(tmp_path):
    ref = Reference(
        "gap", 0.0, "src", compare=">", cls="claim", margin=0.1, trained=(Trained("err_a", "<=", 0.5, "a learned"),)
    )
    target = Target(
        name="t.claim",
        title="",
        source="",
        kind="exact",
        compute=lambda s, c: {},
        references=(ref,),
        full=None,
        quick=None,
    )
    good = {0: {"metrics": {"gap": 0.3, "err_a": 0.1}}, 1: {"metrics": {"gap": 0.4, "err_a": 0.2}}}
    assert report.summary_rows(target, good, 0)[0]["verdict"] == REPRODUCED
    bad = {**good, 2: {"metrics": {"gap": 0.5, "err_a": 0.9}}}
    assert report.summary_rows(target, bad, 0)[0]["verdict"] == NOT_TRAINED
    assert report.miss_numbers(ref, bad) == "seed 2: err_a = 0.9000, needs <= 0.5 (a learned)"


def _short_target(*refs, epochs=10):
    return Target(
        name="t.short",
        title="",
        source="",
        kind="exact",
        compute=lambda s, c: {},
        references=refs,
        full=Profile(seeds=2, epochs=epochs, short_of="300 of the paper's 64,000 steps"),
        quick=Profile(seeds=1),
    )


def _curve(values, network="net"):
    return [{"Epoch": e, "Train Accuracy": v, "Network": network} for e, v in enumerate(values, start=1)]


GAP = Reference(
    "gap",
    0.0,
    "src",
    compare=">",
    cls="claim",
    margin=0.1,
    trained=(Trained("err", "<=", 0.5, "learned"),),
    progress=Progress("Train Accuracy", "higher", ("net",)),
)
FULL = {"config": {"profile": "full", "epochs": 10}}


def test_schedule_short_is_never_a_verdict_and_not_trained_comes_first():
    """A short schedule no longer turns misses into anything: a net that did not learn is "not trained", a miss is
    "not reproduced"; passes stay passes."""
    close = Reference("acc", 0.9, "src", tolerance=0.01, cls="published", tolerance_rule="the source's spread")
    rising = _curve([0.1 * e for e in range(1, 11)])
    results = {
        0: {"metrics": {"gap": 0.0, "err": 0.1, "acc": 0.9}, "history": rising},
        1: {"metrics": {"gap": 0.01, "err": 0.9, "acc": 0.9}, "history": rising},
    }
    rows = report.summary_rows(_short_target(GAP, close), results, 0, record=FULL)
    assert [(r["verdict"], r["qualifier"]) for r in rows] == [(NOT_TRAINED, ""), (REPRODUCED, "")]
    assert SCHEDULE_SHORT not in VERDICTS
    published = Reference(
        "err",
        0.02,
        "src",
        tolerance=0.001,
        cls="published",
        tolerance_rule="r",
        trained=(Trained("err", "<=", 0.5, "learned"),),
    )
    assert published.verdict([0.9], trained=[False]) == NOT_TRAINED  # any class: not trained first


def _qualified(histories, gaps=(0.0, 0.01), epochs=10):
    results = {s: {"metrics": {"gap": g, "err": 0.1}, "history": h} for s, (g, h) in enumerate(zip(gaps, histories))}
    target = _short_target(GAP, epochs=epochs)
    row = report.summary_rows(target, results, 0, record=FULL)[0]
    return row, report._summary_markdown(target, [row], results, FULL)


def test_schedule_short_qualifier_needs_a_full_schedule_and_a_curve_still_improving_beyond_the_noise():
    """Granted only with the evidence printed: every seed ran all its epochs, the nets trained, and the curve
    still rose over the last epochs by more than the seed-to-seed spread; the verdict stays "not reproduced"."""
    row, text = _qualified([_curve([0.05 * e for e in range(1, 11)]), _curve([0.05 * e + 0.01 for e in range(1, 11)])])
    assert row["verdict"] == NOT_REPRODUCED
    assert row["qualifier"].startswith("schedule short: 300 of the paper's 64,000 steps; every seed ran all 10 epochs")
    assert "net Train Accuracy still improved +0.1 over the last 2 epochs (seed spread 0.007071)" in row["qualifier"]
    assert "Qualifier schedule short: " in text
    counts = results_index.class_counts(pd.DataFrame([row])).set_index("class")
    assert counts.loc["all", NOT_REPRODUCED] == 1 and counts.loc["all", results_index.QUALIFIER_COUNT] == 1


@pytest.mark.parametrize(
    "histories,why",
    [
        ([_curve([0.5] * 10), _curve([0.52] * 10)], "the curve had flattened"),
        ([_curve([0.1 * e for e in range(1, 8)]), _curve([0.1 * e for e in range(1, 11)])], "stopped at epoch 7 of 10"),
        (
            [_curve([0.05 * e for e in range(1, 11)]), _curve([0.05 * e + 0.3 for e in range(1, 11)])],
            "the curve had flattened",
        ),
    ],
)
def test_schedule_short_qualifier_is_refused_with_the_measured_reason(histories, why):
    """A flat curve, an early stop, or a rise smaller than the seeds' spread: a plain miss, and the summary says why."""
    row, text = _qualified(histories)
    assert (row["verdict"], row["qualifier"]) == (NOT_REPRODUCED, "")
    assert why in text and "but this is not 'schedule short'" in text


def test_schedule_short_qualifier_needs_two_seeds_and_a_full_run():
    rising = _curve([0.1 * e for e in range(1, 11)])
    row, text = _qualified([rising], gaps=(0.0,))
    assert (
        row["qualifier"] == ""
        and (
            "net Train Accuracy improved +0.2 over the last 2 of 10 epochs, but with one seed "
            "the seed-to-seed noise is not measured"
        )
        in text
    )
    results = {
        0: {"metrics": {"gap": 0.0, "err": 0.1}, "history": rising},
        1: {"metrics": {"gap": 0.0, "err": 0.1}, "history": rising},
    }
    quick = report.summary_rows(_short_target(GAP), results, 0, record={"config": {"profile": "quick", "epochs": 10}})
    assert quick[0]["qualifier"] == ""


def test_a_predicted_failure_needs_its_citation_and_a_positive_control_that_fits():
    with pytest.raises(ValueError, match="`predicts_failure` is a Prediction"):
        Reference("m", 1.0, "src", compare=">", cls="claim", margin=1.0, predicts_failure=True)
    with pytest.raises(ValueError, match="`cite` must be given"):
        Prediction("", "setup", "control")
    fails = Reference(
        "loss_plain",
        1.0,
        "src",
        compare=">",
        cls="claim",
        margin=1.0,
        predicts_failure=Prediction("He et al. 2016, Fig. 6", "CIFAR-10, 64k steps", "loss_res"),
    )
    control = Reference("loss_res", 1.0, "src", compare="<=", cls="sanity")
    target = Target(
        name="t.pred",
        title="",
        source="",
        kind="exact",
        compute=lambda s, c: {},
        references=(fails, control),
        full=Profile(seeds=1),
        quick=Profile(seeds=1),
    )
    fitted = {s: {"metrics": {"loss_plain": 200.0, "loss_res": 0.5}} for s in (0, 1)}
    rows = report.summary_rows(target, fitted, 0)
    assert [r["verdict"] for r in rows] == [FAILS_AS_PREDICTED, REPRODUCED]
    assert (
        "- `loss_plain`: predicted by He et al. 2016, Fig. 6 (CIFAR-10, 64k steps); positive control: loss_res"
        in report._summary_markdown(target, rows, fitted, {})
    )
    no_control = {s: {"metrics": {"loss_plain": 200.0, "loss_res": 5.0}} for s in (0, 1)}
    assert [r["verdict"] for r in report.summary_rows(target, no_control, 0)] == [NOT_REPRODUCED, NOT_REPRODUCED]


def test_a_deterministic_method_counts_once():
    ref = Reference("acc", 0.84, "src", tolerance=0.01, cls="published", tolerance_rule="r", deterministic=True)
    target = Target(
        name="t.det",
        title="",
        source="",
        kind="exact",
        compute=lambda s, c: {},
        references=(ref,),
        full=Profile(seeds=5),
        quick=Profile(seeds=1),
    )
    same = {s: {"metrics": {"acc": 0.8383}} for s in range(5)}
    row = report.summary_rows(target, same, 0)[0]
    assert (row["n"], row["mean"], row["std"]) == (1, 0.8383, 0.0)
    assert (
        "Deterministic (nothing random in the method: its seeds repeat one measurement, counted once, n = 1): `acc`"
        in report._summary_markdown(target, [row], same, {})
    )
    differing = {**same, 4: {"metrics": {"acc": 0.84}}}
    assert report.summary_rows(target, differing, 0)[0]["n"] == 5  # not identical: every seed counts, and shows it


def test_separating_tolerances_keep_the_windows_of_numbers_a_source_tells_apart_apart():
    """Glorot & Bengio's 2.21 / 1.76 / 1.64% and Srivastava et al.'s 1.25 / 1.06%: no two windows overlap, and a
    tolerance is never wider than two binomial standard errors on 10,000 test images."""
    for values in ((0.0221, 0.0176, 0.0164), (0.0125, 0.0106)):
        tols = separating_tolerances({v: v for v in values})
        for v, (tol, rule) in tols.items():
            assert 0 < tol <= binomial_tolerance(v) + 1e-9 and rule
        for a, b in itertools.combinations(values, 2):
            assert abs(a - b) > tols[a][0] + tols[b][0]
    assert binomial_tolerance(0.02) == pytest.approx(2 * math.sqrt(0.02 * 0.98 / 10_000))


def test_causes_are_computed_not_written():
    for name in targets.names():
        assert all(callable(c) for c in targets.get(name).causes.values()), name
    with pytest.raises(ValueError, match="must be functions of the results, not fixed text"):
        Target(
            name="t.x",
            title="",
            source="",
            kind="exact",
            compute=lambda s, c: {},
            references=(),
            full=None,
            quick=None,
            causes={"m": "a fixed string goes stale"},
        )


def test_rows_changed_after_results_keep_their_history():
    """Every retired row and criterion change names its date and reason; the summary shows them."""
    for name in targets.names():
        t = targets.get(name)
        for change in [c for ref in t.references for c in ref.history] + list(t.retired):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", change.until) and len(change.reason) > 20, (name, change)


def test_overfit_small_duplicates_are_the_same_architecture():
    import keras

    from keras_lecture_zoo import zoo
    from keras_lecture_zoo.reproductions.targets.debugging_overfit_small import SAME_AS, models

    def layers(name):
        cfg = json.loads(zoo.build(name).to_json())["config"]["layers"]
        return [
            (layer["class_name"], {k: v for k, v in layer["config"].items() if k not in ("name", "seed")})
            for layer in cfg
        ]

    for alias, original in SAME_AS.items():
        assert alias not in models() and original in models()
        assert json.dumps(layers(alias), sort_keys=True, default=str) == json.dumps(
            layers(original), sort_keys=True, default=str
        )
    keras.backend.clear_session()


def test_derived_double_descent_peak_needs_a_rise_and_a_fall():
    from keras_lecture_zoo.reproductions.targets._double_descent import WIDTHS, derive, parameters

    falling = {f"test_loss_H{h}": 1.0 / h for h in WIDTHS}
    assert derive(falling, {})["peak_prominence"] < 0
    peaked = {f"test_loss_H{h}": 2.0 if abs(math.log2(parameters(h) / 40_000)) <= 1 else 1.0 for h in WIDTHS}
    assert derive(peaked, {})["peak_prominence"] == pytest.approx(1.0)
    assert "train_error_at_threshold" not in derive(peaked, {})


def test_double_descent_peak_is_judged_only_where_the_threshold_width_interpolates():
    """The first width past n·K (H = 55) must fit its training set (train error ≤ 0.001, read from the per-width
    table) before a peak counts: the published run's 0.005 makes the peak rows "not trained"."""
    from keras_lecture_zoo.reproductions.targets._double_descent import WIDTHS, derive, parameters
    from keras_lecture_zoo.reproductions.targets.double_descent_mnist import TARGET

    peaked = {f"test_loss_H{h}": 2.0 if abs(math.log2(parameters(h) / 40_000)) <= 1 else 1.0 for h in WIDTHS}
    peaked["peak_log2_distance_to_threshold"] = 0.0
    for train_error, verdict in ((0.0, REPRODUCED), (0.005, NOT_TRAINED)):
        extras = {"widths": [{"width": h, "train_error": train_error if h == 55 else 0.5} for h in WIDTHS]}
        assert derive(peaked, extras)["train_error_at_threshold"] == train_error
        results = TARGET.with_derived({s: {"metrics": dict(peaked), "extras": extras, "history": []} for s in (0, 1)})
        assert {r["verdict"] for r in report.summary_rows(TARGET, results, 0)} == {verdict}


def test_derived_dead_fraction_ignores_collapsed_nets():
    from keras_lecture_zoo.reproductions.targets.activations_dead_relu import derive

    m = {
        "dead_fraction_lr_0.01": 0.02,
        "test_accuracy_lr_0.01": 0.93,
        "dead_fraction_lr_1": 0.25,
        "test_accuracy_lr_1": 0.96,
        "dead_fraction_lr_1.5": 0.8,
        "test_accuracy_lr_1.5": 0.2,
    }
    assert derive(m, {})["max_dead_fraction_trained"] == 0.25


def test_rejudge_keeps_the_measured_data_and_remakes_the_verdicts(tmp_path, monkeypatch):
    configure_determinism()
    name = "linear.collapse"
    run_target(
        targets.get(name),
        RunSettings(output_dir=tmp_path, profile="full", seeds=[0, 1], verbose=0),
        record={"command": "test", "git_commit": "aaaa"},
    )
    folder = tmp_path / name
    measured = {p.name: p.read_bytes() for p in folder.iterdir() if p.name in results_folder.RUN_DATA and p.is_file()}
    # the run was judged by an older criterion: make its summary say so, then re-judge under today's
    old = dataclasses.replace(targets.get(name).references[0], value=0.0, compare="<")
    monkeypatch.setattr(targets.get(name), "references", (old,) + targets.get(name).references[1:])
    report.rejudge(tmp_path, "aaaa", {name: targets.get(name)})
    assert (folder / "summary.csv").read_text().count(NOT_REPRODUCED) == 1
    monkeypatch.undo()
    done, skipped = report.rejudge(tmp_path, "bbbb", {name: targets.get(name)})
    assert done == [name] and skipped == []
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in measured} == measured
    import pandas as pd

    summary = pd.read_csv(folder / "summary.csv")
    assert set(summary["verdict"]) == {REPRODUCED} and set(summary["judged_commit"]) == {"bbbb"}
    assert set(summary["run_commit"]) == {"aaaa"}
    assert (
        "re-judged from this run's stored metrics under the criteria at commit bbbb"
        in (folder / "summary.md").read_text()
    )
    index = results_index.write_index(tmp_path)
    assert list(results_index.class_counts(index)["class"]) == ["claim", "exact", "all"]
    assert "Re-judged from their stored runs under later criteria" in (tmp_path / "README.md").read_text()


def test_results_index_counts_per_class_and_readme_quotes_them():
    """results/README.md opens with the counts per class (published first) and the top-level README
    quotes exactly those counts."""
    root = Path(__file__).resolve().parents[1]
    index = (root / "results" / "README.md").read_text()
    table = re.search(r"\| class \| rows \|.*?\n\n", index, re.S).group(0)
    classes = [line.split("|")[1].strip() for line in table.strip().splitlines()[2:]]
    assert classes[0] == "published" and classes[-1] == "all"
    readme = (root / "README.md").read_text()
    quoted = re.search(r"<!-- results counts -->\n(.*?)<!-- /results counts -->", readme, re.S)
    assert quoted, "the README quotes the results counts between <!-- results counts --> markers"
    assert quoted.group(1).strip() == table.strip()


def test_faceted_curves_name_every_network(monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(figures, "save_figure", lambda fig, path: drawn.append(fig))
    nets = [f"net{i}" for i in range(15)]
    history = [
        {"Epoch": e, "Train Loss": 1.0 / e, "Validation Loss": 1.2 / e, "Network": n} for n in nets for e in (1, 2, 3)
    ]
    target = Target(
        name="t.nets", title="", source="", kind="exact", compute=lambda s, c: {}, references=(), full=None, quick=None
    )
    figures.draw_curves(tmp_path / "c.png", target, {0: {"history": history}, 1: {"history": history}})
    fig = drawn[0]
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == nets
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["train loss", "validation loss"]


def test_rejudge_after_a_crash_between_the_swap_renames_keeps_the_run_data(tmp_path):
    """A kill between the two renames of the fallback swap leaves the run only in ``.<target>.old``; a re-judge
    brings it back and judges it, its measured files byte for byte (it once deleted them, exit 0)."""
    from keras_lecture_zoo.reproductions.fileio import aside

    name = "gates.and"
    run_target(
        targets.get(name),
        RunSettings(output_dir=tmp_path, profile="full", seeds=[0], verbose=0),
        record={"command": "test", "git_commit": "aaaa"},
    )
    folder = tmp_path / name
    measured = {p.name: p.read_bytes() for p in folder.iterdir() if p.name in results_folder.RUN_DATA and p.is_file()}
    folder.rename(aside(folder))  # what the crash left: the old folder aside, the new one never renamed in
    done, _ = report.rejudge(tmp_path, "bbbb", {name: targets.get(name)})
    assert done == [name] and not aside(folder).exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in measured} == measured
    assert (folder / "summary.csv").is_file()


def test_a_second_rejudge_of_the_same_target_is_refused_while_one_runs(tmp_path):
    """Re-judging takes the lock a run of the target takes, so two never share a staging folder."""
    from keras_lecture_zoo.reproductions.fileio import LockedError, target_lock

    name = "gates.and"
    run_target(
        targets.get(name),
        RunSettings(output_dir=tmp_path, profile="full", seeds=[0], verbose=0),
        record={"command": "test", "git_commit": "aaaa"},
    )
    with target_lock(tmp_path / ".work", name):
        with pytest.raises(LockedError, match="is already being run into"):
            report.rejudge(tmp_path, "bbbb", {name: targets.get(name)})
    assert report.rejudge(tmp_path, "bbbb", {name: targets.get(name)})[0] == [name]


def test_rejudge_cli_names_targets_and_refuses_unknown_ones(tmp_path, capsys):
    from keras_lecture_zoo.reproductions.__main__ import main

    assert main(["run", "gates.and", "gates.or", "--output-dir", str(tmp_path), "--verbose", "0"]) == 0
    before = (tmp_path / "gates.or" / "summary.md").read_bytes()
    assert main(["report", "--output-dir", str(tmp_path), "--rejudge", "gates.and"]) == 0
    assert "re-judged 1 targets" in capsys.readouterr().out
    assert (tmp_path / "gates.or" / "summary.md").read_bytes() == before
    assert main(["report", "--output-dir", str(tmp_path), "--rejudge", "gates.nand"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: --rejudge: unknown target gates.nand")


def test_the_published_index_names_targets_without_a_run_and_folders_without_a_target(tmp_path):
    """A set meant to hold every target says which have no run there and which folders no target of this code
    can rerun; the published index holds every target but the ones it names."""
    import shutil

    root = Path(__file__).resolve().parents[1]
    for name in ("gates.and", "gates.or"):
        shutil.copytree(root / "results" / name, tmp_path / name)
    shutil.copytree(root / "results" / "gates.or", tmp_path / "gates.nor")
    (tmp_path / "README.md").write_text((root / "results" / "README.md").read_text())
    results_index.write_index(tmp_path, known=["gates.and", "gates.or", "gates.xor"])
    index = (tmp_path / "README.md").read_text()
    assert (
        "Targets with no run in this set yet (1; `python -m reproductions run --publish <target>` adds one): gates.xor."
        in index
    )
    assert "Folders of targets this code no longer has (1; their rows cannot be rerun): gates.nor." in index
    results_index.write_index(tmp_path)
    assert "no run in this set" not in (tmp_path / "README.md").read_text()
    published = (root / "results" / "README.md").read_text()
    named = re.search(r"Targets with no run in this set yet \(\d+; [^)]*\): (.*?)\.\n", published)
    missing = set(named.group(1).split(", ")) if named else set()
    have = {p.parent.name for p in (root / "results").glob("*/summary.csv")}
    assert have | missing == set(targets.names()) and not have & missing
    assert "Folders of targets this code no longer has" not in published
