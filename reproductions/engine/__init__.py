"""The engine: trains one :class:`Recipe` on one data set for one seed, into one work folder.

Its own concerns, and nothing else: determinism, the per-epoch checkpoint (model and optimizer variables,
Dropout seed generators, history, the callbacks' declared state and the fingerprint of the run, as ONE
file replaced by one rename, so a killed run resumes at the last finished epoch with the numbers an
uninterrupted run gives), the distributed step, and the small-model fast path. It knows no target,
no callback by name, and no command line: the suite (:mod:`reproductions.suite`) calls it.

A callback keeps its state across a resume by the contract of :mod:`callbacks` (``get_state`` /
``set_state``; arrays in the state are stored in the checkpoint as arrays) and may report numbers into
the run's metrics through ``result_metrics()``.

Seeds, one rule for the whole suite: everything random in seed ``s``'s work derives from ``s``. A network
is built after ``keras.utils.set_random_seed(s)``; epoch ``e`` visits the training set in the order
``numpy.random.default_rng([s, e])`` and starts from ``set_random_seed(derive_seed(s, e))``; any other
stream a target draws is ``numpy.random.default_rng([s, *keys])``, or ``derive_seed(s, *keys)`` where an
integer seed is needed.
"""

from keras_lecture_zoo.reproductions.engine.backend import backend_name, configure_determinism
from keras_lecture_zoo.reproductions.engine.batching import crop_indices, epoch_steps
from keras_lecture_zoo.reproductions.engine.checkpoint import CHECKPOINT, has_checkpoint
from keras_lecture_zoo.reproductions.engine.epochs import history_row, watches_batches
from keras_lecture_zoo.reproductions.engine.loop import (
    fit_full_batch_steps,
    resolve_steps_per_execution,
    save_network,
    train,
)
from keras_lecture_zoo.reproductions.engine.recipe import AUGMENT_KEY, Augmentation, Recipe, derive_seed

__all__ = [
    "Recipe",
    "Augmentation",
    "AUGMENT_KEY",
    "train",
    "derive_seed",
    "backend_name",
    "configure_determinism",
    "fit_full_batch_steps",
    "has_checkpoint",
    "save_network",
    "history_row",
    "watches_batches",
    "epoch_steps",
    "crop_indices",
    "resolve_steps_per_execution",
    "CHECKPOINT",
]
