"""mnist.mlp_lecture: L001's Keras MNIST network 784 → 32 relu → 10, Adam, batch 32, 10 epochs."""

import keras

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.spec import Export, Profile, Retired, Target
from keras_lecture_zoo.reproductions.targets._data import image_data

TARGET = Target(
    exports=(Export(network="mnist_mlp_lecture", model="mnist_mlp_lecture", dataset="mnist"),),
    name="mnist.mlp_lecture",
    title="MNIST MLP 784-32-10 (L001 Keras slide)",
    source="L001",
    data=lambda ctx: image_data("mnist", ctx, validation_size=0.1),
    recipe=Recipe(
        build=lambda seed: zoo.mnist_mlp_lecture(),
        optimizer=lambda: keras.optimizers.Adam(),
        loss="sparse_categorical_crossentropy",
        metrics=("accuracy",),
        batch_size=32,
    ),
    references=(),
    retired=tuple(
        Retired(
            "test_accuracy",
            f"every seed >= {1 - err:.3f} (LeCun's 2-layer NN, {units} hidden units: {err:.1%} error)",
            "2026-11-23",
            "a floor set by other, 10-30× larger nets cannot realistically fail for this one; "
            "the lecture gives no number for its 32-unit net, so the target reports its accuracy without a row",
        )
        for units, err in ((300, 0.047), (1000, 0.045))
    ),
    full=Profile(seeds=5, epochs=10),
    quick=Profile(seeds=1, epochs=1, train_size=6000),
    notes=(
        "The lecture gives the architecture but no training recipe or number. We train with Adam (defaults), "
        "batch 32 (the Keras default), 10 epochs, softmax + cross-entropy, validating on the last 10% of the "
        "training set. The target has no results row: the lecture gives no number for its 32-unit net, and "
        "LeCun's 300- and 1000-unit rows, once used as a floor, could not realistically fail for it (see the "
        "criterion history); its test accuracy is in the per-seed metrics, and its trained weights ship with the zoo."
    ),
)
