"""Judging a run: each reference row's verdict over the seeds, in the fixed precedence of spec.VERDICTS, and the
"schedule short" qualifier, granted to a miss only on evidence measured in the run's own history."""

from __future__ import annotations

import math
import statistics

import pandas as pd

from keras_lecture_zoo.reproductions.spec import NOT_REPRODUCED, REPRODUCED, SCHEDULE_SHORT

__all__ = ["summary_rows", "qualifier", "finite_by_seed", "judged_values", "last_epochs"]


def finite_by_seed(metric, results):
    """{seed: value} of a metric over the seeds that did not diverge and gave a finite value, by seed."""
    out = {}
    for seed, r in sorted(results.items()):
        v = None if r.get("diverged_epoch") else r["metrics"].get(metric)
        if v is not None and math.isfinite(v):
            out[seed] = float(v)
    return out


def judged_values(ref, results):
    """{seed: value} a row is judged on: every finite seed, except that a deterministic method's identical values
    count once (its seeds repeat one measurement; n = 1)."""
    finite = finite_by_seed(ref.metric, results)
    if ref.deterministic and finite and len(set(finite.values())) == 1:
        first = min(finite)
        return {first: finite[first]}
    return finite


def _verdict(ref, results, diverged, control=True):
    finite = judged_values(ref, results)
    trained = [all(t.holds(results[s]["metrics"]) for t in ref.trained) for s in finite]
    return ref.verdict(list(finite.values()), diverged, trained if ref.trained else None, control=control)


def verdicts(target, results):
    """{metric: verdict} of every reference; a predicted failure counts only if its control row is reproduced."""
    diverged = sum(1 for r in results.values() if r.get("diverged_epoch"))
    out = {ref.metric: _verdict(ref, results, diverged) for ref in target.references if not ref.predicts_failure}
    for ref in target.references:
        if ref.predicts_failure:
            control = out.get(ref.predicts_failure.control) == REPRODUCED
            out[ref.metric] = _verdict(ref, results, diverged, control=control)
    return out


def summary_rows(target, results, wall_time, run_commit="", judged_commit="", record=None):
    """One row per reference: its class, ours over seeds (mean, std, min, max, n), the reference, the verdict
    under the target's current criteria and, for a miss of a full run that shows it, the "schedule short"
    qualifier with its evidence (``record``: the run.json the results came from)."""
    rows = []
    diverged = sum(1 for r in results.values() if r.get("diverged_epoch"))
    judged = verdicts(target, results)
    for ref in target.references:
        values = list(judged_values(ref, results).values())
        verdict = judged[ref.metric]
        granted, evidence = qualifier(ref, verdict, target, results, record or {})
        rows.append(
            {
                "target": target.name,
                "metric": ref.metric,
                "class": ref.cls,
                "mean": statistics.fmean(values) if values else math.nan,
                "std": statistics.stdev(values) if len(values) > 1 else 0.0 if values else math.nan,
                "min": min(values) if values else math.nan,
                "max": max(values) if values else math.nan,
                "n": len(values),
                "diverged": diverged,
                "reference": ref.value,
                "criterion": ref.criterion(),
                "source": ref.source + (f" ({ref.label})" if ref.label else ""),
                "verdict": verdict,
                "qualifier": f"{SCHEDULE_SHORT}: {evidence}" if granted else "",
                "wall_time_s": round(wall_time, 1),
                "run_commit": run_commit,
                "judged_commit": judged_commit or run_commit,
            }
        )
    return rows


def last_epochs(epochs):
    """How many final epochs measure a curve's late trend: a tenth of the schedule, at least 2."""
    return max(2, math.ceil(epochs / 10))


def qualifier(ref, verdict, target, results, record):
    """(granted, evidence) of the "schedule short" qualifier for one row. Granted only to a "not reproduced"
    row of a full run whose target declares its schedule short of the source's, when the run shows (a) the
    networks trained (the row's trained conditions hold in every seed), (b) every seed ran its schedule to the
    end (no early stop) and (c) the row's progress curve still improved over its last epochs by more than the
    seed-to-seed spread of its final value. The evidence says what was measured, or which test failed."""
    config = record.get("config") or {}
    if verdict != NOT_REPRODUCED or config.get("profile") != "full" or not target.full.short_of:
        return False, ""
    epochs = config.get("epochs") or (ref.progress and (config.get("options") or {}).get(ref.progress.epochs_option))
    if ref.progress is None or not epochs:
        return False, "no training curve is declared for this row, so nothing shows the schedule was short"
    if not ref.trained:
        return False, "no trained condition is declared for this row, so nothing shows the networks trained"
    untrained = [s for s, r in results.items() if not all(t.holds(r["metrics"]) for t in ref.trained)]
    if untrained:
        return False, f"the networks did not train (seeds {untrained})"
    k = last_epochs(epochs)
    parts = []
    for network in ref.progress.networks or (None,):
        ends, gains = [], []
        for seed, r in sorted(results.items()):
            curve = _curve(r["history"], ref.progress.column, network)
            if curve is None or len(curve) < k + 1:
                return False, f"seed {seed}: no {ref.progress.column} curve of {network or 'the network'}"
            if curve.index.max() < epochs:
                return False, (
                    f"seed {seed}: {network or 'the network'} stopped at epoch {curve.index.max()} of "
                    f"{epochs} (an early stop, not the schedule, ended it)"
                )
            sign = 1.0 if ref.progress.better == "higher" else -1.0
            ends.append(float(curve.iloc[-1]))
            gains.append(sign * (float(curve.iloc[-1]) - float(curve.iloc[-1 - k])))
        label = f"{network + ' ' if network else ''}{ref.progress.column}"
        if len(ends) < 2:
            return False, (
                f"{label} improved {gains[0]:+.4g} over the last {k} of {epochs} epochs, but with one seed "
                "the seed-to-seed noise is not measured"
            )
        gain, noise = statistics.fmean(gains), statistics.stdev(ends)
        if not gain > noise:
            return False, (
                f"{label} improved {gain:+.4g} over the last {k} of {epochs} epochs, not more than the "
                f"seed-to-seed spread of its final value ({noise:.4g}): the curve had flattened"
            )
        parts.append(f"{label} still improved {gain:+.4g} over the last {k} epochs (seed spread {noise:.4g})")
    return True, (f"{target.full.short_of}; every seed ran all {epochs} epochs and trained; " + "; ".join(parts))


def _curve(history, column, network):
    """One network's history column by epoch (the rows of ``network``, or all rows), NaNs dropped."""
    if not history:
        return None
    h = pd.DataFrame(history)
    if network is not None:
        if "Network" not in h:
            return None
        h = h[h["Network"] == network]
    if column not in h:
        return None
    curve = h.set_index("Epoch")[column].dropna()
    return curve if len(curve) else None
