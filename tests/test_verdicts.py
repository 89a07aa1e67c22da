"""Verdicts that mean something: every row has a class, claims need an effect beyond the seed noise
and fail on null results, claims about trained networks say "not trained" when they did not train,
causes are computed from the run, and a stored run can be re-judged without touching its numbers."""

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from reproductions import report, targets
from reproductions.suite import configure_determinism, run_target
from reproductions.spec import (CLASSES, FAILS_AS_PREDICTED, NOT_REPRODUCED, NOT_TRAINED, REPRODUCED, SCHEDULE_SHORT,
                                Profile, Reference, Target, Trained, claim_holds)

ALL_REFS = [(t, i, ref) for t in targets.names() for i, ref in enumerate(targets.get(t).references)]
CLAIMS = [(t, i, ref) for t, i, ref in ALL_REFS if ref.cls == "claim"]
_SIGN = {">": 1, ">=": 1, "<": -1, "<=": -1}


def test_every_row_of_every_target_has_a_class():
    assert ALL_REFS and {ref.cls for _, _, ref in ALL_REFS} <= set(CLASSES)
    counts = {c: sum(ref.cls == c for _, _, ref in ALL_REFS) for c in CLASSES}
    assert all(counts.values()), counts  # every class is used


def test_a_row_without_a_class_is_refused():
    with pytest.raises(ValueError, match=r"`cls` \(the row's class\) must be one of \['published', 'claim', 'exact', 'sanity'\]"):
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
    assert not claim_holds([0.1, -0.01])  # two seeds: no mean rule
    assert claim_holds([0.5, 0.6, -0.01, 0.55])  # n >= 3, mean far above 2 standard errors
    assert not claim_holds([1.0, -0.9, 0.2])  # mean 0.1, standard error 0.55


def test_trained_conditions_read_every_seed(tmp_path):
    ref = Reference("gap", 0.0, "src", compare=">", cls="claim", margin=0.1,
                    trained=(Trained("err_a", "<=", 0.5, "a learned"),))
    target = Target(name="t.claim", title="", source="", kind="exact", compute=lambda s, c: {},
                    references=(ref,), full=None, quick=None)
    good = {0: {"metrics": {"gap": 0.3, "err_a": 0.1}}, 1: {"metrics": {"gap": 0.4, "err_a": 0.2}}}
    assert report.summary_rows(target, good, 0)[0]["verdict"] == REPRODUCED
    bad = {**good, 2: {"metrics": {"gap": 0.5, "err_a": 0.9}}}
    assert report.summary_rows(target, bad, 0)[0]["verdict"] == NOT_TRAINED
    assert report.miss_numbers(ref, bad) == "seed 2: err_a = 0.9000, needs <= 0.5 (a learned)"


def test_a_full_run_on_a_declared_short_schedule_misses_as_schedule_short_never_passes():
    """A full profile that says how its schedule falls short turns "not reproduced" and "not trained" into
    "schedule short" (still a miss, with the shortfall; the measured epoch times once, under Run); passes stay passes, and
    a quick run or a profile that is not short keeps the plain verdicts."""
    gap = Reference("gap", 0.0, "src", compare=">", cls="claim", margin=0.1, trained=(Trained("err", "<=", 0.5, "learned"),))
    close = Reference("acc", 0.9, "src", tolerance=0.01, cls="published", tolerance_rule="the source's spread")
    short = Target(name="t.short", title="", source="", kind="exact", compute=lambda s, c: {}, references=(gap, close),
                   full=Profile(seeds=2, short_of="300 of the paper's 64,000 steps"), quick=Profile(seeds=1))
    results = {0: {"metrics": {"gap": 0.0, "err": 0.1, "acc": 0.9}}, 1: {"metrics": {"gap": 0.01, "err": 0.9, "acc": 0.9}}}
    full = {"config": {"profile": "full"}, "seconds_per_epoch": {"net": {"mean": 12.5, "min": 12.0, "max": 13.0, "epochs": 4}}}
    assert report.short_of(short, full) == "300 of the paper's 64,000 steps"
    assert report.short_of(short, {"config": {"profile": "quick"}}) == ""
    rows = report.summary_rows(short, results, 0, short=report.short_of(short, full))
    assert [r["verdict"] for r in rows] == [SCHEDULE_SHORT, REPRODUCED]
    assert [r["verdict"] for r in report.summary_rows(short, results, 0)] == [NOT_TRAINED, REPRODUCED]
    text = report._summary_markdown(short, rows, results, full)
    assert ("- `gap` (schedule short): seed 1: err = 0.9000, needs <= 0.5 (learned). The schedule is short: 300 of "
            "the paper's 64,000 steps (the measured wall time per epoch is under Run)") in text
    epoch_times = "wall time per training epoch on this CPU: net 12.5 s (min 12.0, max 13.0, 4 epochs)"
    assert text.count(epoch_times) == 1 and text.index(epoch_times) > text.index("## Run")
    counts = report.class_counts(__import__("pandas").DataFrame(rows))
    assert counts.set_index("class").loc["all", SCHEDULE_SHORT] == 1


