"""mnist.convnet: keras.io "Simple MNIST convnet" (34,826 params), Adam, batch 128, 15 epochs, 10% validation."""

import keras

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.spec import Export, Profile, Reference, Target, spread
from keras_lecture_zoo.reproductions.targets._data import image_data

TARGET = Target(
    exports=(Export(network="mnist_convnet", model="mnist_convnet", dataset="mnist"),),
    name="mnist.convnet",
    title="Simple MNIST convnet (keras.io)",
    source="keras.io Simple MNIST convnet",
    data=lambda ctx: image_data("mnist", ctx, validation_size=0.1),
    recipe=Recipe(
        build=lambda seed: zoo.mnist_convnet(),
        optimizer=lambda: keras.optimizers.Adam(),
        loss="sparse_categorical_crossentropy",
        metrics=("accuracy",),
        batch_size=128,
    ),
    references=(
        Reference(
            "test_accuracy",
            0.9922,
            "keras.io Simple MNIST convnet (single run)",
            tolerance=0.002,
            cls="published",
            tolerance_rule="±0.002: 2 binomial standard errors (0.001) of one run's accuracy on 10,000 test images",
        ),
    ),
    full=Profile(seeds=3, epochs=15),
    quick=Profile(seeds=1, epochs=1, train_size=6000),
    notes=(
        "The example's recipe: pixels scaled to [0, 1], one-hot labels with categorical cross-entropy "
        "(here integer labels with the sparse form, the same loss), Adam with defaults, batch 128, "
        "15 epochs, validation_split=0.1 (the last 6,000 training images). The example's 0.9922 is one run; "
        "the tolerance ±0.002 is about twice the seed-to-seed spread we see."
    ),
    causes={
        "test_accuracy": lambda results: (
            f"ours {spread(results, 'test_accuracy')}; the reference is one run of the example"
        )
    },
)
