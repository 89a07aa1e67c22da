"""Keras builders for the lecture models, looked up by name.

>>> from keras_lecture_zoo import zoo
>>> model = zoo.build("fashion_simplenet")
>>> zoo.list_models("xor_*")
['xor_mlp', 'xor_model1', 'xor_model2', 'xor_model3']
"""

import os
import sys

if sys.orig_argv[1:3] in (["-m", "zoo"], ["-m", "keras_lecture_zoo.zoo"]):  # `python -m zoo`: TensorFlow loads with the
    from keras_lecture_zoo.quiet import silence_tensorflow_logs  # builders below, so quieting starts first

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    silence_tensorflow_logs()

__version__ = "0.1.0"

from keras_lecture_zoo import import_keras  # noqa: E402

import_keras()  # before the builders import Keras: a missing backend is one line naming the extras
del import_keras

# The public API is every name in these modules' ``__all__``; importing them registers the builders. They are
# imported by the package's one name, also where a checkout's `python -m zoo` loads this file as `zoo`.
_PACKAGE = "keras_lecture_zoo.zoo"
_API_MODULES = ("registry", "layers", "gates", "mlp", "convnets", "resnets", "weights")


def _export(modules):
    import importlib
    import sys

    importlib.import_module(f"{_PACKAGE}.data")  # zoo.data: the loaders and toy sets, exported as a module
    names = ["data"]
    for short in modules:
        module = importlib.import_module(f"{_PACKAGE}.{short}")
        names += module.__all__
    for short in modules:  # bound after all imports: `zoo.mlp` is the builder mlp(), not the module zoo.mlp
        module = sys.modules[f"{_PACKAGE}.{short}"]
        globals().update({name: getattr(module, name) for name in module.__all__})
    return list(dict.fromkeys(names))


__all__ = _export(_API_MODULES)


def __dir__():
    """The zoo's API, not the modules this file happens to use."""
    return sorted(__all__)


del os, sys
