"""The Keras backend a process trains on, and its op determinism (bitwise-repeatable runs)."""

from __future__ import annotations

import os


def backend_name():
    """The Keras backend this process trains on ('tensorflow', 'jax' or 'torch')."""
    import keras

    return keras.backend.backend()


def configure_determinism():
    """Op determinism for bitwise-repeatable runs on the active backend (once per process): TensorFlow's
    op determinism, PyTorch's deterministic algorithms; JAX on the CPU is deterministic as it is."""
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
