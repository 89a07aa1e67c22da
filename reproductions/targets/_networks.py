"""Training several networks within one seed of a custom target (a comparison of activations,
optimizers, regularisers, widths...), each through the runner's checkpointed loop, so a killed run
resumes inside the network it was training and never retrains a finished one."""

from __future__ import annotations

import dataclasses

from reproductions.runner import train_model
from reproductions.spec import Profile, Target


def _per_network(value, key):
    return value[key] if isinstance(value, dict) else value


def train_networks(ctx, d, builders, *, epochs, optimizer, loss="sparse_categorical_crossentropy",
                   metrics=("accuracy",), batch_size=128, callbacks=None, evaluate=None, inspect=None):
    """Train each of ``builders`` (name -> seed -> uncompiled model) on ``d``.

    ``epochs``, ``optimizer`` (a factory), ``loss`` and ``batch_size`` may be one value for all or a
    dict by network name; ``callbacks(name, ctx)`` returns fresh callbacks for a network. Appends every
    network's epochs to ``ctx.history`` (``Network`` column) and its epoch wall times to
    ``ctx.epoch_seconds``; returns name -> (metrics or None if diverged, trained model, outcome).
    """
    trained = {}
    for i, (key, build) in enumerate(builders.items(), start=1):
        n_epochs = _per_network(epochs, key)
        sub = Target(
            name=f"{ctx.target.name}/{key}", title=key, source=ctx.target.source, references=(),
            full=Profile(1, n_epochs), quick=Profile(1, n_epochs), data=lambda _ctx: d, build=build,
            optimizer=_per_network(optimizer, key), loss=_per_network(loss, key), metrics=tuple(metrics),
            batch_size=_per_network(batch_size, key), evaluate=evaluate, inspect=inspect,
            callbacks=(lambda c, key=key: callbacks(key, c)) if callbacks else None,
        )
        seed_dir = ctx.seed_dir / key
        seed_dir.mkdir(parents=True, exist_ok=True)
        print(f"  network {i}/{len(builders)}: {key} ({n_epochs} epochs of {len(d['x_train'])} examples)", flush=True)
        outcome, model = train_model(sub, dataclasses.replace(ctx, target=sub, profile=sub.full, seed_dir=seed_dir), d)
        ctx.history.extend({**row, "Network": key} for row in outcome["history"])
        ctx.epoch_seconds[key] = next(iter(outcome["epoch_seconds"].values()))
        trained[key] = (None if outcome["diverged_epoch"] else outcome["metrics"], model, outcome)
    return trained
