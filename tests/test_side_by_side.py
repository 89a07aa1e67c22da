"""benchmarks/side_by_side.py: the alternating rounds and the ratios every benchmark prints."""

import ast
from pathlib import Path

import pytest

from benchmarks import side_by_side

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_rounds_alternate_the_order_of_the_sides_and_keep_each_sides_values(capsys):
    calls = []
    values = iter(range(1, 100))

    def side(name):
        def measure():
            calls.append(name)
            return float(next(values))

        return measure

    times = side_by_side.alternate({"a": side("a"), "b": side("b"), "c": side("c")}, 3)
    assert calls == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]
    assert times == {"a": [1.0, 6.0, 7.0], "b": [2.0, 5.0, 8.0], "c": [3.0, 4.0, 9.0]}
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 9 and out[3] == "  round 2 c: 4.000 s"


def test_ratio_best_of_medians_and_per_round():
    times = {"new": [2.0, 4.0, 3.0], "old": [1.0, 2.0, 4.0]}
    r = side_by_side.ratio(times, "new", "old")
    assert (r.best, r.medians, r.per_round, r.rounds) == (2.0, 1.5, 2.0, 3)
    assert str(r) == "best-of-3 2.000, medians 1.500, median of the per-round ratios 2.000"
    rates = side_by_side.ratio({"two": [90.0, 100.0], "one": [50.0, 40.0]}, "two", "one", higher_is_better=True)
    assert rates.best == 2.0  # the largest rate of each side


def test_goal_says_met_or_missed():
    assert side_by_side.goal(1.04, 1.05) == "(goal <= 1.05: met)"
    assert side_by_side.goal(1.06, 1.05) == "(goal <= 1.05: MISSED)"
    assert side_by_side.goal(26.0, 20, ">=") == "(goal >= 20: met)"


@pytest.mark.parametrize("rounds", [0, -1, 1.5, True])
def test_bad_rounds_are_refused_in_one_line(rounds):
    with pytest.raises(ValueError, match=r"^`rounds` must be a positive integer, got"):
        side_by_side.alternate({"a": lambda: 1.0}, rounds)


def test_every_benchmark_that_repeats_its_sides_alternates_them_through_side_by_side():
    """A hand-written rounds loop ran its sides in a fixed order in four benchmarks until 2026-12-06, so a slow
    spell always fell on the same side; every benchmark with rounds now goes through side_by_side.alternate."""
    repeating = []
    for path in sorted(BENCHMARKS.glob("*.py")):
        if path.name == "side_by_side.py":
            continue
        source = path.read_text()
        ast.parse(source)  # every benchmark at least parses
        if "--rounds" in source or "--repeat" in source:
            repeating.append(path.name)
            assert "side_by_side.alternate(" in source, f"{path.name} repeats its sides without side_by_side.alternate"
            assert "for r in range(" not in source, f"{path.name} still writes its own rounds loop"
    assert len(repeating) >= 8