def test_causes_are_computed_not_written():
    for name in targets.names():
        assert all(callable(c) for c in targets.get(name).causes.values()), name
    with pytest.raises(ValueError, match="must be functions of the results, not fixed text"):
        Target(name="t.x", title="", source="", kind="exact", compute=lambda s, c: {}, references=(),
               full=None, quick=None, causes={"m": "a fixed string goes stale"})


def test_rows_changed_after_results_keep_their_history():
    """Every retired row and criterion change names its date and reason; the summary shows them."""
    for name in targets.names():
        t = targets.get(name)
        for change in [c for ref in t.references for c in ref.history] + list(t.retired):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", change.until) and len(change.reason) > 20, (name, change)


def test_overfit_small_duplicates_are_the_same_architecture():
    import keras

    from reproductions.targets.debugging_overfit_small import SAME_AS, models
    import zoo

    def layers(name):
        cfg = json.loads(zoo.build(name).to_json())["config"]["layers"]
        return [(layer["class_name"], {k: v for k, v in layer["config"].items() if k not in ("name", "seed")})
                for layer in cfg]

    for alias, original in SAME_AS.items():
        assert alias not in models() and original in models()
        assert json.dumps(layers(alias), sort_keys=True, default=str) == json.dumps(layers(original), sort_keys=True, default=str)
    keras.backend.clear_session()


def test_derived_double_descent_peak_needs_a_rise_and_a_fall():
    from reproductions.targets.double_descent_mnist import WIDTHS, derive, parameters

    falling = {f"test_loss_H{h}": 1.0 / h for h in WIDTHS}
    assert derive(falling)["peak_prominence"] < 0
    peaked = {f"test_loss_H{h}": 2.0 if abs(math.log2(parameters(h) / 40_000)) <= 1 else 1.0 for h in WIDTHS}
    assert derive(peaked)["peak_prominence"] == pytest.approx(1.0)


def test_derived_dead_fraction_ignores_collapsed_nets():
    from reproductions.targets.activations_dead_relu import derive

    m = {"dead_fraction_lr_0.01": 0.02, "test_accuracy_lr_0.01": 0.93,
         "dead_fraction_lr_1": 0.25, "test_accuracy_lr_1": 0.96,
         "dead_fraction_lr_1.5": 0.8, "test_accuracy_lr_1.5": 0.2}
    assert derive(m)["max_dead_fraction_trained"] == 0.25


def test_rejudge_keeps_the_measured_data_and_remakes_the_verdicts(tmp_path, monkeypatch):
    configure_determinism()
    name = "linear.collapse"
    run_target(targets.get(name), [0, 1], quick=False, data_dir=None, output_dir=tmp_path, resume=False, verbose=0,
               record={"command": "test", "git_commit": "aaaa"})
    folder = tmp_path / name
    measured = {p.name: p.read_bytes() for p in folder.iterdir() if p.name in report.RUN_DATA and p.is_file()}
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
    assert "re-judged from this run's stored metrics under the criteria at commit bbbb" in (folder / "summary.md").read_text()
    index = report.write_index(tmp_path)
    assert list(report.class_counts(index)["class"]) == ["claim", "exact", "all"]
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
    figures = []
    monkeypatch.setattr(report, "save_figure", lambda fig, path: figures.append(fig))
    nets = [f"net{i}" for i in range(15)]
    history = [{"Epoch": e, "Train Loss": 1.0 / e, "Validation Loss": 1.2 / e, "Network": n} for n in nets for e in (1, 2, 3)]
    target = Target(name="t.nets", title="", source="", kind="exact", compute=lambda s, c: {}, references=(),
                    full=None, quick=None)
    report._curves(tmp_path / "c.png", target, {0: {"history": history}, 1: {"history": history}})
    fig = figures[0]
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == nets
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert labels == ["train loss", "validation loss"]


def test_rejudge_cli_names_targets_and_refuses_unknown_ones(tmp_path, capsys):
    from reproductions.__main__ import main

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
    report.write_index(tmp_path, known=["gates.and", "gates.or", "gates.xor"])
    index = (tmp_path / "README.md").read_text()
    assert "Targets with no run in this set yet (1; `python -m reproductions run --publish <target>` adds one): gates.xor." in index
    assert "Folders of targets this code no longer has (1; their rows cannot be rerun): gates.nor." in index
    report.write_index(tmp_path)
    assert "no run in this set" not in (tmp_path / "README.md").read_text()
    published = (root / "results" / "README.md").read_text()
    named = re.search(r"Targets with no run in this set yet \(\d+; [^)]*\): (.*?)\.\n", published)
    missing = set(named.group(1).split(", ")) if named else set()
    have = {p.parent.name for p in (root / "results").glob("*/summary.csv")}
    assert have | missing == set(targets.names()) and not have & missing
    assert "Folders of targets this code no longer has" not in published
