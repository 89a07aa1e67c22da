"""The project speaks only of itself and its users: no tracked file holds an absolute path of the machine that
made it, nor words about the environment it was developed in rather than the product."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# One machine's file system, as a record or a doc would quote it.
MACHINE_PATHS = re.compile(r"(?<![\w.])/(?:work|home|root|Users|tmp/pytest-of-|tmp/runs)/[\w.-]")
# Words about borrowed machines and the people who ran things, not about the product.
ENVIRONMENT_WORDS = re.compile(r"\blent\b|\$OUT\b|carry=|device time|files_at|budget_left|\bsittings?\b", re.IGNORECASE)


def _tracked():
    try:
        names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    skip = {Path(__file__).name}
    return [
        ROOT / n
        for n in names.splitlines()
        if Path(n).name not in skip
        and Path(n).suffix in (".py", ".md", ".json", ".csv", ".ini", ".cfg", ".sh", ".toml", ".txt", "")
    ]


def test_no_tracked_file_holds_a_machine_path_or_words_about_the_development_environment():
    found = []
    for path in _tracked():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, IsADirectoryError, FileNotFoundError):
            continue
        for pattern in (MACHINE_PATHS, ENVIRONMENT_WORDS):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r}")
    assert not found, "\n".join(found[:20]) + (f"\n... and {len(found) - 20} more" if len(found) > 20 else "")


def test_a_run_record_names_folders_portably():
    from keras_lecture_zoo.reproductions.cli.published import PUBLISHED
    from keras_lecture_zoo.reproductions.cli.record import OUTSIDE, portable_argv

    argv = ["run", "gates", "--output-dir", str(PUBLISHED), "--data-dir=/srv/data/sets", "--seeds", "3"]
    assert portable_argv(argv) == [
        "run",
        "gates",
        "--output-dir",
        "results",
        f"--data-dir={OUTSIDE}/sets",
        "--seeds",
        "3",
    ]
    assert portable_argv(["run", "gates", "--output-dir", "my-results"])[-1] == "my-results"
