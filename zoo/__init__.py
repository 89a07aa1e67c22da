"""Keras builders for the lecture models, looked up by name.

>>> import zoo
>>> model = zoo.build("fashion_simplenet")
>>> zoo.list_models("xor_*")
['xor_mlp', 'xor_model1', 'xor_model2', 'xor_model3']
"""

import os
import sys

if sys.orig_argv[1:3] == ["-m", "zoo"]:  # the `python -m zoo` command line: TensorFlow loads with the
    from reproductions.quiet import silence_tensorflow_logs  # builders below, so quieting starts first

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    silence_tensorflow_logs()

from zoo import data
from zoo.registry import ModelEntry, build, get_entry, list_models, register_model
from zoo.layers import QuadraticFeatures, Step
from zoo.gates import (
    Perceptron,
    and3_sigmoid,
    and_gate,
    circle_classifier,
    festival_a,
    festival_b,
    nand_gate,
    not_gate,
    or_gate,
    perceptron,
    threshold_unit,
    xor_initializer,
    xor_mlp,
    xor_model1,
    xor_model2,
    xor_model3,
)
from zoo.mlp import (
    activation_mlp,
    deep_mlp,
    fashion_mlp,
    mlp,
    mnist_mlp_1000,
    mnist_mlp_keras,
    mnist_mlp_lecture,
    regularized_mlp,
    softmax_regression,
    universal_approximator,
)
from zoo.convnets import fashion_simplenet, mnist_convnet
from zoo.resnets import (
    basic_block,
    bottleneck_block,
    dense_block,
    dense_layer,
    densenet_bc,
    plain20,
    plain32,
    plain44,
    plain56,
    plain110,
    resnet20,
    resnet32,
    resnet44,
    resnet56,
    resnet110,
    resnet_cifar,
    resnext29,
    transition_layer,
    wrn,
)

__version__ = "0.1.0"

__all__ = [
    "data",
    "ModelEntry",
    "build",
    "get_entry",
    "list_models",
    "register_model",
    "Step",
    "QuadraticFeatures",
    "Perceptron",
    "and_gate",
    "or_gate",
    "nand_gate",
    "not_gate",
    "and3_sigmoid",
    "festival_a",
    "festival_b",
    "perceptron",
    "threshold_unit",
    "xor_initializer",
    "xor_mlp",
    "xor_model1",
    "xor_model2",
    "xor_model3",
    "circle_classifier",
    "mlp",
    "deep_mlp",
    "activation_mlp",
    "regularized_mlp",
    "fashion_mlp",
    "basic_block",
    "bottleneck_block",
    "dense_block",
    "dense_layer",
    "densenet_bc",
    "plain20",
    "plain32",
    "plain44",
    "plain56",
    "plain110",
    "resnet20",
    "resnet32",
    "resnet44",
    "resnet56",
    "resnet110",
    "resnet_cifar",
    "resnext29",
    "transition_layer",
    "wrn",
    "softmax_regression",
    "mnist_mlp_lecture",
    "mnist_mlp_1000",
    "mnist_mlp_keras",
    "universal_approximator",
    "fashion_simplenet",
    "mnist_convnet",
]
