"""gates.xor_single_unit: no single threshold unit computes XOR (L000, L001); two hidden units do.

Shown three ways: an exhaustive search over a weight grid, two trained single units
(the Rosenblatt rule and a gradient-trained sigmoid unit), and the hand-wired
2-unit network XOR = AND(OR, NAND) built from the zoo's gates.
"""

import numpy as np

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.spec import Change, Profile, Reference, Target
from keras_lecture_zoo.zoo import data

SOURCE = "L000, L001 (XOR is not linearly separable)"
GRID = np.round(np.linspace(-3.0, 3.0, 61), 10)  # step 0.1 for w1, w2 and b


def grid_search():
    """Best accuracy of h(w·x + b >= 0) on XOR over every (w1, w2, b) on the grid, and how many reach it."""
    x, y = data.xor()
    w1, w2, b = np.meshgrid(GRID, GRID, GRID, indexing="ij")
    z = w1[..., None] * x[:, 0] + w2[..., None] * x[:, 1] + b[..., None]  # (61, 61, 61, 4)
    acc = ((z >= 0).astype(np.float32) == y[:, 0]).mean(axis=-1)
    best = float(acc.max())
    return best, int((acc == best).sum()), int(acc.size), int((acc == 1.0).sum())


def _xor_data(targets):
    x, _ = data.xor()
    return {"x_train": x, "y_train": targets, "x_val": None, "y_val": None, "x_test": x, "y_test": targets}


def rosenblatt_best(seed, ctx, epochs=100):
    """Best epoch of the Rosenblatt rule on XOR (fewest errors), from a seeded integer start."""
    import keras

    x, y = data.xor()
    w0 = np.random.default_rng(seed).integers(-2, 3, size=(2, 1)).astype("float32")
    recipe = Recipe(
        build=lambda _seed: zoo.perceptron(kernel_initializer=keras.initializers.Constant(w0)),
        optimizer=lambda: None,
        loss=None,
        metrics=(),
        batch_size=1,
        epochs=epochs,
        shuffle=False,
        checkpoint_every=epochs,
        evaluate=lambda model, d: {},
    )
    outcome, _ = ctx.train_network("rosenblatt", recipe, _xor_data(2 * y - 1))
    return 1.0 - min(row["errors"] for row in outcome["history"]) / len(x)


def sigmoid_unit_accuracy(seed, ctx, steps=2000):
    """A single sigmoid unit trained by Adam on binary cross-entropy, full batch; accuracy on XOR."""
    import keras

    x, y = data.xor()
    recipe = Recipe(
        build=lambda _seed: keras.Sequential(
            [keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")], name="single_unit"
        ),
        optimizer=lambda: keras.optimizers.Adam(0.1),
        loss="binary_crossentropy",
        metrics=(),
        batch_size=len(x),
        epochs=steps,
        full_batch_steps=True,
        steps_per_execution=100,
        evaluate=lambda unit, d: {
            "accuracy": float(np.mean((unit.predict(d["x_test"], verbose=0) > 0.5) == (d["y_test"] > 0.5)))
        },
    )
    outcome, _ = ctx.train_network("sigmoid_unit", recipe, _xor_data(y))
    return outcome["metrics"]["accuracy"]


def two_unit_network():
    """XOR = AND(OR(x), NAND(x)): a hidden layer of two threshold units, wired from the zoo's gates."""
    import keras

    inputs = keras.Input((2,), name="x")
    hidden = keras.layers.Concatenate(name="hidden")(
        [zoo.or_gate(name="or")(inputs), zoo.nand_gate(name="nand")(inputs)]
    )
    return keras.Model(inputs, zoo.and_gate(name="and")(hidden), name="xor_two_units")


def compute(seed, ctx):
    x, y = data.xor()
    best, n_best, n_total, n_perfect = grid_search()
    net = two_unit_network()
    out = np.asarray(net(x)).reshape(-1)
    ctx.extras.update(grid_points=n_total, grid_best_count=n_best, two_unit_outputs=out.tolist())
    return {
        "grid_best_accuracy": best,
        "grid_units_with_4_of_4": float(n_perfect),
        "rosenblatt_best_accuracy": rosenblatt_best(seed, ctx),
        "sigmoid_unit_accuracy": sigmoid_unit_accuracy(seed, ctx),
        "two_unit_network_accuracy": float(np.mean(out == y.reshape(-1))),
    }


TARGET = Target(
    name="gates.xor_single_unit",
    title="XOR: no single threshold unit, but two hidden units suffice",
    source=SOURCE,
    kind="exact",
    compute=compute,
    references=(
        Reference(
            "grid_best_accuracy",
            0.75,
            SOURCE,
            compare="==",
            cls="exact",
            label="best unit on a 61³ weight grid: 3 of 4, the most any line gets right on XOR",
            history=(
                Change(
                    "every seed < 1",
                    "2026-11-23",
                    "'< 1' holds by construction for any unit the closed form, 3 of 4, can fail",
                ),
            ),
        ),
        Reference(
            "grid_units_with_4_of_4", 0.0, SOURCE, compare="==", label="grid units that get all 4 right", cls="exact"
        ),
        Reference(
            "rosenblatt_best_accuracy",
            0.75,
            SOURCE,
            compare="<=",
            cls="sanity",
            label="Rosenblatt rule, best of 100 epochs: no more than the best line's 3 of 4 (checks our rule)",
            history=(
                Change(
                    "every seed < 1",
                    "2026-11-23",
                    "a bound that holds by construction is a check "
                    "of our code, classed sanity, at the closed-form bound 3/4",
                ),
            ),
        ),
        Reference(
            "sigmoid_unit_accuracy",
            0.75,
            SOURCE,
            compare="<=",
            cls="sanity",
            label="sigmoid unit, Adam, 2000 steps: no more than 3 of 4 (checks our training code)",
            history=(Change("every seed < 1", "2026-11-23", "as for rosenblatt_best_accuracy"),),
        ),
        Reference(
            "two_unit_network_accuracy",
            1.0,
            "L001 (a 2-unit hidden layer can)",
            compare="==",
            cls="exact",
            label="the hand-wired AND(OR, NAND) network",
        ),
    ),
    full=Profile(seeds=5),
    quick=Profile(seeds=1),
    notes=(
        "Grid: w1, w2, b each in {-3.0, -2.9, …, 3.0} (226,981 units), h(z) = 1 if z >= 0. No grid point "
        "can reach 4/4 because none exists at all: f(00)=0 needs b < 0, f(11)=0 needs w1 + w2 + b < 0, "
        "f(01)=f(10)=1 need w2 + b >= 0 and w1 + b >= 0; adding the last two gives w1 + w2 + 2b >= 0, "
        "which contradicts the sum of the first two. The trained attempts vary with the seed (Rosenblatt: "
        "a seeded integer start; sigmoid unit: Keras's seeded Glorot start)."
    ),
)
