"""The L001 XOR recipe shared by xor.keras_model1/2/3: MSE, Adam, batch 4, 1000 epochs."""

import numpy as np
import keras

import zoo
from reproductions.spec import Profile, Reference, Target
from reproductions.targets._data import xor_data


def evaluate(model, d):
    prob = model.predict(d["x_test"], verbose=0).reshape(-1)
    pred = (prob > 0.5).astype(int)
    out = {"accuracy": float(np.mean(pred == d["y_test"].reshape(-1)))}
    out.update({f"p({a}{b})": float(p) for (a, b), p in zip([(0, 0), (0, 1), (1, 0), (1, 1)], prob)})
    return out


def xor_target(name, builder, title, accuracy, probs):
    source = "L001 (Keras XOR, single run)"
    refs = (Reference("accuracy", accuracy, source, tolerance=0.0, label="lecture's single run"),) + tuple(
        Reference(f"p({k})", v, source, tolerance=0.05, label="lecture's predicted probability") for k, v in probs.items()
    )
    return Target(
        name=name,
        title=title,
        source=source,
        data=xor_data,
        build=lambda seed: zoo.build(builder, seed=seed),
        optimizer=lambda: keras.optimizers.Adam(),
        loss="mean_squared_error",
        metrics=("accuracy",),
        batch_size=4,
        full_batch_steps=True,
        steps_per_execution=50,
        evaluate=evaluate,
        references=refs,
        full=Profile(seeds=20, epochs=1000),
        quick=Profile(seeds=3, epochs=1000),
        notes=(
            "Each epoch of the lecture's fit is one full batch of the 4 points, so the runner trains the "
            "1000 epochs as one fit of 1000 steps (steps_per_execution=50); history rows every 50 steps are "
            "the loss and accuracy on the 4 points after that many updates. The lecture shows one run; we "
            "report the spread over seeds."
        ),
    )
