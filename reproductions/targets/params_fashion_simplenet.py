"""params.fashion_simplenet: FashionSimpleNet's 421,642 parameters, computed from the L000 architecture."""

from keras_lecture_zoo.reproductions.targets._params import params_target

TARGET = params_target(
    "params.fashion_simplenet",
    "fashion_simplenet",
    "Parameters of FashionSimpleNet",
    "L000 (computed from the architecture)",
    {
        "conv1": (320, "(3·3·1 + 1)·32"),
        "conv2": (18_496, "(3·3·32 + 1)·64"),
        "fc1": (401_536, "(64·7·7 + 1)·128"),
        "predictions": (1_290, "(128 + 1)·10"),
        "total": (421_642, "sum of the layers"),
    },
)
