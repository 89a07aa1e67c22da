"""fashion.simplenet: L000's FashionSimpleNet on Fashion-MNIST, Adam, cross-entropy, early stopping
on validation loss with best-model saving, per-epoch stats in the lecture's columns."""

import dataclasses

from callbacks import EarlyStopping
from reproductions.spec import Export, Profile, Reference, Retired, Target
from reproductions.targets._fashion import SIMPLENET, simplenet_data

BENCHMARK = "Fashion-MNIST benchmark (zalandoresearch/fashion-mnist README)"

TARGET = Target(
    exports=(Export(network="fashion_simplenet", model="fashion_simplenet", dataset="fashion_mnist"),),
    name="fashion.simplenet",
    title="FashionSimpleNet (2 conv + pool, dropout, 128 FC) with early stopping",
    source="L000",
    data=simplenet_data,
    recipe=dataclasses.replace(SIMPLENET, callbacks=lambda work_dir: [
        EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True, save_best_path=work_dir / "best.keras")
    ]),
    references=(
        Reference("test_accuracy", 0.916, BENCHMARK + ": 2 conv + pooling (TF doc)", tolerance=0.01, cls="published",
                  tolerance_rule="±0.01, the rule for the benchmark's single-run rows (its 2-conv rows alone span "
                                 "0.876–0.916)"),
    ),
    retired=(Retired("test_accuracy", "every seed >= 0.876 (2 conv + pooling, Keras, the benchmark's lower end)", "2026-11-23",
                     "a floor 4 points under the row above cannot realistically fail (issue 15)"),),
    full=Profile(seeds=5, epochs=30),
    quick=Profile(seeds=1, epochs=2, train_size=6000),
    notes="Early stopping on val_loss, patience 3, best weights restored; validation = last 10% of the training set.",
)
