"""values.yaml, rendered/ and the toolchain Dockerfile change together, or not at all: the repository
is always in the old state or the new one, whatever step the process is killed at, and concurrent
edits all survive (generator/transaction.py)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from generator import transaction
from generator.answers import Answers
from generator.scaffold import generate
from generator.values_edit import set_values
from tests.helpers import load_yaml

EKSGEN = Path(sys.executable).parent / "eksgen"
# The filesystem calls that change the tree; the process is killed at the Nth of them, for every N.
STEPS = "rename,renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("atomic", {"k8s-version": "1.34"}), tmp_path_factory.mktemp("atomic"))


def _state(repo: Path) -> dict[str, bytes]:
    watched = [repo / "values.yaml", repo / "toolchain" / "Dockerfile", *sorted((repo / "rendered").rglob("*"))]
    return {str(p.relative_to(repo)): p.read_bytes() for p in watched if p.is_file()}


def _killed_at(step: int, repo: Path, *args: str) -> int:
    """Run eksgen with SIGKILL injected at the step-th tree-changing system call; its exit status."""
    done = subprocess.run(
        [
            "strace",
            "-qq",
            "-o",
            os.devnull,
            "-e",
            f"trace={STEPS}",
            "-e",
            f"inject={STEPS}:signal=KILL:when={step}",
            str(EKSGEN),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace kills the process at each step")
@pytest.mark.parametrize("command", ["set", "render"])
def test_a_kill_at_every_step_leaves_the_old_or_the_new_state(pristine, tmp_path, command):
    before = _state(pristine)
    expected = tmp_path / "expected"
    shutil.copytree(pristine, expected)
    args = {"set": ["set", "--repo", "{repo}", "eksVersion=1.35"], "render": ["render", "--repo", "{repo}"]}[command]
    if command == "render":  # a hand edit to render: values.yaml changes, rendered/ follows
        for repo in (expected,):
            values = repo / "values.yaml"
            values.write_text(values.read_text().replace("maxSize: 3", "maxSize: 4"))
        before = _state(expected)
    subprocess.run([str(EKSGEN), *(a.format(repo=expected) for a in args)], check=True, capture_output=True)
    after = _state(expected)
    assert after != before
    killed = 0
    for step in range(1, 200):
        repo = tmp_path / f"kill-{step}"
        shutil.copytree(pristine, repo)
        if command == "render":
            shutil.copy(expected / "values.yaml", repo / "values.yaml")
        status = _killed_at(step, repo, *(a.format(repo=repo) for a in args))
        if status == 0:
            break  # no step left to kill at: the command ran to the end
        killed += 1
        assert status == -9 or status == 137, f"step {step}: exit {status}"
        transaction.recover(repo)  # what the next eksgen command does first
        state = _state(repo)
        assert state in (before, after), f"killed at step {step}: a mix of the old and the new state"
        assert not (repo / transaction.STAGING).exists()
        leftovers = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        assert not [line for line in leftovers if ".eksgen" in line], leftovers
        shutil.rmtree(repo)
    assert killed >= 5, "the command made fewer tree changes than expected; is strace injecting?"


def test_concurrent_edits_all_survive(pristine, tmp_path):
    repo = tmp_path / "atomic"
    shutil.copytree(pristine, repo)
    edits = [f"karpenter.nodePool.limits.cpu={1000 + i}" for i in range(1)] + [f"tags.team{i}=t{i}" for i in range(7)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda edit: subprocess.run(
                    [str(EKSGEN), "set", "--repo", str(repo), edit], check=True, capture_output=True
                ),
                edits,
            )
        )
    values = load_yaml(repo / "values.yaml")
    assert values["tags"] == {f"team{i}": f"t{i}" for i in range(7)}
    assert values["karpenter"]["nodePool"]["limits"]["cpu"] == "1000"


def test_what_the_user_had_is_kept_mode_symlink_and_line_endings(pristine, tmp_path):
    repo = tmp_path / "atomic"
    shutil.copytree(pristine, repo)
    real = repo / "elsewhere" / "values.yaml"  # a symlink within the repository (eksgen reads none out of it)
    real.parent.mkdir()
    real.write_bytes((repo / "values.yaml").read_bytes().replace(b"\n", b"\r\n"))
    real.chmod(0o640)
    (repo / "values.yaml").unlink()
    (repo / "values.yaml").symlink_to(real)
    set_values(repo, ["karpenter.nodePool.limits.cpu=2000"])
    assert (repo / "values.yaml").is_symlink() and (repo / "values.yaml").resolve() == real
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    text = real.read_bytes()
    assert b'cpu: "2000"' in text and text.count(b"\n") == text.count(b"\r\n")


def test_plan_output_is_replaced_whole(pristine, tmp_path, cli_invoke):
    repo = tmp_path / "atomic"
    shutil.copytree(pristine, repo)
    output = tmp_path / "plan.md"
    output.write_text("old plan\n")
    output.chmod(0o600)
    result = cli_invoke("plan", "--repo", repo, "--base", "main", "--output", output)
    assert result.exit_code == 0, result.output
    assert output.read_text().startswith("<!-- eksgen-plan -->")
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".eksgen")] == []
