"""The README as a newcomer uses it: every command and snippet runs as written in the environment the
Quick start sets up (the long runs as --dry-run), none of them changes the published results/, and its
example output, model table and times are the ones the code gives."""

import configparser
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
BIN = Path(sys.executable).parent

# README run commands that run for real (seconds each); every other `run` runs as --dry-run.
RUN_AS_WRITTEN = {
    "python -m reproductions run xor.keras_model2",
    "python -m reproductions run gates losses --seeds 3",
}


def _blocks(language):
    """(section, code) of every fenced block in ``language``, in README order."""
    found, section = [], ""
    for match in re.finditer(r"^(#{2,3} [^\n]*)$|^```(\w*)\n(.*?)^```$", README, re.M | re.S):
        if match.group(1):
            section = match.group(1).lstrip("# ").strip()
        elif match.group(2) == language:
            found.append((section, match.group(3)))
    return found


def _commands():
    """Each shell command of the README's bash blocks, without its comment."""
    out = []
    for _, code in _blocks("bash"):
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                out.append(words)
    return out


def _tox_envs():
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "tox.ini")
    envs = set()
    for section in cfg.sections():
        if section.startswith("testenv:"):
            envs.add(section[len("testenv:") :])
    return envs


def _kind(words):
    """How the tests treat one README command: set-up (CI does it), tox (its env must exist), env, or run."""
    if words[:4] == ["python", "-m", "pip", "install"] or words[:2] == ["source", ".tox/shared/bin/activate"]:
        return "set-up"
    if words[0] == "tox":
        return "tox"
    if words[0] == "export":
        return "env"
    if words[:3] in (["python", "-m", "reproductions"], ["python", "-m", "zoo"]) or words[0] == "zoo-repro":
        return "run"
    return None


def test_every_readme_command_is_one_the_tests_run_or_check():
    commands = _commands()
    assert len(commands) >= 15
    unknown = [shlex.join(w) for w in commands if _kind(w) is None]
    assert not unknown, f"README commands no test runs or checks: {unknown}"
    envs = _tox_envs()
    for words in commands:
        if _kind(words) == "tox" and "-e" in words:
            assert words[words.index("-e") + 1] in envs, shlex.join(words)
    assert {"python -m pip install tox", "tox -e run -- gates", "source .tox/shared/bin/activate"} <= {
        shlex.join(w) for w in commands[:3]
    }, "the Quick start's set-up comes first"


def test_the_quick_start_environment_is_the_one_the_tests_run_in():
    """After `source .tox/shared/bin/activate` the README's commands use this interpreter; under tox it is
    .tox/shared's, with the console script and the package installed from this checkout."""
    from keras_lecture_zoo import reproductions

    assert Path(reproductions.__file__).resolve().parents[1] == REPO
    if Path(sys.prefix).resolve() == (REPO / ".tox" / "shared").resolve():
        assert (BIN / "activate").is_file() and (BIN / "zoo-repro").is_file()


