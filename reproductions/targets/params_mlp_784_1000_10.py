"""params.mlp_784_1000_10: L002's parameter count of a 784 → 1000 → 10 dense network."""

from keras_lecture_zoo.reproductions.targets._params import params_target

TARGET = params_target(
    "params.mlp_784_1000_10",
    "mnist_mlp_1000",
    "Parameters of 784 → 1000 → 10",
    "L002",
    {
        "dense_1": (785_000, "(784 + 1)·1000"),
        "predictions": (10_010, "(1000 + 1)·10"),
        "total": (795_010, "785,000 + 10,010"),
    },
)
