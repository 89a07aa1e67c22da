"""perceptron.rule: L000's Rosenblatt rule Δw = η(t − o)x with ±1 outputs converges on AND and OR
and cycles forever on XOR (the repeated weight state is detected and reported)."""

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.spec import Profile, Reference, Target
from keras_lecture_zoo.zoo import data

SOURCE = "L000 (perceptron training rule)"
ETA = 0.1
MAX_EPOCHS = 200


def train(gate, seed, ctx, eta=ETA, max_epochs=MAX_EPOCHS):
    """Online Rosenblatt training of the zoo's Perceptron on a 2-input gate, from seeded random weights.

    Every update adds ±2η·x, so the weights are w0 + 2η·c for an integer vector c. The run ends at the
    first error-free epoch (converged) or when c at an epoch's end repeats an earlier epoch's c: from
    there the rule replays the same epochs forever (a cycle).
    """
    import keras

    x, y = data.truth_table(gate, 2)
    t = 2.0 * y - 1.0  # ±1 targets
    w0 = np.random.default_rng(seed).uniform(-0.5, 0.5, size=(2, 1)).astype("float32")
    seen, log = {}, []

    class Watch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            w, b = (
                keras.ops.convert_to_numpy(v.value).reshape(-1)
                for v in (self.model.dense.kernel, self.model.dense.bias)
            )
            counts = tuple(np.rint(np.concatenate([(w - w0.reshape(-1)), b]) / (2 * eta)).astype(int))
            errors = int(logs["errors"])
            log.append({"epoch": epoch + 1, "errors": errors, "w": w.tolist(), "b": float(b[0])})
            if errors == 0 or counts in seen:
                if errors:
                    log[-1]["repeats_epoch"] = seen[counts]
                self.model.stop_training = True
            seen[counts] = epoch + 1

    # the rule's own train_step, online (batch 1) in the table's order, all epochs in one fit call
    recipe = Recipe(
        build=lambda _seed: zoo.perceptron(learning_rate=eta, kernel_initializer=keras.initializers.Constant(w0)),
        optimizer=lambda: None,
        loss=None,
        metrics=(),
        batch_size=1,
        epochs=max_epochs,
        shuffle=False,
        checkpoint_every=max_epochs,
        callbacks=lambda _work_dir: [Watch()],
        evaluate=lambda model, d: {},
    )
    ctx.train_network(
        gate, recipe, {"x_train": x, "y_train": t, "x_val": None, "y_val": None, "x_test": x, "y_test": t}
    )
    last = log[-1]
    out = {
        "converged": float(last["errors"] == 0),
        "epochs": float(last["epoch"]),
        "min_errors": float(min(r["errors"] for r in log)),
    }
    if "repeats_epoch" in last:
        out.update(
            cycle=1.0,
            cycle_period=float(last["epoch"] - last["repeats_epoch"]),
            cycle_start=float(last["repeats_epoch"]),
        )
    else:
        out["cycle"] = 0.0
    return out, log


def compute(seed, ctx):
    out = {}
    for gate in ("and", "or", "xor"):
        metrics, log = train(gate, seed, ctx)
        out.update({f"{gate}_{k}": v for k, v in metrics.items()})
        ctx.extras[gate] = log
    return out


def report(results, folder):
    lines = [
        "## Per seed",
        "",
        "| seed | AND: epochs to an error-free epoch | OR | XOR: cycle | XOR: period (epochs) | XOR: fewest errors in "
        "an epoch |",
        "|---|---|---|---|---|---|",
    ]
    for seed, r in sorted(results.items()):
        m = r["metrics"]
        cycle = (
            f"repeats the state after epoch {m['xor_cycle_start']:.0f}" if m.get("xor_cycle") else "none within the cap"
        )
        lines.append(
            f"| {seed} | {m['and_epochs']:.0f} | {m['or_epochs']:.0f} | {cycle} | "
            f"{m.get('xor_cycle_period', float('nan')):.0f} | {m['xor_min_errors']:.0f} of 4 |"
        )
    return "\n".join(lines)


TARGET = Target(
    name="perceptron.rule",
    title="Rosenblatt's rule: converges on AND and OR, cycles on XOR",
    source=SOURCE,
    kind="custom",
    compute=compute,
    report=report,
    references=(
        Reference("and_converged", 1.0, SOURCE, compare="==", label="converges on AND", cls="exact"),
        Reference("or_converged", 1.0, SOURCE, compare="==", label="converges on OR", cls="exact"),
        Reference("xor_converged", 0.0, SOURCE, compare="==", label="never converges on XOR", cls="exact"),
        Reference("xor_cycle", 1.0, SOURCE, compare="==", label="XOR: the weight state repeats (a cycle)", cls="exact"),
    ),
    full=Profile(seeds=10),
    quick=Profile(seeds=2),
    notes=(
        f"zoo.perceptron (the Rosenblatt rule inside `fit`), inputs {{0,1}}², targets ±1, η = {ETA}, online "
        f"(batch 1, fixed order), weights from U(−0.5, 0.5) seeded, bias 0, at most {MAX_EPOCHS} epochs. "
        "`*_epochs` counts epochs up to and including the first error-free one (AND, OR) or up to the epoch "
        "whose end state repeats an earlier one (XOR). Every epoch's weights and errors are in details.json."
    ),
)
