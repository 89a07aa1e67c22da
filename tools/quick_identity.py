"""Whether a change of the code left every target's numbers as they were: runs the quick profile of the targets
at another commit (checked out into a scratch worktree) and at this checkout, seed by seed, and compares the
measured numbers bitwise (metrics.csv without its wall times, and every history/seed_<s>.csv).

    python tools/quick_identity.py OLD_COMMIT [TARGET...] [--keep DIR]

Prints one line per target (identical, or the first difference) and exits 1 if any target differs. A refactor
of the suite or the engine is done when this prints no difference against the commit before it."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def _is_time(column):
    """What a run measures that is not a number of a model: wall times (``wall_time_s``, ``*_seconds``)."""
    return column == "wall_time_s" or column.endswith("_seconds")


def start_quick(checkout, out, names):
    """Start the quick profile of ``names`` (every target when empty) from ``checkout`` into ``out``; both sides
    run at once (the numbers do not depend on what else runs)."""
    argv = [sys.executable, "-m", "reproductions", "run", *(names or ["all"]), "--quick", "--verbose", "0"]
    env = dict(os.environ, PYTHONPATH=str(checkout))
    log = open(Path(out).parent / f"{Path(out).name}.log", "w")
    return subprocess.Popen([*argv, "--output-dir", str(out)], cwd=checkout, env=env, stdout=log, stderr=log)


def differences(old, new):
    """{target: first difference, or "" when identical} over the target folders of two quick runs."""
    out = {}
    for folder in sorted(p for p in Path(new).iterdir() if (p / "metrics.csv").is_file()):
        other = Path(old) / folder.name
        out[folder.name] = _first_difference(other, folder) if other.is_dir() else "no run at the old commit"
    for folder in sorted(p for p in Path(old).iterdir() if (p / "metrics.csv").is_file()):
        out.setdefault(folder.name, "no run at this checkout")
    return out


def _first_difference(old, new):
    files = ["metrics.csv"] + sorted(p.relative_to(new).as_posix() for p in (new / "history").glob("*.csv"))
    files += [p.relative_to(old).as_posix() for p in (old / "history").glob("*.csv") if not (new / p.name).exists()]
    for name in dict.fromkeys(files):
        if not (old / name).is_file() or not (new / name).is_file():
            return f"{name} only at one side"
        a, b = (pd.read_csv(folder / name) for folder in (old, new))
        a, b = (t.drop(columns=[c for c in t.columns if _is_time(c)]) for t in (a, b))
        if list(a.columns) != list(b.columns) or a.shape != b.shape:
            return f"{name}: columns or rows differ"
        for column in a.columns:
            x, y = a[column].to_numpy(), b[column].to_numpy()
            same = (x == y) | (pd.isna(x) & pd.isna(y))
            if not same.all():
                row = int((~same).argmax())
                return f"{name}: {column} row {row}: {x[row]!r} then, {y[row]!r} now"
    return ""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the commit to compare with (e.g. the one before a refactor)")
    parser.add_argument("targets", nargs="*", help="targets to run (default: every target)")
    parser.add_argument("--keep", help="write both runs under this folder and keep them")
    args = parser.parse_args(argv)
    scratch = Path(args.keep or tempfile.mkdtemp(prefix="quick-identity-"))
    old_tree = scratch / "old-checkout"
    runs = []
    try:
        subprocess.run(["git", "worktree", "add", "--detach", str(old_tree), args.commit], cwd=ROOT, check=True)
        runs = [start_quick(tree, scratch / side, args.targets) for side, tree in (("old", old_tree), ("new", ROOT))]
        for side, proc in zip(("old", "new"), runs):
            if proc.wait() != 0:
                tail = (scratch / f"{side}.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise SystemExit(f"the {side} side's quick run failed: " + " | ".join(tail))
        found = differences(scratch / "old", scratch / "new")
    finally:
        for proc in runs:  # a side that failed ends the other
            if proc.poll() is None:
                proc.kill()
        subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT, check=False)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    for name, diff in found.items():
        print(f"{name:34s} {'identical' if not diff else 'DIFFERS: ' + diff}")
    differing = [n for n, d in found.items() if d]
    print(f"{len(found) - len(differing)} of {len(found)} targets identical to {args.commit[:12]}", file=sys.stderr)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
