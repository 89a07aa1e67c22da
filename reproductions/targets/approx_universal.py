"""approx.universal: one hidden sigmoid layer fits a bounded continuous 1-D function better and better as
it widens (Cybenko 1989; L001, L002): error vs width, with the fits drawn."""

import statistics
import time

import numpy as np
from scipy.special import expit
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import derive_seed
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure, seed_table
from keras_lecture_zoo.reproductions.spec import Change, Profile, Reference, Target, seed_values
from keras_lecture_zoo.zoo import data

SOURCE = "Cybenko 1989; L001, L002 (universal approximation)"
FUNCTION = "wiggle"  # sin(3πx) + 0.5 sin(9πx) on [0, 1]
WIDTHS = (1, 2, 4, 8, 16, 32, 64)
ITERATIONS = 5000  # Levenberg–Marquardt iterations per start
RESTARTS = 5  # random starts per width; the one with the lowest validation MSE is kept
LOG_EVERY = 50  # a history row every this many iterations
VALIDATION_KEY = 0x76616C  # "val": the stream of the validation points within a seed


def forward(weights, x):
    """The network's output and hidden activations, in float64: ``weights`` are the Keras model's
    [kernel (1, w), bias (w,), kernel (w, 1), bias (1,)] of 1 → w sigmoid → 1 linear."""
    w1, b1, w2, b2 = weights
    hidden = expit(x @ w1 + b1)
    return hidden @ w2 + b2, hidden


def jacobian(weights, x):
    """d output / d parameters, one row per point, columns in the order of the flattened weights."""
    _, hidden = forward(weights, x)
    slope = hidden * (1.0 - hidden) * weights[2].T  # d output / d pre-activation of each hidden unit
    return np.hstack([slope * x, slope, hidden, np.ones((len(x), 1))])


def levenberg_marquardt(weights, x, y, iterations):
    """Least-squares fit of ``weights`` to (x, y) by Levenberg–Marquardt (Marquardt's diagonal scaling; the
    damping falls ×3 after a step that lowers the loss and rises ×2 until one does), in float64. Stops early
    when no step lowers the loss. Returns (weights, [(iteration, training MSE)] every LOG_EVERY iterations)."""
    shapes = [np.shape(w) for w in weights]
    sizes = [int(np.prod(s)) for s in shapes]

    def unflatten(theta):
        return [part.reshape(s) for part, s in zip(np.split(theta, np.cumsum(sizes)[:-1]), shapes)]

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64).reshape(-1)
    theta = np.concatenate([np.asarray(w, np.float64).ravel() for w in weights])
    residual = forward(unflatten(theta), x)[0].reshape(-1) - y
    loss, damping, rows = residual @ residual, 1e-3, []
    for iteration in range(1, iterations + 1):
        jac = jacobian(unflatten(theta), x)
        curvature, gradient = jac.T @ jac, jac.T @ residual
        scale = np.diag(np.diag(curvature) + 1e-12)
        while damping < 1e12:
            try:
                step = np.linalg.solve(curvature + damping * scale, -gradient)
            except np.linalg.LinAlgError:
                damping *= 2
                continue
            trial = forward(unflatten(theta + step), x)[0].reshape(-1) - y
            if trial @ trial < loss:
                theta, residual, loss = theta + step, trial, trial @ trial
                damping = max(damping / 3, 1e-12)
                break
            damping *= 2
        else:  # no damping lowers the loss: a minimum to the precision of float64
            if not rows or rows[-1][0] != iteration - 1:
                rows.append((iteration - 1, loss / len(y)))
            break
        if iteration % LOG_EVERY == 0 or iteration == iterations:
            rows.append((iteration, loss / len(y)))
    return unflatten(theta), rows


def validation_points(seed, n=256):
    """Points drawn uniformly on [0, 1] (seeded), off the training grid, for choosing among the starts."""
    return data.function_samples(FUNCTION, n, seed=derive_seed(seed, VALIDATION_KEY))


