"""params.softmax_regression: L004's 784 → 10 softmax regression has 7,850 parameters."""

from keras_lecture_zoo.reproductions.targets._params import params_target

TARGET = params_target(
    "params.softmax_regression",
    "softmax_regression",
    "Parameters of 784 → 10 softmax regression",
    "L004",
    {"total": (7_850, "(784 + 1)·10")},
)
