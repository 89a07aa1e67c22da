"""regularization.compare: an over-parameterised MNIST MLP (3×1024 ReLU, 2.9M weights on 10,000 images)
with no regulariser, L1, L2, dropout, max-norm, dropout + max-norm, early stopping and batch norm
(L003, L004): the train/test gap of each. Srivastava et al. (2014)'s full-data dropout nets are
regularization.dropout_max_norm's."""

import math

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.callbacks import EarlyStopping
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.report import section
from keras_lecture_zoo.reproductions.spec import Change, Profile, Reference, Retired, Target, learned, spread
from keras_lecture_zoo.reproductions.targets._data import QUICK_EVAL_SIZE
from keras_lecture_zoo.reproductions.targets._networks import train_networks
from keras_lecture_zoo.reproductions.targets._practice import mnist

SUBSET, EPOCHS, BATCH, LR, MOMENTUM = 10_000, 20, 128, 0.01, 0.9
DROPOUT = dict(input_dropout=0.2, dropout_rate=0.5)  # Srivastava et al.'s rates for MNIST MLPs
MAX_NORM, L1, L2, PATIENCE = 3.0, 1e-5, 1e-4, 5
VARIANTS = {
    "none": {},
    "l1": dict(l1=L1),
    "l2": dict(l2=L2),
    "dropout": DROPOUT,
    "max_norm": dict(max_norm=MAX_NORM),
    "dropout_max_norm": dict(max_norm=MAX_NORM, **DROPOUT),
    "early_stopping": {},
    "batch_norm": dict(batch_norm=True),
}
SRIVASTAVA_RETIRED = (
    "superseded by regularization.dropout_max_norm, which trains these 3×1024 dropout nets on Hinton et al.'s "
    "recipe (rate chosen on validation, decaying; momentum rising) for hundreds of epochs; here they had 10 epochs of "
    "SGD lr 0.01"
)


def derive(m, _extras=None):
    """Test-error gains over no regulariser: a regulariser that narrows the gap by raising the training error
    has not made the net generalise better."""
    return {
        f"test_gain_{k}": m["test_error_none"] - m[f"test_error_{k}"]
        for k in ("dropout", "l2")
        if f"test_error_{k}" in m and "test_error_none" in m
    }


def _learned(*keys):
    return tuple(learned(f"test_error_{k}", f"the {k} net") for k in keys)


def _sgd():
    import keras

    return keras.optimizers.SGD(LR, momentum=MOMENTUM)


def _errors(model, d):
    """Error on the training images the net saw and on the test set, in inference mode (dropout off)."""
    out = {}
    for split in ("train", "test"):
        values = model.evaluate(d[f"x_{split}"], d[f"y_{split}"], batch_size=1024, verbose=0, return_dict=True)
        out[f"{split}_loss"], out[f"{split}_error"] = float(values["loss"]), 1.0 - float(values["accuracy"])
    out["test_accuracy"] = 1.0 - out["test_error"]
    return out


def compute(seed, ctx):
    split = mnist(ctx, validation_size=0.1)  # 54,000 / 6,000: the validation images drive early stopping
    n = min(SUBSET, len(split["x_train"]))
    small = {**split, "x_train": split["x_train"][:n], "y_train": split["y_train"][:n]}
    epochs = ctx.profile.epochs or EPOCHS

    def callbacks(key):
        if key == "early_stopping":
            return [EarlyStopping(monitor="val_loss", patience=PATIENCE, restore_best_weights=True)]
        return []

    builders = {k: (lambda s, kw=kw: zoo.regularized_mlp(**kw)) for k, kw in VARIANTS.items()}
    trained = train_networks(
        ctx, small, builders, epochs=epochs, optimizer=_sgd, batch_size=BATCH, callbacks=callbacks, evaluate=_errors
    )
    ctx.extras["train_images"] = {k: n for k in VARIANTS}
    metrics = {}
    for key, (m, _, outcome) in trained.items():
        for name in ("train_error", "test_error"):
            metrics[f"{name}_{key}"] = math.nan if m is None else m[name]
        metrics[f"gap_{key}"] = metrics[f"test_error_{key}"] - metrics[f"train_error_{key}"]
        if key == "early_stopping" and m is not None:
            metrics["early_stopping_best_epoch"] = m.get("best_epoch", math.nan)
    metrics["gap_reduction_dropout"] = metrics["gap_none"] - metrics["gap_dropout"]
    metrics["gap_reduction_l2"] = metrics["gap_none"] - metrics["gap_l2"]
    return metrics


