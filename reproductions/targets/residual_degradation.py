"""residual.degradation: He et al.'s degradation problem. A deeper plain net (plain-56) trains to a
higher training error than a shallower one (plain-20); with identity shortcuts the deeper net wins
(ResNet-56 below ResNet-20). Same data, schedule and seed for all four networks."""

import statistics

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.figures import pyplot, save_figure
from keras_lecture_zoo.reproductions.report import section
from keras_lecture_zoo.reproductions.spec import Change, Profile, Progress, Reference, Target, learned, spread
from keras_lecture_zoo.reproductions.targets._residual import (
    DATASETS,
    DEGRADATION,
    HE_AUGMENTATION,
    PAPER_STEPS,
    QUICK_TEST_SIZE,
    SCHEDULE,
    nan_if_missing,
    residual_data,
    train_networks,
)

SOURCE = f"He et al. 2016, Fig. 6 (CIFAR-10, {PAPER_STEPS:,} steps; {DEGRADATION.ran})"
HISTORY = (
    "it judged 56-layer nets that had not trained at this budget (plain-56 passed against plain-20 while "
    "ResNet-56 sat 34 points behind ResNet-20); a claim about trained networks now needs them to have "
    "learned, and an effect size"
)


def nets_learned(*names):
    """Trained conditions: each network's training error at most LEARNED_ERROR. A claim about how deep
    nets train is not tested by nets the budget left near chance: ResNet-56 must learn for the degradation of
    plain-56 to be the depth's and not the schedule's."""
    return tuple(learned(f"train_error_{n}", n) for n in names)


def _data(ctx):
    return residual_data(ctx, train_size=DEGRADATION.train_size)


def compute(seed, ctx):
    d = _data(ctx)
    shape = d["x_train"].shape[1:]
    builders = {name: (lambda _seed, name=name: zoo.build(name, input_shape=shape)) for name in DEGRADATION.networks}
    trained = train_networks(ctx, d, builders, epochs=ctx.profile.epochs, augment=HE_AUGMENTATION)
    metrics = {}
    for name, (m, _model) in trained.items():
        for key in ("train_error", "test_error", "train_loss"):
            metrics[f"{key}_{name}"] = nan_if_missing(m, key)
        last = [row for row in ctx.history if row["Network"] == name][-1]
        metrics[f"running_train_error_{name}"] = 1.0 - last["Train Accuracy"]
    metrics["train_error_gap_plain56_minus_plain20"] = metrics["train_error_plain56"] - metrics["train_error_plain20"]
    metrics["train_error_gap_resnet56_minus_resnet20"] = (
        metrics["train_error_resnet56"] - metrics["train_error_resnet20"]
    )
    metrics["train_error_gap_plain56_minus_resnet56"] = metrics["train_error_plain56"] - metrics["train_error_resnet56"]
    ctx.extras["networks"] = {name: m for name, (m, _model) in trained.items()}
    return metrics


