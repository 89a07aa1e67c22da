"""Shared helper of the params.* targets: parameter counts of a zoo model, total and per layer."""

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target


def params_target(name, model_name, title, source, expected):
    """A target whose metrics are ``total`` and ``<layer>`` parameter counts, each compared with ==."""

    def compute(seed, ctx):
        model = zoo.build(model_name)
        out = {"total": float(model.count_params())}
        for layer in model.layers:
            if layer.count_params():
                out[layer.name] = float(layer.count_params())
        ctx.extras["layers"] = [[layer.name, type(layer).__name__, int(layer.count_params())] for layer in model.layers]
        return out

    return Target(
        name=name,
        title=title,
        source=source,
        kind="exact",
        compute=compute,
        references=tuple(
            Reference(metric, float(value), f"{source}: {formula}", compare="==", cls="exact")
            for metric, (value, formula) in expected.items()
        ),
        full=Profile(seeds=1),
        quick=Profile(seeds=1),
        notes=f"`zoo.build({model_name!r}).count_params()` and each layer's count; the layer table is in details.json.",
    )
