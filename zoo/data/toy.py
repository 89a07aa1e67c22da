"""The lectures' toy sets: logic-gate truth tables, XOR, the circle data set and 1-D target functions."""

from __future__ import annotations

import numpy as np

__all__ = ["truth_table", "xor", "circle", "target_function", "function_samples", "TARGET_FUNCTIONS"]

_GATES = {
    "and": lambda x: np.all(x, axis=1),
    "or": lambda x: np.any(x, axis=1),
    "nand": lambda x: ~np.all(x, axis=1),
    "nor": lambda x: ~np.any(x, axis=1),
    "xor": lambda x: np.sum(x, axis=1) % 2 == 1,
    "not": lambda x: ~x[:, 0].astype(bool),
    "festival_a": lambda x: np.sum(x, axis=1) >= 2,
    "festival_b": lambda x: x[:, 2].astype(bool) & (x[:, 0].astype(bool) | x[:, 1].astype(bool)),
}
_GATE_ARITY = {"not": (1,), "festival_a": (3,), "festival_b": (3,)}


def truth_table(gate, n_inputs=None):
    """All 2**n binary inputs in lexicographic order (as the lectures list them) and the gate's 0/1 targets.

    ``n_inputs`` defaults to the gate's own arity (NOT: 1, festival: 3, others: 2).
    """
    if gate not in _GATES:
        raise ValueError(f"`gate` must be one of {sorted(_GATES)}, got {gate!r}.")
    allowed = _GATE_ARITY.get(gate, (2, 3))
    if n_inputs is None:
        n_inputs = allowed[0]
    if n_inputs not in allowed:
        raise ValueError(f"`n_inputs` for gate {gate!r} must be one of {list(allowed)}, got {n_inputs!r}.")
    x = np.array([[(i >> (n_inputs - 1 - j)) & 1 for j in range(n_inputs)] for i in range(2**n_inputs)], "float32")
    y = _GATES[gate](x.astype(bool)).astype("float32").reshape(-1, 1)
    return x, y


def xor():
    """L001's XOR data: X = [[0,0],[0,1],[1,0],[1,1]], y = [[0],[1],[1],[0]] (float32)."""
    return truth_table("xor", 2)


def circle(n=200, *, radius=1.0, extent=2.0, seed=0):
    """L003's circle data: ``n`` points uniform in [-extent, extent]², label 1 inside the circle."""
    n = int(n)
    if n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}.")
    if not radius > 0 or not extent > 0:
        raise ValueError(f"`radius` and `extent` must be positive, got radius={radius!r}, extent={extent!r}.")
    x = np.random.default_rng(seed).uniform(-extent, extent, size=(n, 2)).astype("float32")
    y = (np.sum(x**2, axis=1) < radius**2).astype("float32").reshape(-1, 1)
    return x, y


TARGET_FUNCTIONS = {
    "sine": lambda x: np.sin(2 * np.pi * x),
    "bump": lambda x: np.exp(-(((x - 0.5) / 0.1) ** 2)),
    "abs": lambda x: np.abs(2 * x - 1),
    "wiggle": lambda x: np.sin(3 * np.pi * x) + 0.5 * np.sin(9 * np.pi * x),
    "step_ramp": lambda x: np.clip(10 * (x - 0.45), 0, 1),
}


def target_function(name):
    """A bounded continuous function on [0, 1] for the universal-approximation experiment."""
    if name not in TARGET_FUNCTIONS:
        raise ValueError(f"`name` must be one of {sorted(TARGET_FUNCTIONS)}, got {name!r}.")
    return TARGET_FUNCTIONS[name]


def function_samples(name, n=256, *, seed=None, noise=0.0):
    """(x, y) of shape (n, 1) on [0, 1]: an even grid if ``seed`` is None, else seeded uniform."""
    f = target_function(name)
    if seed is None:
        x = np.linspace(0.0, 1.0, int(n))
        rng = np.random.default_rng(0)
    else:
        rng = np.random.default_rng(seed)
        x = np.sort(rng.uniform(0.0, 1.0, int(n)))
    y = f(x) + (noise * rng.standard_normal(x.shape) if noise else 0.0)
    return x.reshape(-1, 1).astype("float32"), np.asarray(y).reshape(-1, 1).astype("float32")
