"""Shared by residual.fashion_resnet20 and residual.fashion_densenet: one residual-family net trained on
Fashion-MNIST with He et al.'s augmentation and step schedule to its plateau, beside the Fashion-MNIST
benchmark's row for its family. One network per target, so that each full run takes about an hour or two on
2 CPU cores: the two in one target took about 2.9 h on a 215 GFLOP/s AMD EPYC."""

from __future__ import annotations

from keras_lecture_zoo.callbacks.batchnorm import recalibrate_batchnorm
from keras_lecture_zoo.reproductions.report import section
from keras_lecture_zoo.reproductions.spec import Profile, Retired, Target, spread
from keras_lecture_zoo.reproductions.targets._residual import (
    DATASETS,
    HE_AUGMENTATION,
    QUICK_TEST_SIZE,
    SCHEDULE,
    nan_if_missing,
    residual_data,
    train_networks,
)

BENCHMARK = "Fashion-MNIST benchmark (zalandoresearch/fashion-mnist README), with augmentation"
AUGMENTATION = "4-pixel zero padding, random 28×28 crop, random mirroring"


def _evaluate_test(model, d):
    """Test loss and accuracy after re-estimating BatchNorm's statistics on 10,000 training images, and the
    accuracy with the training-time moving averages (``test_accuracy_ema_bn``) beside it."""
    values = model.evaluate(d["x_test"], d["y_test"], batch_size=512, verbose=0, return_dict=True)
    raw = {"test_accuracy_ema_bn": float(values["accuracy"])}
    recalibrate_batchnorm(model, d["x_train"][:10_000])
    values = model.evaluate(d["x_test"], d["y_test"], batch_size=512, verbose=0, return_dict=True)
    return {"test_loss": float(values["loss"]), "test_accuracy": float(values["accuracy"]), **raw}


def _epochs(results, network):
    """The epochs each seed trained (the profile's count), as one number or a list."""
    return ", ".join(sorted({f"{r['metrics'][f'epochs_{network}']:g}" for r in results.values()}))


def fashion_residual_target(
    *, name, network, title, build, epochs, export, benchmark, reference, ours, why_smaller, seeds=1
):
    """The target that trains ``build(input_shape)`` (run network ``network``) for ``epochs`` epochs in each of
    the full profile's ``seeds`` seeds and compares its test accuracy with the benchmark row ``benchmark`` (its
    label, its parameter count) whose accuracy is ``reference``; ``ours`` names our net in prose and
    ``why_smaller`` says why it is not the benchmark's."""
    metric = f"test_accuracy_{network}"

    def compute(seed, ctx):
        d = residual_data(ctx, validation_size=0.1)
        shape = d["x_train"].shape[1:]
        count = ctx.options["epochs"]
        trained = train_networks(
            ctx,
            d,
            {network: lambda _seed: build(shape)},
            epochs=count,
            evaluate=_evaluate_test,
            augment=HE_AUGMENTATION,
        )
        ctx.extras["augmentation"] = AUGMENTATION
        m, model = trained[network]
        return {
            metric: nan_if_missing(m, "test_accuracy"),
            f"test_accuracy_ema_bn_{network}": nan_if_missing(m, "test_accuracy_ema_bn"),
            f"params_{network}": float(model.count_params()),
            f"epochs_{network}": float(count),
        }

    def report(results, folder):

        first = next(iter(results.values()))
        row = {
            "ours": network,
            "parameters": f"{int(first['metrics'][f'params_{network}']):,}",
            "test accuracy": ", ".join(f"{r['metrics'][metric]:.4f}" for r in results.values()),
            "epochs": ", ".join(f"{r['metrics'][f'epochs_{network}']:g}" for r in results.values()),
            "augmentation": first.get("extras", {}).get("augmentation", "none"),
            "benchmark row": f"{benchmark[0]}: {reference}",
            "benchmark parameters": benchmark[1],
        }
        return section(
            "Ours beside the benchmark row (another network: no verdict)",
            [row],
            f"Ours: {_epochs(results, network)} epochs; "
            f"test accuracy {spread(results, metric)}, with the training-time BatchNorm moving averages "
            f"{spread(results, f'test_accuracy_ema_bn_{network}')}.",
        )

    return Target(
        exports=(export,),
        name=name,
        title=title,
        source="L004",
        kind="custom",
        compute=compute,
        report=report,
        datasets=DATASETS,
        references=(),
        retired=(
            Retired(
                metric,
                f"± 0.01 of {reference}, {BENCHMARK}: {benchmark[0]} ({benchmark[1]} parameters)",
                "2026-12-07",
                f"not like for like: the benchmark's {benchmark[0]} is another network "
                f"({benchmark[1]} parameters) on another schedule, so no verdict compares {ours} with it; "
                "the two numbers stay side by side in the table below",
            ),
        ),
        full=Profile(seeds=seeds, options={"epochs": epochs}),
        quick=Profile(seeds=1, train_size=512, options={"epochs": 1, "test_size": QUICK_TEST_SIZE}),
        notes=(
            f"Our schedule: {epochs} epochs on the first 54,000 training images (the last 6,000 are the validation "
            f"curve), {SCHEDULE}; the rate's last decay leaves the network a quarter of its epochs at 0.001, where its "
            f"validation curve flattens; {'one seed' if seeds == 1 else f'{seeds} seeds'}. {why_smaller} Test "
            "accuracy is on all 10,000 test images, after "
            "BatchNorm's statistics are recalibrated on 10,000 training images (`test_accuracy_*`; with the "
            "training-time moving averages: `test_accuracy_ema_bn_*` in metrics.csv). Per-epoch wall times are in "
            "run.json."
        ),
    )
