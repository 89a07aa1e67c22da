"""Tolerances of published rows, from the statistics of the measurement: two binomial standard errors of a test
error, narrowed where a source tells several numbers apart so that no two rows' windows overlap."""

from __future__ import annotations

import math

__all__ = ["binomial_tolerance", "separating_tolerance", "separating_tolerances", "SEPARATION"]


def binomial_tolerance(error: float, n_test: int = 10_000) -> float:
    """Two binomial standard errors of an error rate (or accuracy) measured once on ``n_test`` test images."""
    return 2.0 * math.sqrt(error * (1.0 - error) / n_test)


SEPARATION = 0.45  # a tolerance at most this share of the smallest gap: the windows of two rows never touch


def separating_tolerances(values: dict, n_test: int = 10_000) -> dict:
    """{name: (tolerance, rule)} for the numbers a source tells apart (``values``: name -> number), each from
    :func:`separating_tolerance` against all the others."""
    return {
        name: separating_tolerance(v, [o for other, o in values.items() if other != name], n_test)
        for name, v in values.items()
    }


def separating_tolerance(value: float, others, n_test: int = 10_000) -> tuple:
    """(tolerance, rule) for one of several numbers a source tells apart: two binomial standard errors of
    ``value``, narrowed to SEPARATION of the smallest gap to ``others`` so that no two windows overlap."""
    two_se = binomial_tolerance(value, n_test)
    gap = min(abs(value - o) for o in others if o != value)
    if two_se <= SEPARATION * gap:
        return round(two_se, 5), (
            f"two binomial standard errors on {n_test:,} test images "
            f"({two_se:.4f}), below half the smallest gap the source draws ({gap:.4f})"
        )
    tol = math.floor(SEPARATION * gap * 1e5) / 1e5
    return tol, (
        f"{SEPARATION:g} of the smallest gap the source draws between the numbers compared ({gap:.4f}), "
        f"so no two windows overlap (two binomial standard errors on {n_test:,} images, {two_se:.4f}, would)"
    )
