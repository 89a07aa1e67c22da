"""Training several networks within one seed of a custom target (a comparison of activations,
optimizers, regularisers, widths...): one :class:`~reproductions.engine.Recipe` per network, trained by
the engine through ``ctx.train_networks``, so a killed run resumes inside the network it was training
and never retrains a finished one."""

from __future__ import annotations

from keras_lecture_zoo.reproductions.engine import Recipe


def _per_network(value, key):
    return value[key] if isinstance(value, dict) else value


def recipes(
    builders,
    *,
    epochs,
    optimizer,
    loss="sparse_categorical_crossentropy",
    metrics=("accuracy",),
    batch_size=128,
    callbacks=None,
    evaluate=None,
    inspect=None,
    augment=None,
):
    """One recipe per builder (name -> seed -> uncompiled model). ``epochs``, ``optimizer`` (a factory),
    ``loss`` and ``batch_size`` may be one value for all or a dict by network name; ``callbacks(name)``
    returns fresh callbacks for a network; ``augment`` an :class:`~reproductions.engine.Augmentation` of the
    training batches."""
    return {
        key: Recipe(
            build=build,
            optimizer=_per_network(optimizer, key),
            loss=_per_network(loss, key),
            epochs=_per_network(epochs, key),
            metrics=tuple(metrics),
            batch_size=_per_network(batch_size, key),
            evaluate=evaluate,
            inspect=inspect,
            augment=augment,
            callbacks=(lambda _work_dir, key=key: callbacks(key)) if callbacks else None,
        )
        for key, build in builders.items()
    }


def train_networks(ctx, d, builders, **recipe):
    """Train each of ``builders`` on ``d`` with the shared recipe settings (see :func:`recipes`); returns
    name -> (metrics or None if diverged, trained model, outcome)."""
    return ctx.train_networks(d, recipes(builders, **recipe))
