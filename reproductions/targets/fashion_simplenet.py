"""fashion.simplenet: L000's FashionSimpleNet on Fashion-MNIST, Adam, cross-entropy, early stopping
on validation loss with best-model saving, per-epoch stats in the lecture's columns."""

import dataclasses

from keras_lecture_zoo.callbacks import EarlyStopping
from keras_lecture_zoo.reproductions.spec import Export, Profile, Retired, Target
from keras_lecture_zoo.reproductions.targets._fashion import SIMPLENET, simplenet_data

BENCHMARK = "Fashion-MNIST benchmark (zalandoresearch/fashion-mnist README)"

TARGET = Target(
    exports=(Export(network="fashion_simplenet", model="fashion_simplenet", dataset="fashion_mnist"),),
    name="fashion.simplenet",
    title="FashionSimpleNet (2 conv + pool, dropout, 128 FC) with early stopping",
    source="L000",
    data=simplenet_data,
    recipe=dataclasses.replace(
        SIMPLENET,
        callbacks=lambda work_dir: [
            EarlyStopping(
                monitor="val_loss", patience=3, restore_best_weights=True, save_best_path=work_dir / "best.keras"
            )
        ],
    ),
    references=(),
    retired=(
        Retired(
            "test_accuracy",
            "every seed >= 0.876 (2 conv + pooling, Keras, the benchmark's lower end)",
            "2026-11-23",
            "a floor 4 points under the row above cannot realistically fail",
        ),
        Retired(
            "test_accuracy",
            f"± 0.01 of 0.916, {BENCHMARK}: 2 conv + pooling (TF doc)",
            "2026-12-07",
            "not like for like: the benchmark's row is the TF-doc convnet (5×5 convolutions, a 1024-unit layer) "
            "trained for over 300 epochs, not FashionSimpleNet with early stopping, and L000 gives no number "
            "of its own; the test accuracy stays in metrics.csv",
        ),
    ),
    full=Profile(seeds=5, epochs=30),
    quick=Profile(seeds=1, epochs=2, train_size=6000),
    notes="Early stopping on val_loss, patience 3, best weights restored; validation = last 10% of the training set.",
)
