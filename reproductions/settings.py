"""One run's settings as one value: built once (by the command line, or by a user's own script), checked in one
place, handed down to every seed, and written to a file for ``--jobs`` worker processes to read back.

Each setting is named as its command-line option names it (``jobs`` is ``--jobs``), and so are its errors, so a
refusal reads the same from the command line and from Python. Light: no TensorFlow."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from keras_lecture_zoo.reproductions.spec import MAX_SEED, PROFILES

__all__ = ["RunSettings", "SettingsError", "parse_seeds", "check_seeds", "BACKENDS", "STRATEGIES", "MAX_SEED_COUNT"]

BACKENDS = ("tensorflow", "jax", "torch")
# tf.distribute strategies (reproductions.distribute sets them up; named here so the check needs no TensorFlow)
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")
MAX_SEED_COUNT = 10_000  # --seeds N beyond this is surely meant as one seed


class SettingsError(ValueError):
    """A setting no run can take: one line naming the option, what it got and what it allows (exit status 2)."""


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """How a run goes: where its results go and its data come from, which profile and seeds it runs, and how it
    spreads the work. ``seeds`` None takes each target's profile's seeds (0..N-1)."""

    output_dir: Path
    profile: str = "full"
    seeds: tuple | None = None
    data_dir: Path | None = None
    dataset: str | None = None
    backend: str | None = None
    strategy: str = "default"
    devices: int = 2
    jobs: int = 1
    resume: bool = False
    verbose: int = 1
    publish: bool = False

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: normalise the fields once, here
        set_(self, "output_dir", Path(self.output_dir))
        set_(self, "data_dir", None if self.data_dir is None else Path(self.data_dir))
        set_(self, "seeds", None if self.seeds is None else tuple(check_seeds(self.seeds)))
        if self.profile not in PROFILES:
            raise SettingsError(f"profile must be one of {list(PROFILES)}, got {self.profile!r}")
        _check_count("--jobs", self.jobs, "a positive number of processes")
        _check_count("--devices", self.devices, "a positive number of logical CPU devices")
        if self.strategy not in STRATEGIES:
            raise SettingsError(f"--strategy must be one of {list(STRATEGIES)}, got {self.strategy!r}")
        if self.jobs > 1 and self.strategy != "default":
            raise SettingsError(
                f"--jobs {self.jobs} cannot be combined with --strategy {self.strategy}: --jobs runs seeds as "
                "single-device processes, a strategy gives one seed all devices; use one or the other"
            )
        if self.backend is not None and self.backend not in BACKENDS:
            raise SettingsError(f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.verbose not in (0, 1, 2):
            raise SettingsError(f"--verbose must be 0, 1 or 2, got {self.verbose!r}")
        if self.data_dir is not None and not self.data_dir.is_dir():
            raise SettingsError(f"--data-dir {str(self.data_dir)!r} is not a directory")

    @property
    def quick(self) -> bool:
        return self.profile == "quick"

    def seeds_of(self, target) -> list:
        """The seeds ``target`` runs under these settings, once it is checked against them."""
        self.check_target(target)
        return target.run_seeds(self.profile, self.seeds)

    def check_target(self, target):
        """Whether these settings can run ``target``: a data set it offers, and a module for ``--jobs`` workers."""
        if self.dataset is not None and self.dataset not in target.datasets:
            raise SettingsError(
                f"--dataset {self.dataset!r} is not offered by target {target.name!r} (it offers "
                f"{list(target.datasets) or 'only its own'})"
            )
        if self.jobs > 1 and not target.module:
            raise SettingsError(
                f"--jobs {self.jobs} runs seeds in worker processes, which import a target from its module; "
                f"{target.name} has none (register it in reproductions.targets), so run it with --jobs 1"
            )

    def check_output_dir(self):
        """The results folder is a folder, or can be made as one; checked before anything is created."""
        path = self.output_dir
        if path.exists():
            if not path.is_dir():
                raise SettingsError(
                    f"--output-dir {str(path)!r} is a file, not a folder; give a folder for the results"
                )
            if not os.access(path, os.W_OK | os.X_OK):
                raise SettingsError(f"--output-dir {str(path)!r} is not writable; give a folder you can write to")
            return
        parent = path.absolute().parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            raise SettingsError(f"--output-dir {str(path)!r} cannot be created: {str(parent)!r} is a file")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise SettingsError(f"--output-dir {str(path)!r} cannot be created: no write permission in {str(parent)!r}")

    def to_json(self) -> str:
        fields = dataclasses.asdict(self)
        for key in ("output_dir", "data_dir"):
            fields[key] = None if fields[key] is None else str(fields[key])
        fields["seeds"] = None if self.seeds is None else list(self.seeds)
        return json.dumps(fields, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSettings:
        fields = json.loads(text)
        unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise SettingsError(f"run settings hold unknown fields {sorted(unknown)}")
        return cls(**fields)


def _check_count(flag, value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SettingsError(f"{flag} must be {what}, got {value!r}")


def check_seeds(seeds) -> list:
    """``seeds`` as a list of distinct ints in [0, 2**32 - 1], at least one."""
    import numbers

    seeds = list(seeds)
    if not seeds:
        raise SettingsError("--seeds must name at least one seed, got none")
    bad = [s for s in seeds if not isinstance(s, numbers.Integral) or isinstance(s, bool) or not 0 <= s <= MAX_SEED]
    if bad:
        raise SettingsError(f"--seeds must be integers from 0 to {MAX_SEED} (2**32-1), got {bad[0]!r}")
    if len(set(seeds)) != len(seeds):
        raise SettingsError(f"--seeds must be distinct, got {seeds!r}")
    return [int(s) for s in seeds]


def parse_seeds(text):
    """``--seeds`` as typed: a count N (seeds 0..N-1) or a comma-separated list; None when not given."""
    if text is None:
        return None
    if text.strip() == "0":
        raise SettingsError(
            "--seeds 0 would run no seeds: --seeds N is a count (seeds 0..N-1); for seed 0 alone "
            "write --seeds 1 or the list --seeds 0,"
        )
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",") if s.strip()]
        else:
            count = int(text)
            if count < 1:
                raise ValueError
            if count > MAX_SEED_COUNT:
                raise SettingsError(
                    f"--seeds {text} is a count of seeds (0..N-1), at most {MAX_SEED_COUNT:,}; for that one "
                    f"seed write the list --seeds {text},"
                )
            seeds = list(range(count))
    except SettingsError:
        raise
    except ValueError:
        raise SettingsError(
            f"--seeds must be a count (e.g. 5) or a comma-separated list (e.g. 0,1,7), got {text!r}"
        ) from None
    if not seeds:
        raise SettingsError(f"--seeds {text!r} names no seed: give a count (e.g. 5) or a list (e.g. 0,1,7)")
    return tuple(check_seeds(seeds))
