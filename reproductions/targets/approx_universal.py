"""approx.universal: one hidden sigmoid layer fits a bounded continuous 1-D function better and better as
it widens (Cybenko 1989; L001, L002): error vs width, with the fits drawn."""

import statistics

import numpy as np
from scipy.stats import spearmanr

import zoo
from reproductions.report import pyplot, save_figure, seed_table
from reproductions.engine import Recipe
from reproductions.spec import Change, Profile, Reference, Target, seed_values
from zoo import data

SOURCE = "Cybenko 1989; L001, L002 (universal approximation)"
FUNCTION = "wiggle"  # sin(3πx) + 0.5 sin(9πx) on [0, 1]
WIDTHS = (1, 2, 4, 8, 16, 32, 64)
STEPS = 200_000


def fit_width(width, steps, ctx):
    """Train 1 → width (sigmoid) → 1 on 256 grid points by full-batch Adam with a cosine-decayed rate (the
    engine's fast path); return (rmse, max error, curve) on a finer grid of 1,001 points."""
    import keras

    x, y = data.function_samples(FUNCTION, 256)
    xt, yt = data.function_samples(FUNCTION, 1001)  # a finer grid than the training points
    recipe = Recipe(build=lambda _seed: zoo.universal_approximator(width=width),
                    optimizer=lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.01, steps)), loss="mse", metrics=(), batch_size=len(x),
                    epochs=steps, full_batch_steps=True, steps_per_execution=250, evaluate=lambda m, d: {})
    _, model = ctx.train_network(f"width_{width}", recipe,
                                 {"x_train": x, "y_train": y, "x_val": None, "y_val": None, "x_test": xt, "y_test": yt})
    pred = model.predict(xt, verbose=0, batch_size=1001)
    err = (pred - yt).reshape(-1)
    return float(np.sqrt(np.mean(err**2))), float(np.abs(err).max()), pred[::5].reshape(-1).tolist()


def compute(seed, ctx):
    steps = ctx.options["steps"]
    out, curves = {}, {}
    for width in WIDTHS:
        rmse, max_err, curve = fit_width(width, steps, ctx)
        out[f"rmse(width={width})"], out[f"max_error(width={width})"] = rmse, max_err
        curves[str(width)] = curve
    out["rmse_ratio_widest_vs_narrowest"] = out[f"rmse(width={WIDTHS[-1]})"] / out[f"rmse(width={WIDTHS[0]})"]
    errors = [out[f"rmse(width={w})"] for w in WIDTHS]
    out["doublings_that_reduce_rmse"] = float(np.mean(np.diff(errors) < 0))
    out["spearman_width_vs_rmse"] = float(spearmanr(WIDTHS, errors).statistic)
    ctx.extras["curves"] = curves
    return out


def report(results, folder):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    for kind, style in (("rmse", "o-"), ("max_error", "s--")):
        values = np.array([[r["metrics"][f"{kind}(width={w})"] for w in WIDTHS] for r in results.values()])
        axes[0].errorbar(WIDTHS, values.mean(0), yerr=values.std(0), fmt=style, capsize=3, label=f"{kind} (mean ± std, {len(values)} seeds)")
    axes[0].set(xscale="log", yscale="log", xlabel="hidden units", ylabel="error on 1,001 grid points", title="Error vs width")
    axes[0].set_xticks(WIDTHS, [str(w) for w in WIDTHS])
    axes[0].legend(fontsize=8)
    xt, yt = data.function_samples(FUNCTION, 1001)
    axes[1].plot(xt, yt, "k-", lw=2, label=f"target ({FUNCTION})")
    curves = results[min(results)]["extras"]["curves"]
    for w in (1, 4, 16, 64):
        axes[1].plot(xt[::5], curves[str(w)], lw=1, label=f"width {w}")
    axes[1].set(xlabel="x", ylabel="f(x)", title=f"Fits, seed {min(results)}")
    axes[1].legend(fontsize=8)
    _training_curves(axes[2], results)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, folder / "approximation.png")
    return "![error vs width, the fits, and the training MSE of every width](approximation.png)"


def _training_curves(ax, results):
    """Training MSE against step for every width on one log-log panel (mean over seeds): where a wider net's
    curve is still above a narrower one's when the rate reaches 0, the optimiser, not the width, set its error."""
    import pandas as pd

    histories = {seed: pd.DataFrame(r["history"]) for seed, r in sorted(results.items()) if r["history"]}
    if not histories:
        return
    colors = pyplot().cm.viridis(np.linspace(0, 0.9, len(WIDTHS)))
    for color, width in zip(colors, WIDTHS):
        table = seed_table(histories, "Train Loss", f"width_{width}")
        if table is not None:
            mean = table.mean(axis=1)
            ax.plot(mean.index, mean, color=color, lw=1.2, label=f"width {width}")
    ax.set(xscale="log", yscale="log", xlabel="training step", ylabel="training MSE (256 points)",
           title=f"Training MSE, mean of {len(histories)} seeds")
    ax.legend(fontsize=7, ncol=2)


TARGET = Target(
    name="approx.universal",
    title="Universal approximation: error vs hidden-layer width",
    source=SOURCE,
    kind="custom",
    compute=compute,
    report=report,
    references=(
        Reference("spearman_width_vs_rmse", 0.0, SOURCE, compare="<", cls="claim", margin=0.9,
                  label="error falls as width grows: rank correlation of width and RMSE below −0.9",
                  history=(Change("every seed <= -0.9", "2026-11-23", "restated as a claim against no correlation, "
                                  "with the same effect size (issue 15)"),)),
        Reference("rmse_ratio_widest_vs_narrowest", 1.0, SOURCE, compare="<", cls="claim", margin=0.8,
                  label="RMSE at width 64 below a fifth of width 1's",
                  history=(Change("every seed < 0.2", "2026-11-23", "restated as a claim against no improvement "
                                  "(ratio 1), with the same effect size (issue 15)"),)),
    ),
    full=Profile(seeds=3, options={"steps": STEPS}),
    quick=Profile(seeds=1, options={"steps": 500}),
    notes=(
        f"Target f(x) = sin(3πx) + 0.5 sin(9πx) on [0, 1] (zoo.data.target_function({FUNCTION!r})), 256 evenly "
        f"spaced training points; zoo.universal_approximator(width) = 1 → width sigmoid → 1 linear; full-batch "
        f"Adam with its rate cosine-decayed from 0.01 to 0 over {STEPS:,} steps (500 in the quick profile), MSE. "
        "Errors are measured on 1,001 grid points. The theorem is about existence, not about what an optimiser "
        "finds, so the criteria test the trend: the rank correlation of width and RMSE and the RMSE ratio of width "
        "64 to width 1. The decay and the longer schedule are issue 19's: with a constant rate of 0.01 for 20,000 "
        "steps (results commit 7e81bde) widths 32 and 64 stalled above width 16 (RMSE 0.110 and 0.113 "
        "against 0.055, means of 3 seeds), Adam's constant step size keeping them from settling; we do not claim "
        "an absolute error. At 50,000 steps (results commit 14e2301, run at 58fc82a) widths 32 and 64 still stalled "
        "above width 16 (RMSE 0.066 and 0.058 against 0.012, means of 3 seeds), so the schedule is 200,000 steps."
    ),
    causes={"*": lambda results: (
        "optimisation, not capacity: RMSE per width (mean over seeds) " + ", ".join(
            f"{w}: {statistics.fmean(seed_values(results, f'rmse(width={w})')):.3f}" for w in WIDTHS)
        + "; where a wider net is not better, Adam did not find the better fit in the step budget")},
)
