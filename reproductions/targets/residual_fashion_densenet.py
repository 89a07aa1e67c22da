"""residual.fashion_densenet: DenseNet-BC (L=40, k=12) trained on Fashion-MNIST with He et al.'s augmentation
and step schedule until its validation curve flattens, next to the Fashion-MNIST benchmark's DenseNet-BC row."""

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.spec import Export
from keras_lecture_zoo.reproductions.targets._fashion_residual import fashion_residual_target

# 15 epochs: DenseNet-BC-40 costs about 5× ResNet-20 per epoch here; about 110 min on 2 cores of a
# 215 GFLOP/s AMD EPYC
TARGET = fashion_residual_target(
    name="residual.fashion_densenet",
    network="densenet_bc_40_12",
    title="DenseNet-BC-40 on Fashion-MNIST, beside the benchmark's DenseNet-BC (another network)",
    build=lambda shape: zoo.densenet_bc(depth=40, growth_rate=12, input_shape=shape),
    epochs=15,
    export=Export(
        network="densenet_bc_40_12",
        model="densenet_bc",
        dataset="fashion_mnist",
        builder_args={"depth": 40, "growth_rate": 12, "input_shape": (28, 28, 1)},
        batch_size=512,
    ),
    benchmark=("DenseNet-BC (768K)", "768K"),
    reference=0.954,
    ours="DenseNet-BC L=40, k=12",
    why_smaller=(
        "The benchmark's DenseNet-BC is L=100, k=12 (768K parameters, `zoo.densenet_bc()`), trained with "
        "augmentation for more epochs; we train L=40, k=12 on 28×28×1 inputs, because L=100 costs about 3× "
        "L=40 per epoch here."
    ),
)
