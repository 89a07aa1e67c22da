"""Shared by the double-descent targets: Belkin et al. (2019)'s fully connected MNIST setup (n = 4,000 training
images, one hidden ReLU layer of width H, squared loss on one-hot targets, no regularisation), the per-width
training under their protocol or under one schedule for every width, the figure, and the peak claims."""

import math
import statistics

import numpy as np

from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.report import section
from keras_lecture_zoo.reproductions.spec import REPRODUCED, Profile, Reference, Trained, seed_values
from keras_lecture_zoo.reproductions.targets._practice import mnist

N, K, D = 4000, 10, 784
THRESHOLD = N * K
WIDTHS = (4, 8, 16, 24, 32, 40, 45, 50, 55, 60, 70, 85, 100, 150, 250, 500, 1000)
QUICK_WIDTHS = (4, 50, 250)
# Belkin et al.'s SGD (their supplementary material): batch 128, step 0.01, momentum 0.95, 6,000 epochs; below the
# threshold the step shrinks by 10% every 500 epochs and training stops once the training error is zero
BATCH, LR, MOMENTUM, PAPER_EPOCHS, DECAY_EVERY, DECAY = 128, 0.01, 0.95, 6000, 500, 0.9
PASSES = 10  # passes over the 4,000 images per engine epoch (one history row, one zero-error check)
NEW_WEIGHT_STD = 0.1  # weights not reused: normal, mean 0, variance 0.01
INTERPOLATION_ERROR = 0.001  # "interpolates": at most 4 of the 4,000 training images misclassified


def parameters(h):
    """Weights of 784 → H → 10 with biases."""
    return (D + 1) * h + (h + 1) * K


def below_threshold(h):
    return parameters(h) < THRESHOLD


def width_recipe(h, d, passes, epochs, reuse=None, belkin=True):
    """One width's recipe: Belkin et al.'s SGD on the squared loss for ``epochs`` engine epochs of ``passes``
    passes each. With ``belkin`` (their protocol), below the threshold the step decays and a zero training error
    stops the net, and ``reuse`` (the next smaller net's trained weights) fills the first units; the other weights
    are N(0, 0.01), except the smallest net's, which are Glorot-uniform. Without it every width gets the same
    schedule: a fresh N(0, 0.01) start, a constant step, every pass run."""
    import keras

    steps_per_pass = math.ceil(N / BATCH)
    small = belkin and below_threshold(h)
    init = "glorot_uniform" if small and reuse is None else keras.initializers.RandomNormal(stddev=NEW_WEIGHT_STD)

    def build(_seed):
        model = keras.Sequential(
            [
                keras.Input((D,)),
                keras.layers.Dense(h, activation="relu", kernel_initializer=init, name="hidden"),
                keras.layers.Dense(K, kernel_initializer=init, name="out"),
            ],
            name=f"width_{h}",
        )
        if reuse is not None:
            model.set_weights(reused(model.get_weights(), reuse))
        return model

    def optimizer():
        rate = (
            keras.optimizers.schedules.ExponentialDecay(LR, DECAY_EVERY * steps_per_pass, DECAY, staircase=True)
            if small
            else LR
        )
        return keras.optimizers.SGD(rate, momentum=MOMENTUM)

    return Recipe(
        build=build,
        optimizer=optimizer,
        loss="mse",
        metrics=("accuracy",),
        batch_size=BATCH,
        epochs=epochs,
        passes=passes,
        checkpoint_every=10,
        evaluate=squared_errors,
        callbacks=(lambda _work_dir: [zero_training_error(d["x_train"], d["labels"])]) if small else None,
    )


def reused(fresh, previous):
    """Belkin et al.'s weight reuse: the smaller net's trained weights (hidden kernel, hidden bias, output kernel,
    output bias) in the first units of the larger net's freshly drawn ones."""
    out = [np.array(w) for w in fresh]
    k, b, ko, bo = previous
    units = k.shape[1]
    out[0][:, :units], out[1][:units], out[2][:units, :], out[3][:] = k, b, ko, bo
    out[1][units:] = 0.0
    return out


