"""Shared pieces of the residual-family targets (L004): their data (Fashion-MNIST, or CIFAR-10 through
tensorflow-datasets), He et al.'s CIFAR schedule scaled to this CPU, and training several networks
per seed, each with the runner's per-epoch checkpoints so a killed run resumes mid-network."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from keras_lecture_zoo.callbacks.batchnorm import recalibrate_batchnorm
from keras_lecture_zoo.reproductions.engine import Augmentation
from keras_lecture_zoo.reproductions.targets import _networks
from keras_lecture_zoo.reproductions.targets._data import image_data

DATASETS = ("fashion_mnist", "cifar10")
QUICK_TEST_SIZE = 1000
PAPER_STEPS = 64_000  # He et al.'s CIFAR-10 schedule


@dataclasses.dataclass(frozen=True)
class Budget:
    """residual.degradation's networks and training budget, whose trained networks landscape.resnet_vs_plain
    draws the surfaces of: every training image, ``epochs`` epochs (the measured seconds per epoch are in the
    published run.json of residual.degradation)."""

    networks: tuple = ("plain20", "plain56", "resnet20", "resnet56")
    train_size: int = 60_000
    epochs: int = 6
    batch_size: int = 128

    @property
    def steps(self) -> int:
        return self.epochs * math.ceil(self.train_size / self.batch_size)

    @property
    def short_of(self) -> str:
        """How far the budget falls short of the paper's schedule."""
        return (
            f"{self.steps:,} SGD steps per network against He et al.'s {PAPER_STEPS:,} ({self.steps / PAPER_STEPS:.1%})"
        )

    @property
    def ran(self) -> str:
        """What the rows ran, beside what their sources ran (--dataset cifar10 runs the same recipe)."""
        return f"here Fashion-MNIST (or CIFAR-10 with --dataset cifar10), {self.steps:,} steps"


DEGRADATION = Budget()
# He et al.'s CIFAR augmentation: 4 zero pixels on each side, a random crop back to size, random mirroring
HE_AUGMENTATION = Augmentation(pad=4, flip=True)
SCHEDULE = (
    "SGD with momentum 0.9 and weight decay 1e-4 (Keras' decoupled form), batch 128, learning rate 0.1 "
    "divided by 10 after 50% and 75% of the steps (He et al.'s 32k and 48k of 64k iterations, scaled), "
    "with He et al.'s augmentation (4-pixel zero padding, a random crop back to 28×28, random "
    "left-right mirroring; `reproductions.engine.Augmentation`)"
)


@functools.lru_cache(maxsize=2)
def _tfds_splits(name, validation_size, data_dir=None):
    """A tfds data set's splits; ``data_dir`` (the run's --data-dir) is tfds' own folder, else its default."""
    from keras_lecture_zoo.zoo import data

    return data.load_tfds(name, data_dir=data_dir, validation_size=validation_size)


def residual_data(ctx, *, train_size=None, validation_size=0.0, test_size=None):
    """Train/val/test arrays of the target's data set (``ctx.dataset``, default Fashion-MNIST).

    ``train_size`` (or the profile's) keeps the first N training images, ``test_size`` the first
    N test images (at most the profile's ``test_size`` option); both fixed subsets, the same in every seed.
    """
    limit = ctx.profile.options.get("test_size")
    if limit:
        test_size = min(test_size or limit, limit)
    name = ctx.dataset or DATASETS[0]
    if name == "cifar10":
        s = _tfds_splits(name, validation_size, None if ctx.data_dir is None else str(ctx.data_dir))
        d = {
            "x_train": s.x_train,
            "y_train": s.y_train,
            "x_val": s.x_val,
            "y_val": s.y_val,
            "x_test": s.x_test,
            "y_test": s.y_test,
        }
    else:
        d = image_data(name, ctx, validation_size=validation_size or None)
    n = ctx.profile.train_size or train_size
    d["x_train"], d["y_train"] = d["x_train"][:n], d["y_train"][:n]
    d["x_test"], d["y_test"] = d["x_test"][:test_size], d["y_test"][:test_size]
    if d.get("x_val") is not None and not len(d["x_val"]):
        d["x_val"] = d["y_val"] = None
    return d


def he_sgd(total_steps, learning_rate=0.1, momentum=0.9, weight_decay=1e-4):
    """SGD with He et al.'s step schedule over ``total_steps`` (÷10 at 50% and 75%)."""
    import keras

    bounds = [max(1, total_steps // 2), max(2, (3 * total_steps) // 4)]
    lr = keras.optimizers.schedules.PiecewiseConstantDecay(
        bounds, [learning_rate, learning_rate / 10, learning_rate / 100]
    )
    return keras.optimizers.SGD(lr, momentum=momentum, weight_decay=weight_decay)


def evaluate_train_and_test(model, d):
    """Loss and error on the training and the test images in inference mode, after recalibrating
    BatchNorm's statistics on the training images."""
    recalibrate_batchnorm(model, d["x_train"])
    out = {}
    for split in ("train", "test"):
        values = model.evaluate(d[f"x_{split}"], d[f"y_{split}"], batch_size=512, verbose=0, return_dict=True)
        out[f"{split}_loss"] = float(values["loss"])
        out[f"{split}_error"] = 1.0 - float(values["accuracy"])
    return out


def train_networks(ctx, d, builders, *, epochs, batch_size=128, evaluate=evaluate_train_and_test, augment=None):
    """Train each of ``builders`` (name -> seed -> uncompiled model) on ``d`` with :func:`he_sgd` over its own
    schedule (``epochs``: one count, or a dict by name), and ``augment`` (an :class:`Augmentation`, or none);
    returns name -> (metrics or None if diverged, model). See :func:`_networks.recipes`."""
    per_epoch = math.ceil(len(d["x_train"]) / batch_size)
    counts = {key: epochs[key] if isinstance(epochs, dict) else epochs for key in builders}
    optimizers = {key: (lambda steps=per_epoch * n: he_sgd(steps)) for key, n in counts.items()}
    trained = _networks.train_networks(
        ctx, d, builders, epochs=counts, optimizer=optimizers, batch_size=batch_size, evaluate=evaluate, augment=augment
    )
    return {key: (metrics, model) for key, (metrics, model, _) in trained.items()}


def nan_if_missing(metrics, key):
    return float("nan") if metrics is None else float(metrics.get(key, np.nan))
