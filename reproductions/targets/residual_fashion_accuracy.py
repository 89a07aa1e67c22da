"""residual.fashion_accuracy: a CIFAR-style ResNet and a DenseNet-BC trained on Fashion-MNIST with He et al.'s
augmentation and step schedule until their validation curves flatten, next to the Fashion-MNIST benchmark's
ResNet18 and DenseNet-BC rows (trained with augmentation)."""

import math

import zoo
from callbacks._batchnorm import recalibrate_batchnorm
from reproductions.report import markdown_table
from reproductions.spec import Export, Profile, Reference, Target, spread
from reproductions.targets._residual import (DATASETS, HE_AUGMENTATION, QUICK_TEST_SIZE, SCHEDULE, nan_if_missing,
                                            residual_data, train_networks)

BENCHMARK = "Fashion-MNIST benchmark (zalandoresearch/fashion-mnist README), with augmentation"
# epochs per network (issue 19): the step schedule ends each at its plateau; DenseNet-BC-40 costs about 5× ResNet-20
# per epoch here, so it gets fewer, and both together fit one sitting on 2 CPU cores
EPOCHS = {"resnet20": 30, "densenet_bc_40_12": 15}
NETWORKS = {
    "resnet20": lambda shape: zoo.resnet20(input_shape=shape),
    "densenet_bc_40_12": lambda shape: zoo.densenet_bc(depth=40, growth_rate=12, input_shape=shape),
}


def _evaluate_test(model, d):
    values = model.evaluate(d["x_test"], d["y_test"], batch_size=512, verbose=0, return_dict=True)
    raw = {"test_accuracy_ema_bn": float(values["accuracy"])}
    recalibrate_batchnorm(model, d["x_train"][:10_000])
    values = model.evaluate(d["x_test"], d["y_test"], batch_size=512, verbose=0, return_dict=True)
    return {"test_loss": float(values["loss"]), "test_accuracy": float(values["accuracy"]), **raw}


def compute(seed, ctx):
    d = residual_data(ctx, validation_size=0.1)
    shape = d["x_train"].shape[1:]
    builders = {name: (lambda _seed, make=make: make(shape)) for name, make in NETWORKS.items()}
    trained = train_networks(ctx, d, builders, epochs=ctx.options["epochs"], evaluate=_evaluate_test,
                             augment=HE_AUGMENTATION)
    ctx.extras["augmentation"] = "4-pixel zero padding, random 28×28 crop, random mirroring"
    metrics = {}
    for name, (m, model) in trained.items():
        metrics[f"test_accuracy_{name}"] = nan_if_missing(m, "test_accuracy")
        metrics[f"test_accuracy_ema_bn_{name}"] = nan_if_missing(m, "test_accuracy_ema_bn")
        metrics[f"params_{name}"] = float(model.count_params())
        metrics[f"epochs_{name}"] = float(ctx.options["epochs"][name])
    return metrics


def report(results, folder):
    import pandas as pd

    rows = []
    for name, bench, bench_params in (("resnet20", "ResNet18: 0.949", "11M"), ("densenet_bc_40_12", "DenseNet-BC: 0.954", "768K")):
        accs = [r["metrics"][f"test_accuracy_{name}"] for r in results.values()]
        rows.append({"ours": name, "parameters": f"{int(next(iter(results.values()))['metrics'][f'params_{name}']):,}",
                     "test accuracy": ", ".join(f"{a:.4f}" for a in accs),
                     "epochs": ", ".join(f"{r['metrics'].get(f'epochs_{name}', math.nan):g}" for r in results.values()),
                     "augmentation": next(iter(results.values())).get("extras", {}).get("augmentation", "none"),
                     "benchmark row": bench, "benchmark parameters": bench_params})
    return "\n".join(["## Ours beside the benchmark rows", "", markdown_table(pd.DataFrame(rows)), ""])


TARGET = Target(
    exports=(
        Export(network="resnet20", model="resnet20", dataset="fashion_mnist", builder_args={"input_shape": (28, 28, 1)},
               batch_size=512),
        Export(network="densenet_bc_40_12", model="densenet_bc", dataset="fashion_mnist",
               builder_args={"depth": 40, "growth_rate": 12, "input_shape": (28, 28, 1)}, batch_size=512),
    ),
    name="residual.fashion_accuracy",
    title="ResNet-20 and DenseNet-BC-40 on Fashion-MNIST vs the benchmark's ResNet18 / DenseNet-BC",
    source="L004",
    kind="custom",
    compute=compute,
    report=report,
    datasets=DATASETS,
    references=(
        Reference("test_accuracy_resnet20", 0.949, BENCHMARK + ": ResNet18", tolerance=0.01, cls="published",
                  tolerance_rule="±0.01, the rule for the benchmark's single-run rows"),
        Reference("test_accuracy_densenet_bc_40_12", 0.954, BENCHMARK + ": DenseNet-BC (768K)", tolerance=0.01, cls="published",
                  tolerance_rule="±0.01, the rule for the benchmark's single-run rows"),
    ),
    full=Profile(seeds=1, options={"epochs": EPOCHS}),
    quick=Profile(seeds=1, train_size=512, options={"epochs": {name: 1 for name in NETWORKS}, "test_size": QUICK_TEST_SIZE}),
    causes={"*": lambda results: (
        f"{', '.join(f'{n} {e} epochs' for n, e in EPOCHS.items())} with He et al.'s augmentation, and smaller "
        f"networks than the benchmark's: ResNet-20 with "
        f"{spread(results, 'params_resnet20', 3)} parameters for ResNet18's 11M, DenseNet-BC L=40 with "
        f"{spread(results, 'params_densenet_bc_40_12', 3)} for the benchmark's 768K; BatchNorm statistics re-estimated "
        f"by EMA change the accuracies to {spread(results, 'test_accuracy_ema_bn_resnet20')} (ResNet-20) and "
        f"{spread(results, 'test_accuracy_ema_bn_densenet_bc_40_12')} (DenseNet); the validation curves are in "
        "curves.png")},
    notes=(
        f"Our schedule: {', '.join(f'{n} {e} epochs' for n, e in EPOCHS.items())} on the first 54,000 training images "
        f"(the last 6,000 are the validation curve), {SCHEDULE}; the rate's last decay leaves each network a quarter "
        "of its epochs at 0.001, where its validation curve flattens; one seed. The benchmark's ResNet18 is the "
        "ImageNet-style 11M-parameter net and its DenseNet-BC is L=100, k=12 (768K parameters, `zoo.densenet_bc()`); "
        "both were trained with augmentation for many more epochs. We use the CIFAR ResNet-20 (`zoo.resnet20`) and "
        "DenseNet-BC L=40, k=12, on 28×28×1 inputs, because L=100 costs about 3× L=40 per epoch here. "
        "Test accuracy is on all 10,000 test images, after BatchNorm's statistics are recalibrated on 10,000 "
        "training images (`test_accuracy_*`; with the training-time moving averages: `test_accuracy_ema_bn_*` in "
        "metrics.csv). Per-epoch wall times are in run.json."
    ),
)
