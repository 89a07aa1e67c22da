"""Errors that stop a run before it can write a wrong number: the CLI prints their one line and exits 2."""

from __future__ import annotations

__all__ = [
    "RunRefused",
    "CheckpointError",
    "ResumeMismatch",
    "UnsafeOutput",
    "SeedProcessError",
    "UsageError",
    "first_line",
]


class RunRefused(RuntimeError):
    """A run that cannot go on safely; its message says what is wrong and what to do."""


class CheckpointError(RunRefused):
    """A checkpoint that is damaged, from an older format, or inconsistent with itself."""


class ResumeMismatch(RunRefused):
    """``--resume`` over work that a different target, profile, config, data set, strategy or code produced."""


class UnsafeOutput(RunRefused):
    """The output folder holds something this tool did not write and would overwrite (a README.md)."""


def first_line(exc) -> str:
    """The first line of an exception's message (its type's name when it has none): what a one-line error quotes."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SeedProcessError(RuntimeError):
    """A ``--jobs`` worker process exited with an error (its log says why): exit status 1."""


class UsageError(Exception):
    """Bad command-line input: reported in one line, exit status 2."""
