"""Shared helper of the gate targets: outputs of a zoo gate on its truth table, as metrics."""

from keras_lecture_zoo import zoo
from keras_lecture_zoo.zoo import data


def gate_metrics(model_name, gate, n_inputs=None, *, pre_activation=True):
    """{"y(x)": output, "z(x)": w·x+b} for every input x of the truth table (exact, no training)."""
    import keras

    x, _ = data.truth_table(gate, n_inputs)
    model = zoo.build(model_name)
    y = keras.ops.convert_to_numpy(model(x, training=False)).reshape(-1)
    out = {}
    if pre_activation:
        z = keras.ops.convert_to_numpy(keras.Model(model.input, model.get_layer("z").output)(x)).reshape(-1)
    for i, row in enumerate(x.astype(int)):
        key = "".join(map(str, row))
        if pre_activation:
            out[f"z({key})"] = float(z[i])
        out[f"y({key})"] = float(y[i])
    return out


def exact_references(values, source, prefix="y", tolerance=None):
    """References for the rows of a truth table, exact (==) unless a tolerance is given."""
    from keras_lecture_zoo.reproductions.spec import Reference

    refs = []
    for key, value in values.items():
        if tolerance is None:
            refs.append(Reference(f"{prefix}({key})", float(value), source, compare="==", cls="exact"))
        else:
            refs.append(Reference(f"{prefix}({key})", float(value), source, tolerance=tolerance, cls="exact"))
    return tuple(refs)


def perceptron_gate(gate, z, y):
    """The target of one of L001's two-input perceptrons with hand-set weights (AND, OR): the zoo's
    ``<gate>_gate`` on its truth table, each pre-activation z(x) and output y(x) an exact row."""
    from keras_lecture_zoo.reproductions.spec import Profile, Target

    source = f"L001 ({gate.upper()} perceptron)"
    return Target(
        name=f"gates.{gate}",
        title=f"{gate.upper()} perceptron with the lecture's hand-set weights",
        source=source,
        kind="exact",
        compute=lambda seed, ctx: gate_metrics(f"{gate}_gate", gate),
        references=exact_references(z, source, "z") + exact_references(y, source, "y"),
        full=Profile(seeds=1),
        quick=Profile(seeds=1),
    )
