"""Shared pieces of the Fashion-MNIST targets: the lecture's FashionSimpleNet recipe (L000) and the
paper's standardised pixels for the scikit-learn baselines (Xiao et al. 2017)."""

import keras

from keras_lecture_zoo import zoo
from keras_lecture_zoo.reproductions.engine import Recipe
from keras_lecture_zoo.reproductions.targets._data import image_data

PAPER = "Xiao et al. 2017, Fashion-MNIST paper, Table 3 (best setting)"

# L000's recipe: FashionSimpleNet, Adam, sparse cross-entropy, batch 128 (callbacks per target)
SIMPLENET = Recipe(
    build=lambda seed: zoo.fashion_simplenet(),
    optimizer=lambda: keras.optimizers.Adam(),
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    batch_size=128,
)


def simplenet_data(ctx):
    """Fashion-MNIST with the last 10% of the training set for validation, as L000 trains."""
    return image_data("fashion_mnist", ctx, validation_size=0.1)


def standardised(ctx):
    """Fashion-MNIST pixels as flat vectors, standardised by a scaler fitted on the training images."""
    from sklearn.preprocessing import StandardScaler

    d = image_data("fashion_mnist", ctx, validation_size=0)
    scaler = StandardScaler().fit(d["x_train"].reshape(len(d["x_train"]), -1))
    x_train = scaler.transform(d["x_train"].reshape(len(d["x_train"]), -1))
    x_test = scaler.transform(d["x_test"].reshape(len(d["x_test"]), -1))
    return x_train, d["y_train"], x_test, d["y_test"]
