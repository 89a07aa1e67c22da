"""One seed's work as a target sees it (:class:`Context`): the run's settings, its profile, where its per-seed
details, per-epoch rows, epoch times and trained networks go, and the engine to train networks through."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from keras_lecture_zoo.reproductions import engine
from keras_lecture_zoo.reproductions.errors import RunRefused
from keras_lecture_zoo.reproductions.fileio import sha256_of
from keras_lecture_zoo.reproductions.results_folder import NETWORKS_MANIFEST, network_entry
from keras_lecture_zoo.reproductions.settings import RunSettings
from keras_lecture_zoo.reproductions.spec import Target

__all__ = ["Context"]


@dataclasses.dataclass
class Context:
    """One seed's work: the target, the run's :class:`~reproductions.settings.RunSettings`, the seed and its work
    folder, and what the seed records (``extras``, ``history``, ``epoch_seconds``, ``networks``)."""

    target: Target
    settings: RunSettings
    seed: int = 0
    seed_dir: Path | None = None
    extras: dict = dataclasses.field(default_factory=dict)  # JSON-able per-seed details (exact/custom)
    history: list = dataclasses.field(default_factory=list)  # per-epoch rows (custom targets)
    epoch_seconds: dict = dataclasses.field(default_factory=dict)  # network -> wall time of each epoch
    distribution: object = None  # a distribute.Distribution (``--strategy``); None: one device
    fingerprint: dict | None = None  # what produced this work (reproductions.fingerprint); stored in checkpoints
    networks: dict = dataclasses.field(default_factory=dict)  # network -> its artifact (weights file, recipe, metrics)

    @property
    def profile(self):
        """The target's :class:`~reproductions.spec.Profile` that runs."""
        return self.target.profile(self.settings.profile)

    @property
    def options(self) -> dict:
        """The profile's target-specific settings (e.g. the widths of a sweep)."""
        return self.profile.options

    @property
    def data_dir(self) -> Path | None:
        return self.settings.data_dir

    @property
    def output_dir(self) -> Path:
        return self.settings.output_dir

    @property
    def dataset(self) -> str | None:
        """The ``--dataset`` asked for; None: the target's default."""
        return self.settings.dataset

    @property
    def verbose(self) -> int:
        return self.settings.verbose

    def train_network(self, key, recipe, d):
        """Train one network of this seed through the engine, in ``seed_dir/<key>`` (so a killed run
        resumes inside it), keep its weights as an artifact and its epochs in ``history`` (``Network``
        column); returns (outcome, trained model)."""
        outcome, model = engine.train(recipe, d, seed=self.seed, work_dir=self.seed_dir / key, context=self)
        self.history.extend({**row, "Network": key} for row in outcome["history"])
        self.epoch_seconds[key] = next(iter(outcome["epoch_seconds"].values()))
        self.keep(key, model, outcome, self.seed_dir / key)
        return outcome, model

    def train_networks(self, d, recipes):
        """Train each of ``recipes`` (network name -> :class:`~reproductions.engine.Recipe`) on ``d``;
        returns name -> (metrics, or None if it diverged; trained model; outcome)."""
        trained = {}
        for i, (key, recipe) in enumerate(recipes.items(), start=1):
            print(
                f"  network {i}/{len(recipes)}: {key} ({recipe.epochs} epochs of {len(d['x_train'])} examples)",
                flush=True,
            )
            outcome, model = self.train_network(key, recipe, d)
            trained[key] = (None if outcome["diverged_epoch"] else outcome["metrics"], model, outcome)
        return trained

    def trained_network(self, target_name, network, build):
        """A network that ``target_name`` (one of this target's ``needs``) trained for this seed in this output
        folder, under this profile and data set: ``build()`` with its kept weights loaded once their SHA-256
        matches the manifest. Returns (model, manifest entry: recipe, metrics, digest); the model is None when
        the network diverged there (its entry says at which epoch)."""
        folder = self.output_dir / target_name
        quick = " --quick" if self.settings.quick else ""
        fix = f"run it first into the same folder: python -m reproductions run {target_name} {self.target.name}{quick}"
        dataset = (self.fingerprint or {}).get("dataset")
        entry = network_entry(folder, network, self.seed, self.settings.profile, dataset)
        if isinstance(entry, str):
            raise RunRefused(
                f"{self.target.name} uses the {network} that {target_name} trains for seed {self.seed}, "
                f"but {entry}; {fix}"
            )
        if entry.get("diverged_epoch"):
            return None, entry
        path = folder / entry["file"]
        if sha256_of(path) != entry["sha256"]:
            raise RunRefused(
                f"{path} does not match the SHA-256 in {folder / NETWORKS_MANIFEST} (changed since "
                f"{target_name} wrote it); {fix}"
            )
        model = build()
        model.load_weights(path)
        return model, entry

    def keep_network(self, key, model, metrics, recipe):
        """Keep a network trained by a target's own loop (not the engine) as the engine keeps its networks: the
        weights file, its SHA-256, the recipe and the network's final metrics."""
        self.keep(key, model, {"recipe": recipe, "metrics": metrics, "diverged_epoch": None}, self.seed_dir / key)

    def keep(self, key, model, outcome, folder):
        """Keep the network an engine ``outcome`` trained (its weights in ``folder``, unless it diverged)."""
        entry = {
            "recipe": outcome["recipe"],
            "metrics": outcome["metrics"],
            "diverged_epoch": outcome["diverged_epoch"],
        }
        if not outcome["diverged_epoch"]:
            path = Path(folder) / f"{key}.weights.h5"
            entry.update(file=str(path), **engine.save_network(model, path))
        self.networks[key] = entry