def report(results, folder):
    plt = pyplot()
    runs = list(results.values())
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    cmap = plt.get_cmap("tab10")
    for i, key in enumerate(VARIANTS):
        hist = [[row for row in r["history"] if row.get("Network") == key] for r in runs]
        n = min(len(h) for h in hist)
        epochs = np.arange(1, n + 1)
        val = np.array([[row["Validation Loss"] for row in h[:n]] for h in hist], dtype=float)
        train = np.array([[row["Train Loss"] for row in h[:n]] for h in hist], dtype=float)
        axes[0].plot(epochs, val.mean(axis=0), "-", color=cmap(i), label=key)
        axes[0].plot(epochs, train.mean(axis=0), ":", color=cmap(i))
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss (solid: validation, dotted: training)")
    axes[0].set_title(f"3×1024 ReLU MLP on {SUBSET:,} MNIST images")
    axes[0].legend(fontsize=8, ncol=2)
    keys = list(VARIANTS)
    train_err = np.array([[r["metrics"][f"train_error_{k}"] for k in keys] for r in runs], dtype=float)
    test_err = np.array([[r["metrics"][f"test_error_{k}"] for k in keys] for r in runs], dtype=float)
    pos = np.arange(len(keys))
    axes[1].bar(pos - 0.2, 100 * train_err.mean(axis=0), 0.4, label="train error", color="tab:blue")
    axes[1].bar(pos + 0.2, 100 * test_err.mean(axis=0), 0.4, label="test error", color="tab:red")
    axes[1].set_xticks(pos, keys, rotation=40, ha="right", fontsize=8)
    axes[1].set_ylabel("error (%), mean over seeds")
    axes[1].set_title("train vs test error")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, folder / "regularization.png")

    def ms(values):
        v = 100 * np.asarray(values, dtype=float)
        return f"{np.nanmean(v):.2f} ± {np.nanstd(v, ddof=1) if len(v) > 1 else 0:.2f}"

    rows = [
        {
            "variant": k,
            "train images": f"{runs[0]['extras']['train_images'][k]:,}",
            "train error %": ms(train_err[:, i]),
            "test error %": ms(test_err[:, i]),
            "gap (test − train) %": ms(test_err[:, i] - train_err[:, i]),
        }
        for i, k in enumerate(keys)
    ]
    return section("Train/test gap per regulariser", "![regularization](regularization.png)", rows)


TARGET = Target(
    name="regularization.compare",
    title="Regularisers on an over-parameterised MNIST MLP: the train/test gap of each",
    source="L003, L004",
    kind="custom",
    compute=compute,
    report=report,
    references=(
        *(
            Reference(
                f"gap_reduction_{k}",
                0.0,
                f"L003, L004: {what} reduces overfitting (smaller test − train gap than no regulariser)",
                compare=">",
                cls="claim",
                margin=0.005,
                label="error differences need half a point",
                trained=_learned("none", k),
                history=(
                    Change(
                        "every seed > 0",
                        "2026-11-23",
                        "L2 passed on a 0.0002 "
                        "difference, two test images and far below the seed noise: a claim needs an effect size",
                    ),
                ),
            )
            for k, what in (("dropout", "dropout"), ("l2", "weight decay"))
        ),
        *(
            Reference(
                f"test_gain_{k}",
                0.0,
                f"L003, L004: {what} improves generalisation (lower test error than no regulariser)",
                compare=">",
                cls="claim",
                margin=0.005,
                label="error differences need half a point",
                trained=_learned("none", k),
            )
            for k, what in (("dropout", "dropout"), ("l2", "weight decay"))
        ),
    ),
    retired=(
        Retired(
            "test_error_full_dropout",
            "± 0.002 of Srivastava et al. 2014, Table 2 (MNIST): dropout NN, ReLU, 3×1024: 1.25%",
            "2026-11-24",
            SRIVASTAVA_RETIRED,
        ),
        Retired(
            "test_error_full_dropout_max_norm",
            "± 0.002 of Srivastava et al. 2014, Table 2 (MNIST): + max-norm: 1.06%",
            "2026-11-24",
            SRIVASTAVA_RETIRED,
        ),
        Retired(
            "max_norm_gain_full",
            "every seed > 0.001, or the mean by 2 standard errors (n ≥ 3) (max-norm lowers "
            "dropout's test error, 1.25% → 1.06%)",
            "2026-11-24",
            SRIVASTAVA_RETIRED,
        ),
    ),
    full=Profile(seeds=2, epochs=EPOCHS),
    quick=Profile(seeds=1, epochs=1, train_size=3000, options={"eval_size": QUICK_EVAL_SIZE}),
    derive=derive,
    causes={
        **{
            f"{kind}_{k}": (
                lambda results, k=k: (
                    f"train error {spread(results, f'train_error_{k}')} and test error "
                    f"{spread(results, f'test_error_{k}')} "
                    f"with {k}, against {spread(results, 'train_error_none')} and "
                    f"{spread(results, 'test_error_none')} without "
                    f"({SUBSET:,} images, {EPOCHS} epochs, SGD lr {LR})"
                )
            )
            for k in ("l2", "dropout")
            for kind in ("gap_reduction", "test_gain")
        },
    },
    notes=(
        "`zoo.regularized_mlp`: 784 → 1024 → 1024 → 1024 → 10 ReLU, He-normal weights (2,913,290 parameters). "
        "Variants, "
        f"trained on the first {SUBSET:,} MNIST training images for {EPOCHS} epochs: none; L1 {L1:g}; L2 {L2:g} (Keras "
        "penalties, added to the loss); dropout 0.2 on the inputs and 0.5 after each hidden layer; max-norm c = "
        f"{MAX_NORM:g} "
        f"on each unit's incoming weights; dropout + max-norm; early stopping on the loss of 6,000 held-out training "
        f"images (patience {PATIENCE}, best weights restored; callbacks.EarlyStopping); BatchNorm before each ReLU. "
        f"All with SGD lr {LR}, momentum {MOMENTUM}, batch {BATCH}; errors in inference mode on the training images "
        "used and on the 10,000 test images; gap = test − train error. Hyper-parameters are the papers' usual values, "
        "fixed before the first run. Srivastava et al.'s full-data dropout nets (1.25% / 1.06%) are "
        "regularization.dropout_max_norm's rows, trained on their recipe."
    ),
)
