"""Small settings of the zoo's big builders for tests, and which models are slow to check."""

# Small settings of the big builders, so every registered model can be built, saved and
# gradient-checked in the default test run; the canonical sizes are tested for their counts.
SMALL_KWARGS = {
    **{f"{kind}{d}": {"input_shape": (8, 8, 3)} for kind in ("resnet", "plain") for d in (20, 32, 44, 56, 110)},
    "wrn": {"depth": 10, "widen_factor": 2, "input_shape": (8, 8, 3)},
    "resnext29": {"cardinality": 2, "width": 4, "input_shape": (8, 8, 3)},
    "densenet_bc": {"depth": 40, "growth_rate": 4, "input_shape": (8, 8, 3)},
}
# Deeper repeats of the depth-20 blocks, whose float64 gradient check takes 8-70 s: run with the slow tests.
SLOW_GRADIENT_CHECK = {f"{kind}{d}" for kind in ("resnet", "plain") for d in (32, 44, 56, 110)}
# The same for building and the .keras round trip (5-11 s each).
SLOW_BUILD = {f"{kind}{d}" for kind in ("resnet", "plain") for d in (56, 110)}


def build_small(name):
    """``zoo.build(name)`` at the small test settings above (the default build for other models)."""
    import zoo

    return zoo.build(name, **SMALL_KWARGS.get(name, {}))