def fit_width(width, seed, ctx):
    """Fit 1 → width (sigmoid) → 1 to 256 grid points from RESTARTS Glorot starts by Levenberg–Marquardt, keep
    the start with the lowest MSE on the validation points; return (rmse, max error, curve, details) on a finer
    grid of 1,001 points, in float64."""
    import keras

    x, y = (a.astype(np.float64) for a in data.function_samples(FUNCTION, 256))
    xv, yv = (a.astype(np.float64) for a in validation_points(seed))
    xt, yt = (a.astype(np.float64) for a in data.function_samples(FUNCTION, 1001))  # finer than the training grid
    iterations, restarts = ctx.options["iterations"], ctx.options["restarts"]
    best, t0 = None, time.perf_counter()
    for start in range(restarts):
        keras.utils.set_random_seed(derive_seed(seed, width, start))
        model = zoo.universal_approximator(width=width)
        with threadpool_limits(limits=1):  # one BLAS thread: the same sums, serially and under --jobs
            weights, rows = levenberg_marquardt(model.get_weights(), x, y, iterations)
        val_mse = float(np.mean((forward(weights, xv)[0] - yv) ** 2))
        if best is None or val_mse < best[0]:
            best = (val_mse, start, model, weights, rows)
    val_mse, start, model, weights, rows = best
    seconds = time.perf_counter() - t0
    model.set_weights([w.astype("float32") for w in weights])
    prediction = forward(weights, xt)[0]
    err = (prediction - yt).reshape(-1)
    rmse, max_err = float(np.sqrt(np.mean(err**2))), float(np.abs(err).max())
    keras_rmse = float(np.sqrt(np.mean((model.predict(xt.astype("float32"), verbose=0, batch_size=1001) - yt) ** 2)))
    key = f"width_{width}"
    ctx.history.extend({"Epoch": it, "Train Loss": float(mse), "Network": key} for it, mse in rows)
    ctx.keep_network(
        key,
        model,
        {"rmse": rmse, "max_error": max_err, "validation_mse": val_mse},
        {
            "loop": "Levenberg–Marquardt in float64 (approx_universal.levenberg_marquardt)",
            "iterations": iterations,
            "restarts": restarts,
            "kept_start": start,
            "training_points": len(x),
        },
    )
    details = {
        "kept_start": start,
        "iterations_run": rows[-1][0],
        "train_mse": rows[-1][1],
        "validation_mse": val_mse,
        "largest_weight": float(max(np.abs(w).max() for w in weights)),
        "keras_float32_rmse": keras_rmse,
        "seconds_all_starts": round(seconds, 2),
    }
    return rmse, max_err, prediction[::5].reshape(-1).tolist(), details


def compute(seed, ctx):
    out, curves, fits = {}, {}, {}
    for width in WIDTHS:
        rmse, max_err, curve, details = fit_width(width, seed, ctx)
        out[f"rmse(width={width})"], out[f"max_error(width={width})"] = rmse, max_err
        curves[str(width)], fits[str(width)] = curve, details
        print(
            f"  width {width}: RMSE {rmse:.3g} (start {details['kept_start']} of {ctx.options['restarts']}, "
            f"{details['seconds_all_starts']:.1f} s)",
            flush=True,
        )
    out["rmse_ratio_widest_vs_narrowest"] = out[f"rmse(width={WIDTHS[-1]})"] / out[f"rmse(width={WIDTHS[0]})"]
    errors = [out[f"rmse(width={w})"] for w in WIDTHS]
    out["doublings_that_reduce_rmse"] = float(np.mean(np.diff(errors) < 0))
    out["spearman_width_vs_rmse"] = float(spearmanr(WIDTHS, errors).statistic)
    ctx.extras["curves"], ctx.extras["fits"] = curves, fits
    return out


