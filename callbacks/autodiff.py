"""Gradients and compiled forward passes on whichever Keras backend is active (TensorFlow, JAX, PyTorch).

Everything here works on *values*: a function of the model is evaluated with chosen values in place of
its variables (``keras.StatelessScope``), so one code path serves every backend: TensorFlow differentiates
it with a tape, JAX with ``jax.value_and_grad`` under ``jax.jit``, PyTorch with ``torch.autograd``. No
TensorFlow is imported unless TensorFlow is the backend.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = [
    "backend",
    "to_numpy",
    "values_of",
    "with_values",
    "compile_stateless",
    "value_and_gradients",
    "float64_supported",
]


def backend() -> str:
    """The active Keras backend's name: 'tensorflow', 'jax' or 'torch' (others are passed through)."""
    return keras.backend.backend()


def to_numpy(x):
    """A backend tensor (or a nested structure of them) as NumPy, detached from any autodiff graph.

    PyTorch tensors go through ``Tensor.numpy()``: ``keras.ops.convert_to_numpy`` would detach them too,
    but through ``np.array(tensor)``, which warns under NumPy 2 on every call (torch's ``__array__``
    takes no ``copy`` keyword), once per finite difference in a gradient check."""
    if backend() == "torch":
        import torch

        def convert(t):
            return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)

        return keras.tree.map_structure(convert, x)
    return keras.tree.map_structure(lambda t: np.asarray(keras.ops.convert_to_numpy(t)), x)


def values_of(variables):
    """The current values of Keras variables, as backend tensors."""
    return [v.value for v in variables]


def with_values(fn, variables):
    """``fn(*args)`` turned into ``g(values, *args)``: ``fn`` runs with ``variables`` reading ``values``.

    Updates that ``fn`` makes to variables (BatchNorm statistics in training mode, seed generators)
    are discarded: the model is left as it was. Losses added in ``call`` are collected, so
    ``model.losses`` read inside ``fn`` holds them and the regularisers' values.
    """
    variables = list(variables)

    def evaluate(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(variables, values)), collect_losses=True):
            return fn(*args)

    return evaluate


def compile_stateless(fn, variables):
    """``g(values, *args)`` of :func:`with_values`, compiled where the backend compiles cheaply.

    TensorFlow: ``tf.function`` (one trace per input signature); JAX: ``jax.jit`` (variable values
    are arguments, never baked-in constants); PyTorch: eager under ``torch.no_grad``.
    """
    evaluate = with_values(fn, variables)
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        return tf.function(evaluate, reduce_retracing=True)
    if name == "jax":
        import jax

        return jax.jit(evaluate)
    if name == "torch":
        import torch

        def no_grad(values, *args):
            with torch.no_grad():
                return evaluate(values, *args)

        return no_grad
    return evaluate


def value_and_gradients(fn, variables, *args):
    """(float value of the scalar ``fn(*args)``, [NumPy gradient per variable]) at the variables'
    current values. A variable that ``fn`` does not depend on gets a zero gradient."""
    variables = list(variables)
    evaluate = with_values(fn, variables)
    values = values_of(variables)
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        values = [tf.convert_to_tensor(v) for v in values]
        with tf.GradientTape() as tape:
            tape.watch(values)
            value = evaluate(values, *args)
        grads = tape.gradient(value, values)
    elif name == "jax":
        import jax

        value, grads = jax.value_and_grad(lambda vals: evaluate(vals, *args))(values)
    elif name == "torch":
        import torch

        values = [v.detach().clone().requires_grad_(True) for v in values]
        with torch.enable_grad():
            value = evaluate(values, *args)
            # a value that no variable reaches differentiably (a step-function output) has no graph at all
            grads = (
                torch.autograd.grad(value, values, allow_unused=True) if value.requires_grad else [None] * len(values)
            )
    else:
        raise NotImplementedError(f"gradients on the {name!r} backend: use tensorflow, jax or torch.")
    out = []
    for variable, grad in zip(variables, grads):
        out.append(np.zeros(tuple(variable.shape), dtype=variable.dtype) if grad is None else to_numpy(grad))
    return float(to_numpy(value)), out


def float64_supported() -> tuple[bool, str]:
    """(whether Keras computes float64 on this backend, and why not if it does not).

    Two things must hold: the backend keeps float64 arrays (JAX makes them float32 unless x64 is
    enabled before any array exists), and Keras' own type promotion keeps float64 (Keras 3 maps
    ``result_type(float64, float64)`` to float32 on every backend but TensorFlow, so a float64 matmul
    is computed in float32 there). Both are asked of the installed versions, not assumed.
    """
    name = backend()
    if name == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            return False, (
                "JAX computes float64 as float32 unless x64 is enabled: set JAX_ENABLE_X64=1 "
                "(or call jax.config.update('jax_enable_x64', True)) before creating any array"
            )
    promoted = keras.backend.result_type("float64", "float64")
    if promoted != "float64":
        return False, (
            f"Keras {keras.__version__} computes float64 operations in {promoted} on the {name} backend "
            f"(keras.backend.result_type('float64', 'float64') is {promoted!r})"
        )
    return True, ""
