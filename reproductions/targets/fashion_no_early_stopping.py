"""fashion.no_early_stopping: FashionSimpleNet trained on without early stopping, to show overfitting (L000)."""

import dataclasses

from keras_lecture_zoo.reproductions.spec import Change, Profile, Reference, Target
from keras_lecture_zoo.reproductions.targets._data import QUICK_EVAL_SIZE
from keras_lecture_zoo.reproductions.targets._fashion import SIMPLENET, simplenet_data


def overfitting(history):
    """Where validation loss bottoms out, how far it rises after, and how train loss moves meanwhile."""
    val = [row["Validation Loss"] for row in history]
    train = [row["Train Loss"] for row in history]
    best = min(range(len(val)), key=val.__getitem__)
    return {
        "best_val_loss_epoch": float(history[best]["Epoch"]),
        "val_loss_min": val[best],
        "val_loss_final": val[-1],
        "val_loss_rise": val[-1] - val[best],
        "train_loss_fall_after_best": train[best] - train[-1],
        "train_val_gap_final": val[-1] - train[-1],
    }


# fashion.simplenet's recipe (data, model, optimizer, loss, batch size) without its early stopping
TARGET = Target(
    name="fashion.no_early_stopping",
    title="FashionSimpleNet without early stopping: validation loss turns upward",
    source="L000 (training curves)",
    data=simplenet_data,
    recipe=dataclasses.replace(SIMPLENET, history_metrics=overfitting),
    references=(
        Reference(
            "val_loss_rise",
            0.0,
            "L000: validation loss turns upward",
            compare=">",
            cls="claim",
            margin=0.01,
            label="final val loss above its minimum; loss claims need 0.01 nats",
            history=(Change("every seed > 0", "2026-11-23", "a claim needs an effect size beyond the seed noise"),),
        ),
        Reference(
            "train_loss_fall_after_best",
            0.0,
            "L000: while train loss keeps falling",
            compare=">",
            cls="claim",
            margin=0.01,
            label="train loss lower at the end than at the val-loss minimum; loss claims need 0.01 nats",
            history=(Change("every seed > 0", "2026-11-23", "a claim needs an effect size beyond the seed noise"),),
        ),
    ),
    full=Profile(seeds=3, epochs=30),
    quick=Profile(seeds=1, epochs=3, train_size=6000, options={"eval_size": QUICK_EVAL_SIZE}),
    notes=(
        "fashion.simplenet's recipe (Adam, batch 128, last 10% of the training set for validation) with "
        "early stopping off for 30 epochs; fashion.simplenet stopped at epochs 14-22 with patience 3. "
        "curves.png shows train (solid) and validation (dashed) loss per seed, as in the lecture's plot."
    ),
    causes={
        "*": lambda results: (
            "the validation-loss minimum fell at epoch(s) "
            + ", ".join(
                str(int(min(r["history"], key=lambda row: row["Validation Loss"])["Epoch"])) for r in results.values()
            )
            + f" of {len(next(iter(results.values()))['history'])}: the curve had not turned up by the end"
        )
    },
)
