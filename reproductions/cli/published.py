"""The published results set (``results/`` of this checkout) and the rules for writing it: ``--publish`` only,
from a clean commit, over committed results. A user's runs go to ``my-results/``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from keras_lecture_zoo.reproductions.errors import UsageError

# The published results set: the committed tables of this checkout. Only `--publish` writes here.
CHECKOUT = Path(__file__).resolve().parents[2]  # the folder that holds zoo/, callbacks/, reproductions/
PUBLISHED = CHECKOUT / "results"


USER_RESULTS = "my-results"  # a user's runs, beside the published set (ignored by git)


def is_published(path):
    """Whether ``path`` is the published results folder or lies inside it."""
    path, published = Path(path).resolve(), PUBLISHED.resolve()
    return path == published or published in path.parents


def refuse_published(path, flag):
    """A folder option that names the published set is refused without ``--publish``."""
    if is_published(path):
        raise UsageError(
            f"{flag} {str(path)!r} is the published results set (committed tables); a run of yours goes "
            f"to {USER_RESULTS}/ by default, or pass --publish to replace the published set deliberately"
        )


def check_publishable(what, flag="--publish"):
    """--publish (or another ``flag`` that writes the published set) needs a checkout with a results/ folder
    and a clean source tree (published numbers come from committed code); returns the commit."""
    if not PUBLISHED.is_dir():
        raise UsageError(
            f"{flag}: no published results folder at {PUBLISHED} (this is not a checkout of the "
            "project); write your run to a folder of your own with --output-dir"
        )
    commit = git_commit()
    if commit.startswith("unknown") or commit.endswith("+uncommitted changes"):
        elsewhere = ", or write to your own folder without --publish" if flag == "--publish" else ""
        raise UsageError(
            f"{flag} {what} only from a clean commit, and the source tree is {commit}; commit "
            f"(or stash) your changes first{elsewhere}"
        )
    changed = uncommitted_results()
    if changed:
        raise UsageError(
            f"{flag} {what} only over committed results, and {len(changed)} file(s) under "
            f"{PUBLISHED.name}/ differ from the commit (first: {changed[0]}); commit them, or restore "
            f"them with `git checkout -- {PUBLISHED.name}`"
        )
    return commit


def uncommitted_results():
    """Paths under the published results folder that git shows as changed or untracked (ignored ones aside)."""
    out = subprocess.run(
        ["git", "status", "--porcelain", "--", PUBLISHED.name],
        cwd=PUBLISHED.parent,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [line[3:] for line in out.splitlines() if line.strip()]


def published_record(name):
    """The run record (run.json) of the published run of target ``name``; {} when there is none."""
    import json

    try:
        record = json.loads((PUBLISHED / name / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def publish_folder(output_dir, what):
    """--publish works on the published set: an --output-dir elsewhere contradicts it."""
    if output_dir is not None and not is_published(output_dir):
        raise UsageError(f"--publish {what} the published set {PUBLISHED}; drop --output-dir {output_dir!r}")
    return PUBLISHED


def git_commit():
    """Commit and dirty state of the source tree the running package was imported from (not of the
    current directory); 'unknown (...)' when that tree is not a git checkout."""
    root = CHECKOUT
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        if Path(top).resolve() != root:
            return f"unknown (the package at {root} is not the root of a git checkout)"
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!results", ":!results-*"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return f"unknown (the package at {root} is not in a git checkout)"
