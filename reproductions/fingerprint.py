"""What produced a target's unfinished work (target, profile, config, data set, strategy, code, and the networks
of other targets it uses), built and checked here: ``--resume`` continues only work of the same fingerprint."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from keras_lecture_zoo.reproductions.errors import ResumeMismatch
from keras_lecture_zoo.reproductions.fileio import sha256_of
from keras_lecture_zoo.reproductions.results_folder import NETWORKS_MANIFEST

__all__ = ["fingerprint", "check_fingerprint", "source_digest"]

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_SOURCE_PACKAGES = ("zoo", "callbacks", "reproductions")


def source_digest():
    """SHA-256 over the .py files of the installed zoo, callbacks and reproductions packages: the
    version of the code that runs, whatever the current directory or git state."""
    if not hasattr(source_digest, "_value"):
        h = hashlib.sha256()
        for package in _SOURCE_PACKAGES:
            for path in sorted((_PACKAGE_ROOT / package).rglob("*.py")):
                h.update(str(path.relative_to(_PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
        source_digest._value = h.hexdigest()
    return source_digest._value


def fingerprint(target, settings, distribution=None):
    """What produced a target's work: resumed work must have been made by the same of each (for a target
    that uses another's trained networks, the same networks: their manifest's SHA-256)."""
    replicas = 1 if distribution is None else distribution.replicas
    uses = {}
    for name in target.needs:
        manifest = settings.output_dir / name / NETWORKS_MANIFEST
        uses[name] = sha256_of(manifest) if manifest.is_file() else None
    return {
        "target": target.name,
        "profile": settings.profile,
        "config": json.loads(json.dumps(target.config(settings.profile), default=str)),
        "dataset": settings.dataset or (target.datasets[0] if target.datasets else None),
        "strategy": {"name": "default" if distribution is None else distribution.name, "replicas": replicas},
        "code": source_digest(),
        **({"uses": uses} if target.needs else {}),
    }


def check_fingerprint(found, wanted, where):
    """Raise :class:`ResumeMismatch` unless the stored fingerprint ``found`` equals ``wanted``."""
    if found != wanted:
        raise ResumeMismatch(
            f"--resume refused: the unfinished work in {where} was made by a different run "
            f"({_difference(found, wanted)}); rerun without --resume to start over"
        )


def _difference(found, wanted):
    """'profile: quick here, full now; ...' for the keys whose values differ."""
    if not isinstance(found, dict):
        return "the unfinished work carries no fingerprint (written by an older version)"
    parts = []
    for key in wanted:
        if found.get(key) != wanted[key]:
            a, b = found.get(key), wanted[key]
            if key == "code":
                parts.append(f"code: source digest {str(a)[:12]} there, {str(b)[:12]} now (the code changed)")
            elif key == "config" and isinstance(a, dict):
                parts.append(
                    "config: " + ", ".join(f"{k} {x!r} there, {y!r} now" for k, x, y in _dict_difference(a, b))
                )
            else:
                parts.append(f"{key}: {a!r} there, {b!r} now")
    return "; ".join(parts)


def _dict_difference(a, b, prefix=""):
    """(dotted key, value there, value now) for every differing leaf of two nested dicts."""
    out = []
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _dict_difference(x, y, f"{prefix}{k}.")
        elif x != y:
            out.append((f"{prefix}{k}", x, y))
    return out
