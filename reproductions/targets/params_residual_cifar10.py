"""params.residual_cifar10: parameter counts of the zoo's residual and dense networks at their papers'
CIFAR-10 settings (32×32×3 input, 10 classes) beside the counts the papers print."""

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target

# name -> (zoo model, build kwargs, printed count in millions, digits after the point as printed, source)
PRINTED = {
    "resnet20": ("resnet20", {}, 0.27, 2, "He et al. 2016, Table 6"),
    "resnet32": ("resnet32", {}, 0.46, 2, "He et al. 2016, Table 6"),
    "resnet44": ("resnet44", {}, 0.66, 2, "He et al. 2016, Table 6"),
    "resnet56": ("resnet56", {}, 0.85, 2, "He et al. 2016, Table 6"),
    "resnet110": ("resnet110", {}, 1.7, 1, "He et al. 2016, Table 6"),
    "densenet_bc_100_12": ("densenet_bc", dict(depth=100, growth_rate=12), 0.8, 1, "Huang et al. 2017, Table 2"),
    "wrn_28_10": ("wrn", dict(depth=28, widen_factor=10), 36.5, 1, "Zagoruyko & Komodakis 2016, Table 5"),
    "resnext29_8x64d": ("resnext29", dict(cardinality=8, width=64), 34.4, 1, "Xie et al. 2017, Table 7"),
}


def tolerance(millions, digits):
    """The larger of 1% of the printed count and half a unit of its last printed digit (a count printed as
    1.7M only says 1.65M-1.75M)."""
    return max(0.01 * millions * 1e6, 0.5 * 10 ** (6 - digits))


def compute(seed, ctx):
    out = {}
    for key, (model_name, kwargs, _, _, _) in PRINTED.items():
        model = zoo.build(model_name, input_shape=(32, 32, 3), num_classes=10, **kwargs)
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        out[f"params_{key}"] = float(trainable)
        out[f"all_weights_{key}"] = float(model.count_params())  # with BatchNorm's moving statistics
        print(f"  {key}: {trainable:,} trainable parameters ({model.count_params():,} weights)", flush=True)
        del model
    return out


TARGET = Target(
    name="params.residual_cifar10",
    title="Parameter counts of ResNet-20…110, DenseNet-BC-100, WRN-28-10 and ResNeXt-29 (CIFAR-10 settings)",
    source="He et al. 2016; Huang et al. 2017; Zagoruyko & Komodakis 2016; Xie et al. 2017",
    kind="exact",
    compute=compute,
    references=tuple(
        Reference(
            f"params_{key}",
            millions * 1e6,
            f"{source}: {millions:g}M",
            tolerance=tolerance(millions, digits),
            cls="exact",
            label=f"zoo.{model_name}("
            + ", ".join(f"{k}={v}" for k, v in kwargs.items())
            + ") at 32×32×3, 10 classes, trainable parameters",
        )
        for key, (model_name, kwargs, millions, digits, source) in PRINTED.items()
    ),
    full=Profile(seeds=1),
    quick=Profile(seeds=1),
    notes=(
        "Trainable parameters of the builds (ResNets with He et al.'s option-A identity shortcuts) at CIFAR-10's "
        "input, as the papers count them: BatchNorm's moving mean and variance are state, not parameters (Keras' "
        "count_params() includes them; metrics.csv has both). "
        "The papers print rounded counts, so a row matches when ours lies within the larger of 1% and half a unit "
        "of the printed last digit (the suite's rule for printed counts is 'exactly or within 1%'; a count printed as "
        "0.8M cannot say more "
        f"than 0.75M-0.85M). Builds only, no training; {len(PRINTED)} models."
    ),
)
