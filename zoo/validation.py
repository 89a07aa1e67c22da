"""Argument checks shared by the builders; every error names the argument and what is allowed."""

from __future__ import annotations

import numbers

import keras

_CLASSIFIER_ACTIVATIONS = ("softmax", "sigmoid", "linear", None)


def check_input_shape(input_shape, default, *, min_rank=1, max_rank=3, name="input_shape"):
    """Return ``input_shape`` (or ``default``) as a tuple of positive ints or None."""
    if input_shape is None:
        return tuple(default)
    if isinstance(input_shape, numbers.Integral):
        input_shape = (int(input_shape),)
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(
            f"`{name}` must be a tuple of positive integers such as {tuple(default)}, got {input_shape!r}."
        ) from None
    limit = SIZE_LIMITS["input_shape"]
    if not (min_rank <= len(shape) <= max_rank) or any(
        d is not None and (not isinstance(d, numbers.Integral) or isinstance(d, bool) or not 1 <= d <= limit)
        for d in shape
    ):
        raise ValueError(
            f"`{name}` must be a tuple of {min_rank} to {max_rank} integers from 1 to {limit:,} "
            f"such as {tuple(default)}, got {input_shape!r}."
        )
    return tuple(None if d is None else int(d) for d in shape)


# The largest value each size argument takes, checked before anything is allocated: far above any lecture
# model (He et al.'s deepest net has 1,202 layers) and far below what exhausts a machine's memory.
SIZE_LIMITS = {
    "depth": 2_000,
    "width": 65_536,
    "hidden_units": 65_536,
    "hidden layers": 1_000,
    "input_dim": 1_000_000,
    "num_classes": 100_000,
    "inner": 65_536,
    "widen_factor": 64,
    "cardinality": 1_024,
    "growth_rate": 1_024,
    "input_shape": 16_384,
    "seed": 2**32 - 1,
}


def check_positive_int(value, name, *, minimum=1):
    """Return ``value`` as an int from ``minimum`` to the argument's SIZE_LIMITS entry, or raise naming ``name``."""
    maximum = SIZE_LIMITS.get(name)
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        allowed = f"from {minimum} to {maximum:,}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"`{name}` must be an integer {allowed}, got {value!r}.")
    return int(value)


def check_layer_count(units, name="hidden_units"):
    """Return ``units`` (one width per hidden layer) as a tuple of checked widths, at most SIZE_LIMITS' many."""
    units = tuple(units)
    if len(units) > SIZE_LIMITS["hidden layers"]:
        most = SIZE_LIMITS["hidden layers"]
        raise ValueError(f"`{name}` must list at most {most:,} hidden layers, got {len(units):,}.")
    return tuple(check_positive_int(u, name) for u in units)


def check_rate(value, name):
    """Return a dropout-style rate in [0, 1)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1), got {value!r}.")
    return float(value)


def check_choice(value, name, allowed):
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"`{name}` must be one of {list(allowed)}, got {value!r}.")
    return value


def check_activation(value, name="activation"):
    """Return an activation identifier Keras understands (string, callable or None)."""
    if value is None or callable(value):
        return value
    if isinstance(value, str):
        try:
            keras.activations.get(value)
        except (ValueError, TypeError):
            raise ValueError(
                f"`{name}` must be a Keras activation name such as 'relu', 'sigmoid', "
                f"'tanh' or 'softmax', or a callable; got {value!r}."
            ) from None
        return value
    raise ValueError(f"`{name}` must be a string, a callable or None, got {value!r}.")


def check_classifier_activation(value, num_classes=None):
    """keras.applications-style check of ``classifier_activation``."""
    if value in _CLASSIFIER_ACTIVATIONS or callable(value):
        if value == "softmax" and num_classes == 1:
            raise ValueError(
                "`classifier_activation='softmax'` with `num_classes=1` always outputs 1; "
                "use 'sigmoid' for a single output unit."
            )
        return value
    raise ValueError(
        f"`classifier_activation` must be one of {list(_CLASSIFIER_ACTIVATIONS)} or a callable, got {value!r}."
    )


def check_name(value, default):
    """Return a model name string."""
    if value is None:
        return default
    if not isinstance(value, str) or not value:
        raise ValueError(f"`name` must be a non-empty string, got {value!r}.")
    return value