def zero_training_error(x, labels):
    """A callback that stops the net at the end of the first engine epoch after which it classifies every
    training image correctly (inference mode); Belkin et al. stop their under-parameterised nets there."""
    import keras

    class ZeroTrainingError(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pred = self.model.predict(x, batch_size=len(x), verbose=0)
            if np.all(np.argmax(pred, axis=1) == labels):
                self.model.stop_training = True

    return ZeroTrainingError()


def squared_errors(model, d):
    """Squared error per example (summed over the 10 outputs) and zero-one error, on train and test."""
    out = {}
    for split, (xs, ys, labels) in {
        "train": (d["x_train"], d["y_train"], d["labels"]),
        "test": (d["x_test"], d["y_test"], d["labels_test"]),
    }.items():
        pred = model.predict(xs, batch_size=2000, verbose=0)
        out[f"{split}_loss"] = float(np.mean(np.sum((pred - ys) ** 2, axis=1)))
        out[f"{split}_error"] = float(np.mean(np.argmax(pred, axis=1) != labels))
    return out


def first_past_threshold(widths):
    """The narrowest width with at least n·K parameters: where an interpolating net first exists."""
    return min((h for h in widths if not below_threshold(h)), default=None)


def derive(m, extras):
    """Whether the test loss has a peak near the threshold: the highest test loss within 2× of n·K over the
    higher of (the best under-parameterised width's, the largest width's), minus 1. Positive only when the
    curve rises into the threshold and falls after it; a curve that falls all the way gives a negative value.
    Also the training zero-one error of the first width past n·K (from the per-width table), which must be
    about 0 before a peak there is Belkin et al.'s."""
    out = {}
    widths = {r["width"]: r for r in (extras or {}).get("widths", [])}
    first = first_past_threshold(widths)
    if first is not None:
        out["train_error_at_threshold"] = widths[first]["train_error"]
    loss = {h: m[f"test_loss_H{h}"] for h in WIDTHS if f"test_loss_H{h}" in m}
    near = [v for h, v in loss.items() if THRESHOLD / 2 <= parameters(h) <= 2 * THRESHOLD]
    under = [v for h, v in loss.items() if parameters(h) < THRESHOLD / 2]
    if near and under:
        largest = loss[max(loss)]
        out["peak_prominence"] = max(near) / max(min(under), largest) - 1.0
    return out


def compute(seed, ctx, belkin=True):
    """Train every width of the profile in turn (with ``belkin``, each below the threshold from the last one's
    weights) and measure train and test loss and error."""
    raw = mnist(ctx)
    n = min(N, len(raw["x_train"]))
    onehot = np.eye(K, dtype="float32")
    d = {
        "x_train": raw["x_train"][:n].reshape(n, -1),
        "y_train": onehot[raw["y_train"][:n]],
        "labels": raw["y_train"][:n],
        "x_val": None,
        "y_val": None,
        "x_test": raw["x_test"].reshape(len(raw["x_test"]), -1),
        "y_test": onehot[raw["y_test"]],
        "labels_test": raw["y_test"],
    }
    widths, passes, epochs = ctx.options["widths"], ctx.options["passes"], ctx.profile.epochs
    rows, previous = [], None
    for i, h in enumerate(widths, start=1):
        reuse = previous if belkin and below_threshold(h) else None
        outcome, model = ctx.train_network(f"H{h}", width_recipe(h, d, passes, epochs, reuse, belkin), d)
        m = outcome["metrics"]
        previous = None if outcome["diverged_epoch"] else [np.array(w) for w in model.get_weights()]
        row = {
            "width": h,
            "parameters": parameters(h),
            "seconds": sum(ctx.epoch_seconds[f"H{h}"]),
            "passes": m.get("epochs_run", math.nan) * passes,
            "reused": reuse is not None,
            **{k: m.get(k, math.nan) for k in ("train_loss", "test_loss", "train_error", "test_error")},
        }
        rows.append(row)
        print(
            f"  width {i}/{len(widths)}: H={h} ({row['parameters']:,} parameters, {row['passes']:g} passes): train "
            "loss "
            f"{row['train_loss']:.4f}, test loss {row['test_loss']:.4f}, test error {row['test_error']:.4f} "
            f"({row['seconds']:.0f} s)",
            flush=True,
        )
    ctx.extras["widths"] = rows
    metrics = {}
    for r in rows:
        metrics[f"test_loss_H{r['width']}"] = r["test_loss"]
        metrics[f"test_error_H{r['width']}"] = r["test_error"]
        metrics[f"train_loss_H{r['width']}"] = r["train_loss"]
        metrics[f"train_error_H{r['width']}"] = r["train_error"]
    peak = max(rows, key=lambda r: r["test_loss"])
    metrics["peak_parameters"] = float(peak["parameters"])
    metrics["peak_log2_distance_to_threshold"] = abs(math.log2(peak["parameters"] / THRESHOLD))
    near = [r for r in rows if THRESHOLD / 2 <= r["parameters"] <= 2 * THRESHOLD] or [peak]
    metrics["second_descent_ratio"] = rows[-1]["test_loss"] / max(r["test_loss"] for r in near)
    under = [r["test_loss"] for r in rows if r["parameters"] < THRESHOLD / 2]
    metrics["largest_vs_best_underparameterised"] = rows[-1]["test_loss"] / min(under) if under else math.nan
    return metrics


def protocol_switch(rows):
    """The parameter count between the last width trained from reused weights and the next one trained afresh
    (their geometric mean), where Belkin et al.'s protocol changes; None when no width reused weights."""
    for a, b in zip(rows, rows[1:]):
        if a.get("reused") and not b.get("reused"):
            return math.sqrt(a["parameters"] * b["parameters"])
    return None


def report(results, folder):
    plt = pyplot()
    runs = list(results.values())
    widths = [r["width"] for r in runs[0]["extras"]["widths"]]
    params = np.array([parameters(h) for h in widths])

    def stack(field):
        return np.array([[r[field] for r in run["extras"]["widths"]] for run in runs], dtype=float)

    switch = protocol_switch(runs[0]["extras"]["widths"])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, field, label in ((axes[0], "loss", "squared loss per example"), (axes[1], "error", "zero-one error")):
        for split, color in (("test", "tab:red"), ("train", "tab:blue")):
            arr = stack(f"{split}_{field}")
            ax.plot(params, arr.mean(axis=0), "o-", ms=4, color=color, label=f"{split} (mean of {len(runs)} seeds)")
            if len(arr) > 1:
                ax.fill_between(params, arr.min(axis=0), arr.max(axis=0), color=color, alpha=0.15)
        ax.axvline(THRESHOLD, color="k", ls="--", lw=1, label="interpolation threshold n·K = 40,000")
        if switch:
            ax.axvline(
                switch,
                color="tab:purple",
                ls=":",
                lw=1.5,
                label="protocol switch: reuse + decaying step below, fresh + constant step above",
            )
        ax.set_xscale("log")
        ax.set_xlabel("parameters (784 → H → 10)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    recipe = "Belkin et al.'s protocol" if switch else "one schedule for every width, no weight reuse"
    fig.suptitle(f"Double descent, MNIST n = {N:,}, one hidden layer, squared loss, SGD ({recipe})")
    fig.tight_layout()
    save_figure(fig, folder / "double_descent.png")
    test_loss, test_err, train_loss = stack("test_loss"), stack("test_error"), stack("train_loss")
    train_err = stack("train_error")
    rows = [
        {
            "H": h,
            "parameters": f"{p:,}",
            "train loss": f"{train_loss[:, i].mean():.4f}",
            "test loss (mean, min–max)": (
                f"{test_loss[:, i].mean():.4f} ({test_loss[:, i].min():.4f}–{test_loss[:, i].max():.4f})"
            ),
            "test error": f"{test_err[:, i].mean():.4f}",
            "train error": f"{train_err[:, i].mean():.4f}",
            "passes run": ", ".join(f"{run['extras']['widths'][i].get('passes', math.nan):g}" for run in runs),
            "started from H − 1's weights": "yes" if runs[0]["extras"]["widths"][i].get("reused") else "no",
        }
        for i, (h, p) in enumerate(zip(widths, params))
    ]
    return section(
        "Test loss and error against the parameter count",
        "![double descent](double_descent.png)",
        rows,
    )


INTERPOLATES = Trained(
    "train_error_at_threshold",
    "<=",
    INTERPOLATION_ERROR,
    f"the first width past n·K fits its {N:,} training images to at most "
    f"{round(INTERPOLATION_ERROR * N)} errors, as Belkin et al.'s do",
)


PROTOCOL_ARTEFACT = (
    "the peak sat at H = 50, the last width trained from reused weights at a decaying step, next to "
    "H = 55, the first trained afresh at a constant step, and no width there interpolated (train error "
    "0.5–1.0%)"
)


def references(history=None):
    """The peak claims, judged only where the nets at the threshold interpolate (their curve's premise);
    ``history``: metric -> its Change records."""
    history = history or {}
    return (
        Reference(
            "peak_log2_distance_to_threshold",
            2.0,
            "Belkin et al. 2019, Fig. 3 (MNIST): the test loss peaks at "
            "the interpolation threshold n·K = 40,000 parameters (the worst width within 2× of it, against a null "
            "4× away)",
            compare="<",
            cls="claim",
            margin=1.0,
            trained=(INTERPOLATES,),
            history=history.get("peak_log2_distance_to_threshold", ()),
        ),
        Reference(
            "peak_prominence",
            0.0,
            "Belkin et al. 2019, Fig. 3 (MNIST): the test loss rises into the threshold "
            "and descends again beyond it (highest loss within 2× of n·K over the higher of the best smaller net's "
            "and the largest net's, minus 1)",
            compare=">",
            cls="claim",
            margin=0.1,
            label="the peak stands 10% above both sides",
            trained=(INTERPOLATES,),
            history=history.get("peak_prominence", ()),
        ),
    )


def cause(results):
    """Test loss per width, and the training error of the widths around the threshold."""
    return (
        "test loss per width (mean over seeds): "
        + ", ".join(
            f"H{h} {statistics.fmean(seed_values(results, f'test_loss_H{h}')):.3f}"
            for h in WIDTHS
            if seed_values(results, f"test_loss_H{h}")
        )
        + "; training zero-one error of the first width past n·K per seed: "
        + ", ".join(f"{v:.4f}" for v in seed_values(results, "train_error_at_threshold"))
        + f" (Belkin et al.'s nets interpolate there; {PAPER_EPOCHS:,} passes, as theirs)"
    )


CAUSES = {m: cause for m in ("peak_log2_distance_to_threshold", "peak_prominence")}
# both targets' profiles: every width for Belkin et al.'s 6,000 passes (quick: three widths, four passes)
FULL = Profile(seeds=2, epochs=PAPER_EPOCHS // PASSES, options={"widths": WIDTHS, "passes": PASSES})
QUICK = Profile(seeds=1, epochs=2, train_size=4000, options={"widths": QUICK_WIDTHS, "passes": 2})


def peak_findings(results, rows):
    """An audit of the peak rows: a peak judged reproduced where the nets at the threshold do not interpolate,
    or at the width where the training protocol changes, is an artefact of the protocol, not double descent."""
    findings = []
    judged = [
        r
        for r in rows
        if r["metric"] in ("peak_log2_distance_to_threshold", "peak_prominence") and r["verdict"] == REPRODUCED
    ]
    for seed, r in sorted(results.items()):
        widths = r["extras"].get("widths", [])
        if not judged or not widths:
            continue
        peak = max(widths, key=lambda w: w["test_loss"])
        i = widths.index(peak)
        neighbours = widths[max(i - 1, 0) : i + 2]
        if len({bool(w.get("reused")) for w in neighbours}) > 1:
            findings.append(
                f"seed {seed}: the test-loss peak (H = {peak['width']}) sits at a protocol switch "
                "(weight reuse on one side, a fresh start on the other)"
            )
        first = first_past_threshold({w["width"] for w in widths})
        error = next((w["train_error"] for w in widths if w["width"] == first), None)
        if error is not None and error > INTERPOLATION_ERROR:
            findings.append(
                f"seed {seed}: H = {first}, the first width past n·K, does not interpolate (train error "
                f"{error:.4f} > {INTERPOLATION_ERROR:g}), yet the peak is judged"
            )
    return [f"{', '.join(r['metric'] for r in judged)}: {f}" for f in findings]
