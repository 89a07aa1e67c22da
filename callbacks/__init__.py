"""Keras callbacks for the lectures' training advice; each works on any Keras model, on TensorFlow, JAX and
PyTorch alike (gradients through :mod:`callbacks.autodiff`; no TensorFlow import unless it is the backend).

- :class:`DeadReLUDetector`: "check dead units" (L001: lower the learning rate if 20–40% die).
- :class:`GradientCheck`: "check your gradients" (finite differences vs autodiff).
- :class:`GradientNormMonitor`: per-layer gradient norms (L004: vanishing gradients).
- :func:`check_overfit`: "try to overfit a small set" (L000), loss ~0 on a few examples.
- :class:`EarlyStopping`: stop early and save the best model (L000).

The resume contract, for these and any callback a reproduction recipe uses: a callback whose state must
survive a killed and resumed run defines ``get_state()``, a dict of JSON-able values and NumPy arrays (or
lists of arrays; the checkpoint stores those as arrays), and ``set_state(state)``, after which its next
``on_train_begin`` continues instead of starting over. It may define ``result_metrics()``, numbers that
join the run's metrics (EarlyStopping's ``best_epoch``). The engine knows no callback by name.
"""

from keras_lecture_zoo import import_keras

import_keras()  # before any module here imports Keras: a missing backend is one line naming the extras

from keras_lecture_zoo.callbacks.dead_relu import DeadReLUDetector  # noqa: E402
from keras_lecture_zoo.callbacks.early_stopping import EarlyStopping  # noqa: E402
from keras_lecture_zoo.callbacks.gradient_check import (  # noqa: E402
    GradientCheck,
    GradientCheckError,
    GradientCheckReport,
    check_gradients,
)
from keras_lecture_zoo.callbacks.gradient_norms import GradientNormMonitor, kernel_gradient_norms  # noqa: E402
from keras_lecture_zoo.callbacks.overfit import OverfitReport, check_overfit  # noqa: E402

__all__ = [
    "DeadReLUDetector",
    "EarlyStopping",
    "GradientCheck",
    "GradientCheckError",
    "GradientCheckReport",
    "GradientNormMonitor",
    "OverfitReport",
    "check_gradients",
    "check_overfit",
    "kernel_gradient_norms",
]
