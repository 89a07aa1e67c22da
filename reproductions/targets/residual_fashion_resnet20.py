"""residual.fashion_resnet20: the CIFAR ResNet-20 trained on Fashion-MNIST with He et al.'s augmentation and
step schedule until its validation curve flattens, next to the Fashion-MNIST benchmark's ResNet18 row."""

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.spec import Export
from keras_lecture_zoo.reproductions.targets._fashion_residual import fashion_residual_target

# 30 epochs: the step schedule ends at the plateau. Two seeds, one per core (--jobs 2), take about an hour on
# 2 CPU cores; the published run's summary gives its measured wall time and seconds per epoch
TARGET = fashion_residual_target(
    name="residual.fashion_resnet20",
    network="resnet20",
    title="ResNet-20 on Fashion-MNIST, beside the benchmark's ResNet18 (another network)",
    build=lambda shape: zoo.resnet20(input_shape=shape),
    epochs=30,
    export=Export(
        network="resnet20",
        model="resnet20",
        dataset="fashion_mnist",
        builder_args={"input_shape": (28, 28, 1)},
        batch_size=512,
    ),
    benchmark=("ResNet18", "11M"),
    reference=0.949,
    ours="ResNet-20",
    seeds=2,
    why_smaller=(
        "The benchmark's ResNet18 is the ImageNet-style 11M-parameter net, trained with augmentation for "
        "more epochs; we train the CIFAR ResNet-20 (`zoo.resnet20`) on 28×28×1 inputs."
    ),
)