def report(results, folder):
    """Training-error curves (running error during each epoch, as He et al. plot) and a final table."""
    import pandas as pd

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = {"plain20": "tab:blue", "plain56": "tab:red", "resnet20": "tab:cyan", "resnet56": "tab:orange"}
    rows = []
    for name in DEGRADATION.networks:
        per_seed = []
        for seed, r in sorted(results.items()):
            h = pd.DataFrame(r["history"])
            if h.empty:
                continue
            h = h[h["Network"] == name]
            per_seed.append(h.set_index("Epoch")["Train Accuracy"].rsub(1.0) * 100)
        if per_seed:
            table = pd.concat(per_seed, axis=1)
            style = "--" if name.startswith("plain") else "-"
            ax.plot(
                table.index,
                table.mean(axis=1),
                style,
                color=colors[name],
                lw=2,
                label=f"{name} (mean of {table.shape[1]})",
            )
            ax.fill_between(table.index, table.min(axis=1), table.max(axis=1), color=colors[name], alpha=0.15)
        values = {
            k: [r["metrics"][f"{k}_{name}"] for r in results.values()]
            for k in ("train_error", "running_train_error", "test_error")
        }
        rows.append(
            {
                "network": name,
                "final train error %": _pm(values["train_error"]),
                "last epoch's running train error %": _pm(values["running_train_error"]),
                "test error %": _pm(values["test_error"]),
            }
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("training error % (running, during the epoch)")
    ax.set_title("Degradation: plain nets (dashed) vs ResNets (solid)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, folder / "training_error.png")
    return section(
        "Final errors (mean ± std over seeds)",
        rows,
        "![training error](training_error.png)",
    )


def _pm(values):
    values = [100 * v for v in values]
    if len(values) > 1:
        return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"
    return f"{values[0]:.2f}"


TARGET = Target(
    name="residual.degradation",
    title="Degradation: plain-20/56 vs ResNet-20/56, same schedule",
    source="L004",
    kind="custom",
    compute=compute,
    report=report,
    datasets=DATASETS,
    references=(
        Reference(
            "train_error_gap_plain56_minus_plain20",
            0.0,
            SOURCE + ": plain-56 trains worse than plain-20",
            compare=">",
            cls="claim",
            margin=0.005,
            label="error differences need half a point",
            trained=nets_learned("plain20", "plain56", "resnet56"),
            history=(Change("every seed > 0", "2026-11-23", HISTORY),),
        ),
        Reference(
            "train_error_gap_resnet56_minus_resnet20",
            0.0,
            SOURCE + ": ResNet-56 beats ResNet-20",
            compare="<",
            cls="claim",
            margin=0.005,
            label="error differences need half a point",
            trained=nets_learned("resnet20", "resnet56"),
            history=(Change("every seed < 0", "2026-11-23", HISTORY),),
            progress=Progress("Train Accuracy", "higher", ("resnet56",)),
        ),
        Reference(
            "train_error_gap_plain56_minus_resnet56",
            0.0,
            SOURCE + ": shortcuts fix the 56-layer net",
            compare=">",
            cls="claim",
            margin=0.005,
            label="error differences need half a point",
            trained=nets_learned("resnet56"),
            history=(Change("every seed > 0", "2026-11-23", HISTORY),),
        ),
    ),
    full=Profile(seeds=2, epochs=DEGRADATION.epochs, train_size=DEGRADATION.train_size, short_of=DEGRADATION.short_of),
    quick=Profile(seeds=1, epochs=1, train_size=512, options={"test_size": QUICK_TEST_SIZE}),
    causes={
        m: (
            lambda results: (
                "training error per network: "
                + ", ".join(f"{n} {spread(results, f'train_error_{n}', 3)}" for n in DEGRADATION.networks)
                + f" after {DEGRADATION.epochs} epochs on {DEGRADATION.train_size:,} images "
                + f"({DEGRADATION.steps:,} steps; "
                "He et al. "
                "train 64k; see the curves)"
            )
        )
        for m in (
            "train_error_gap_plain56_minus_plain20",
            "train_error_gap_resnet56_minus_resnet20",
            "train_error_gap_plain56_minus_resnet56",
        )
    },
    notes=(
        f"He et al.'s schedule scaled down: all {DEGRADATION.train_size:,} Fashion-MNIST training images "
        f"(28×28×1, no validation split), {DEGRADATION.epochs} epochs = {DEGRADATION.steps:,} steps per "
        "network, "
        f"{SCHEDULE}. He et al. train 64k steps on 45k CIFAR-10 images, so our absolute errors are not theirs; the "
        "claim compared is the ordering. Train error (the criteria) is measured after training in inference mode on "
        "the un-augmented training images, test error on all 10,000 test images, both after BatchNorm's statistics "
        "are recalibrated on the training images; the running error of each epoch (on augmented batches), what He "
        "et al. plot, is in the table and the figure. Option-A (zero-padding) shortcuts, post-activation blocks, as "
        "in the paper's CIFAR "
        "nets. `--dataset cifar10` runs the same recipe on CIFAR-10 from tensorflow-datasets."
    ),
)
