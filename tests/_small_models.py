"""Small settings of the zoo's big builders for tests, and which models are slow to check."""

# Small settings of the big builders, so every registered model can be built, saved and
# gradient-checked in the default test run; the canonical sizes are tested for their counts.
SMALL_KWARGS = {
    **{f"{kind}{d}": {"input_shape": (8, 8, 3)} for kind in ("resnet", "plain") for d in (20, 32, 44, 56, 110)},
    "wrn": {"depth": 10, "widen_factor": 2, "input_shape": (8, 8, 3)},
    "resnext29": {"cardinality": 2, "width": 4, "input_shape": (8, 8, 3)},
    "densenet_bc": {"depth": 40, "growth_rate": 4, "input_shape": (8, 8, 3)},
}
# Deeper repeats of the depth-20 blocks, whose float64 gradient check takes 8-122 s (2 AMD EPYC cores): 32, 44,
# 56 and 110 repeat the same blocks at other depths (the 56-layer nets, residual.degradation's, took 46 and 43 s
# of CI's slow run), so they run only with `tox -e long`, outside CI's 30 minutes; depth 20 runs in every run.
SLOW_GRADIENT_CHECK = set()
LONG_GRADIENT_CHECK = {f"{kind}{d}" for kind in ("resnet", "plain") for d in (32, 44, 56, 110)}
# The same for building and the .keras round trip (1-7 s each).
SLOW_BUILD = {f"{kind}56" for kind in ("resnet", "plain")}
LONG_BUILD = {f"{kind}110" for kind in ("resnet", "plain")}


def depth_marks(name, slow, long):
    """The pytest marks of a model's case: ``long`` (only `tox -e long`), ``slow`` (CI's slow run) or none."""
    import pytest

    return [pytest.mark.long] if name in long else [pytest.mark.slow] if name in slow else []


def build_small(name):
    """``zoo.build(name)`` at the small test settings above (the default build for other models)."""
    from keras_lecture_zoo import zoo

    return zoo.build(name, **SMALL_KWARGS.get(name, {}))