def _snapshot(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _git_status(path):
    try:
        return subprocess.run(
            ["git", "status", "--porcelain", "--", path], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


@pytest.fixture(scope="module")
def in_the_checkout():
    """The README's commands run where a user runs them, in the checkout; a my-results/ that was there
    is set aside for the test and put back after."""
    mine = REPO / "my-results"
    aside = REPO / ".my-results.readme-test"
    if aside.exists():
        shutil.rmtree(aside)
    if mine.exists():
        mine.rename(aside)
    yield REPO
    shutil.rmtree(mine, ignore_errors=True)
    if aside.exists():
        aside.rename(mine)


# Set by this test process itself (tox, conftest, a run's determinism), not by a user's shell.
_OURS = ("TF_CPP_MIN_LOG_LEVEL", "TF_DETERMINISTIC_OPS", "ZOO_FAULT_KILL")


def _user_env():
    """The environment a user's shell has after the Quick start: this one without what the tests set."""
    return {k: v for k, v in os.environ.items() if k not in _OURS}


def _run(words, env, cwd, timeout=600):
    if words[0] == "zoo-repro":
        words = [str(BIN / "zoo-repro"), *words[1:]]
    elif words[0] == "python":
        words = [sys.executable, *words[1:]]
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_readme_commands_run_as_written_and_leave_the_published_results_alone(in_the_checkout, data_dir):
    env = _user_env()
    published, status = _snapshot(REPO / "results"), _git_status("results")
    ran = []
    for words in _commands():
        if _kind(words) == "env":
            name, _, value = words[1].partition("=")
            env[name] = value
            continue
        if _kind(words) != "run":
            continue
        line = shlex.join(words)
        if words[3:4] == ["run"] and line not in RUN_AS_WRITTEN:
            words = [*words, "--dry-run"]
        result = _run(words, env, in_the_checkout)
        assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert not re.search(r"^[IWE]\d{4} |retracing", result.stderr, re.M), f"{line}: log noise\n{result.stderr}"
        ran.append((line, result.stdout))
    assert {line for line, _ in ran} >= RUN_AS_WRITTEN
    assert _snapshot(REPO / "results") == published
    assert _git_status("results") == status

    # what the README shows of them: the model table is python -m zoo's, the compare table names our rows
    table = next(out for line, out in ran if line == "python -m zoo")
    assert table.strip() in README, "the README's model table is not what `python -m zoo` prints"
    compare = next(out for line, out in ran if "--compare results" in line)
    assert "| xor.keras_model2 | accuracy |" in compare and "| gates.and | z(00) | -2 | -2 | 0 |" in compare
    assert _run(["zoo-repro", "list"], env, in_the_checkout).returncode == 0


@pytest.mark.slow
def test_the_quick_starts_example_output_is_what_the_gates_run_prints(in_the_checkout, data_dir):
    """`tox -e run -- gates` runs `python -m reproductions run gates` in the checkout: its last lines are the
    README's example (first and last rows, counts and folder)."""
    result = _run(["python", "-m", "reproductions", "run", "gates", "--verbose", "0"], _user_env(), in_the_checkout)
    assert result.returncode == 0, result.stderr
    example = next(code for section, code in _blocks("text") if section == "Quick start").splitlines()
    printed = result.stdout.splitlines()
    header = printed.index(example[0])
    assert printed[header + 1] == example[1]
    assert printed[-4:] == example[-4:]


def _python_sessions():
    sessions = {}
    for section, code in _blocks("python"):
        sessions.setdefault(section, []).append(code)
    return sessions


# Run after a section's snippets, to check they did what the README says.
AFTERWARDS = {
    "Add your own: a model, a target, a callback": """
from keras_lecture_zoo.reproductions.suite import RunSettings, run_target
rows = run_target(TARGET, RunSettings(output_dir=Path("out"), profile="quick", seeds=[0], verbose=0))
assert [r["metric"] for r in rows] == ["test_accuracy"] and rows[0]["n"] == 1, rows
assert zoo.build("tiny_mlp").count_params() == 12_730
assert len(history.history["weight_norm"]) == 3
""",
    "Callbacks": """
assert history.early_stopping["stop_reason"] in ("patience", "finished") and Path("best.keras").is_file()
assert len(monitor.records) == 3 and set(monitor.records[-1]["norms"]) == {"conv1", "conv2", "fc1"}
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("section", list(_python_sessions()))
def test_readme_python_snippets_run_in_order_per_section(section, tmp_path, data_dir):
    code = "\n".join(_python_sessions()[section]) + "\nfrom pathlib import Path\n" + AFTERWARDS.get(section, "")
    script = tmp_path / "snippets.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=_user_env(), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{section}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_every_file_a_readme_snippet_writes_in_its_folder_is_one_git_ignores():
    """A user runs the snippets in the clone: what they save there (a model, its weights, the best epoch) must not
    show as a change, or every later run records "+uncommitted changes" and --publish refuses."""
    code = "\n".join(code for _, code in _blocks("python"))
    written = sorted(set(re.findall(r"[\"']([\w.-]+\.(?:keras|h5))[\"']", code)))
    assert written, "the snippets save no model file: this test checks nothing"
    ignored = subprocess.run(["git", "check-ignore", *written], cwd=REPO, capture_output=True, text=True)
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert sorted(ignored.stdout.split()) == written


def test_readme_python_sections_are_the_ones_with_checks():
    assert set(AFTERWARDS) <= set(_python_sessions())
    assert {"Data: local directory first, download otherwise", "Models", "Callbacks"} <= set(_python_sessions())


def test_the_readmes_full_run_time_is_the_published_runs_sum():
    """The time quoted for `tox -e all` is the sum of the published run.json wall times (what
    `run --all --dry-run` prints), not a guess."""
    total = sum(json.loads(p.read_text())["wall_time_seconds"] for p in (REPO / "results").glob("*/run.json"))
    quoted = re.search(r"`tox -e all`[^.]*? about ([\d.]+) hours", README, re.S)
    assert quoted, "the README quotes the full run's time as 'about N hours'"
    assert float(quoted.group(1)) == round(total / 3600, 1)


def test_the_readmes_target_table_is_what_list_markdown_prints(capsys):
    from keras_lecture_zoo.reproductions.__main__ import main

    assert main(["list", "--markdown"]) == 0
    printed = capsys.readouterr().out.strip()
    quoted = re.search(
        r"<!-- targets table: python -m reproductions list --markdown -->\n(.*?)\n<!-- /targets table -->", README, re.S
    )
    assert quoted, "the README quotes the targets table between its markers"
    assert quoted.group(1) == printed, "the README's targets table is not what `list --markdown` prints"
