"""Side-by-side measurement shared by the benchmarks: each round measures every side once, in the given order on
odd rounds and reversed on even ones, so a slow spell of this noisy machine does not always fall on the same side;
ratios are given best-of-N (interference only ever adds time), on medians, and as the median of the per-round ratios."""

import dataclasses
import statistics


def seconds(value):
    return f"{value:.3f} s"


def alternate(sides, rounds, show=seconds):
    """Measure each of ``sides`` (name -> a function returning one measurement) once per round, alternating the
    order from round to round, printing each measurement with ``show`` (one function, or name -> function);
    returns name -> the list of measurements, in round order."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"`rounds` must be a positive integer, got {rounds!r}.")
    if not sides:
        raise ValueError("`sides` must name at least one side.")
    names = list(sides)
    width = max(len(name) for name in names)
    shows = show if isinstance(show, dict) else dict.fromkeys(names, show)
    values = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            values[name].append(sides[name]())
            print(f"  round {r + 1} {name:{width}s}: {shows[name](values[name][-1])}", flush=True)
    return values


def best(values, higher_is_better=False):
    """The best of a side's measurements: the smallest time, or the largest rate."""
    return max(values) if higher_is_better else min(values)


@dataclasses.dataclass(frozen=True)
class Ratio:
    """``numerator`` side over ``denominator`` side: best over best, median over median, and the median of the
    ratios within each round (the two sides of one round ran moments apart)."""

    best: float
    medians: float
    per_round: float
    rounds: int

    def __str__(self):
        return (
            f"best-of-{self.rounds} {self.best:.3f}, medians {self.medians:.3f}, "
            f"median of the per-round ratios {self.per_round:.3f}"
        )


def ratio(values, numerator, denominator, higher_is_better=False):
    """The :class:`Ratio` of two sides of :func:`alternate`'s ``values``."""
    a, b = values[numerator], values[denominator]
    return Ratio(
        best=best(a, higher_is_better) / best(b, higher_is_better),
        medians=statistics.median(a) / statistics.median(b),
        per_round=statistics.median([x / y for x, y in zip(a, b)]),
        rounds=min(len(a), len(b)),
    )


def goal(value, bound, compare="<="):
    """'(goal <= 1.05: met)' or '... MISSED'."""
    holds = value <= bound if compare == "<=" else value >= bound
    return f"(goal {compare} {bound:g}: {'met' if holds else 'MISSED'})"
