"""mnist.mlp_keras: Keras's mnist_mlp example, 512-512 relu with dropout 0.2, RMSprop, batch 128, 20 epochs."""

import keras

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.spec import Export, Profile, Reference, Target
from keras_lecture_zoo.reproductions.targets._data import image_data

TARGET = Target(
    exports=(Export(network="mnist_mlp_keras", model="mnist_mlp_keras", dataset="mnist"),),
    name="mnist.mlp_keras",
    title="MNIST MLP 784-512-512-10 with dropout (Keras example)",
    source="Keras example mnist_mlp",
    data=lambda ctx: image_data("mnist", ctx, validation_size=0),
    recipe=Recipe(
        build=lambda seed: zoo.mnist_mlp_keras(),
        optimizer=lambda: keras.optimizers.RMSprop(),
        loss="sparse_categorical_crossentropy",
        metrics=("accuracy",),
        batch_size=128,
    ),
    references=(
        Reference(
            "test_accuracy",
            0.9840,
            "Keras example mnist_mlp (98.40%)",
            tolerance=0.003,
            cls="published",
            tolerance_rule="±0.003: about 2 binomial standard errors (0.0013) of one run's accuracy "
            "on 10,000 test images",
        ),
    ),
    full=Profile(seeds=5, epochs=20),
    quick=Profile(seeds=1, epochs=1, train_size=6000),
    notes="The example validates on the test set; we report the test accuracy after the last epoch.",
)