def report(results, folder):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4))
    for kind, style in (("rmse", "o-"), ("max_error", "s--")):
        for seed, r in sorted(results.items()):  # per seed: the errors span six decades, too far for ± std bars
            axes[0].plot(
                WIDTHS,
                [r["metrics"][f"{kind}(width={w})"] for w in WIDTHS],
                style,
                ms=4,
                alpha=0.7,
                color=f"C{seed % 10}",
                label=f"{kind}, seed {seed}",
            )
    axes[0].set(
        xscale="log", yscale="log", xlabel="hidden units", ylabel="error on 1,001 grid points", title="Error vs width"
    )
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
    """Training MSE against Levenberg–Marquardt iteration for every width (the kept start's) on one log-log
    panel, mean over seeds: where a wider net's curve ends above a narrower one's, the fit, not the width, set
    its error."""
    import pandas as pd

    histories = {seed: pd.DataFrame(r["history"]) for seed, r in sorted(results.items()) if r["history"]}
    if not histories:
        return
    colors = pyplot().cm.viridis(np.linspace(0, 0.9, len(WIDTHS)))
    for color, width in zip(colors, WIDTHS):
        table = seed_table(histories, "Train Loss", f"width_{width}")
        if table is not None:
            mean = table.ffill().mean(axis=1)  # a fit that stopped early stays at its last MSE
            ax.plot(mean.index, mean, color=color, lw=1.2, label=f"width {width}")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="Levenberg–Marquardt iteration",
        ylabel="training MSE (256 points)",
        title=f"Training MSE, mean of {len(histories)} seeds",
    )
    ax.legend(fontsize=7, ncol=2)


TARGET = Target(
    name="approx.universal",
    title="Universal approximation: error vs hidden-layer width",
    source=SOURCE,
    kind="custom",
    compute=compute,
    report=report,
    references=(
        Reference(
            "spearman_width_vs_rmse",
            0.0,
            SOURCE,
            compare="<",
            cls="claim",
            margin=0.9,
            label="error falls as width grows: rank correlation of width and RMSE below −0.9",
            history=(
                Change(
                    "every seed <= -0.9",
                    "2026-11-23",
                    "restated as a claim against no correlation, with the same effect size",
                ),
            ),
        ),
        Reference(
            "rmse_ratio_widest_vs_narrowest",
            1.0,
            SOURCE,
            compare="<",
            cls="claim",
            margin=0.8,
            label="RMSE at width 64 below a fifth of width 1's",
            history=(
                Change(
                    "every seed < 0.2",
                    "2026-11-23",
                    "restated as a claim against no improvement (ratio 1), with the same effect size",
                ),
            ),
        ),
    ),
    full=Profile(seeds=3, options={"iterations": ITERATIONS, "restarts": RESTARTS}),
    quick=Profile(seeds=1, options={"iterations": 500, "restarts": 2}),
    notes=(
        f"Target f(x) = sin(3πx) + 0.5 sin(9πx) on [0, 1] (zoo.data.target_function({FUNCTION!r})), 256 evenly "
        "spaced training points; zoo.universal_approximator(width) = 1 → width sigmoid → 1 linear. The theorem is "
        "about existence (a net of some width gets within any ε), not about what an optimiser finds, so each width "
        f"is fitted as well as a least-squares method can: {RESTARTS} Glorot starts (the Keras model's own "
        "initialisers, seeded per seed, width and start), each fitted by Levenberg–Marquardt in float64 on one "
        f"BLAS thread (so the same bits serially and under --jobs) for up to {ITERATIONS:,} iterations (500 "
        "iterations and 2 starts in the quick profile), and the start with the lowest MSE on 256 seeded uniform "
        "validation points (off the training grid) kept. Errors are measured in float64 "
        "on 1,001 grid points; details.json gives each width's kept start, training and validation MSE, largest "
        "weight, fitting seconds and the RMSE of the float32 Keras model holding the same weights. The criteria "
        "test the trend: the rank correlation of width and RMSE, and the RMSE ratio of width 64 to width 1. "
        "Levenberg–Marquardt replaced full-batch Adam: with Adam at a constant rate of 0.01 for 20,000 "
        "steps (results commit 7e81bde), at a cosine-decayed rate over 50,000 (14e2301) and over 200,000 steps "
        "(07fef5d, run at 8b26022), widths 32 and 64 ended above width 16 (mean RMSE 0.110 / 0.113 against 0.055, "
        "0.066 / 0.058 against 0.012, and 0.008 / 0.010 against 0.005), their training MSE still falling when the "
        "schedule ended, so the ordering measured Adam's progress, not the width's capacity. We claim no absolute "
        "error."
    ),
    causes={
        "*": lambda results: (
            "optimisation, not capacity: RMSE per width (mean over seeds) "
            + ", ".join(f"{w}: {statistics.fmean(seed_values(results, f'rmse(width={w})')):.3f}" for w in WIDTHS)
            + "; where a wider net is not better, none of its starts reached the narrower net's fit (details.json: "
            "training and validation MSE per width)"
        )
    },
)
