"""Deploys without AWS or Kubernetes: moto for AWS (tests/aws.py), recording fakes for eksctl, helm and
kubectl (tests/fakes/), and cluster repositories made by `eksgen new` and changed by commits.

The `fakes` fixture puts the fakes first on PATH, with a wrapper around the real aws CLI that records
its calls too; `Fakes` reads back what was called and what the fake cluster holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import tools
from generator.answers import Answers
from generator.scaffold import generate
from generator.values_edit import set_values
from tests.aws import ACCOUNT_ID, Aws

FAKES = Path(__file__).parent / "fakes"
TOOLS = ("eksctl", "helm", "kubectl", "aws")
CLUSTER = "demo"

# Calls that read, by tool and leading arguments; everything else a deploy runs is a change.
_READS = {
    "aws": [
        ["--version"],
        ["sts", "get-caller-identity"],
        ["eks", "describe-cluster"],
        ["eks", "list-nodegroups"],
        ["eks", "describe-nodegroup"],
        ["eks", "update-kubeconfig"],
        ["cloudformation", "describe-stacks"],
        ["cloudformation", "get-template"],
        ["cloudformation", "wait"],
        ["ec2", "describe-instances"],
        ["logs", "describe-log-groups"],
        ["iam", "get-role"],
    ],
    "eksctl": [["version"], ["get"]],
    "helm": [["version"], ["list"], ["get"]],
    "kubectl": [["version"], ["get"], ["wait"], ["diff"]],
}


@dataclass(frozen=True)
class Call:
    tool: str
    args: list[str]
    exit: int

    @property
    def line(self) -> str:
        return " ".join([self.tool, *self.args])

    @property
    def reads(self) -> bool:
        return any(self.args[: len(p)] == p for p in _READS[self.tool])


@dataclass
class Fakes:
    state: Path
    aws: Aws
    monkeypatch: pytest.MonkeyPatch

    def calls(self, since: int = 0) -> list[Call]:
        path = self.state / "calls.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [Call(d["tool"], d["args"], d["exit"]) for d in map(json.loads, lines[since:])]

    def mark(self) -> int:
        """A position in the call log: calls(since=mark) are the ones made after it."""
        return len(self.calls())

    def changes(self, since: int = 0) -> list[str]:
        """The command lines of the calls that change something, in order."""
        return [c.line for c in self.calls(since) if not c.reads]

    def fail(self, *prefixes: str) -> None:
        """Make the next call starting with each prefix fail (once); `prefix@stage` fails it part-way."""
        self.monkeypatch.setenv("FAKE_FAIL", ";".join(prefixes))

    def kube(self, cluster: str = CLUSTER) -> dict:
        path = self.state / "kube.json"
        return json.loads(path.read_text()).get("clusters", {}).get(cluster, {}) if path.exists() else {}

    def eksctl(self, cluster: str = CLUSTER) -> dict:
        path = self.state / "eksctl.json"
        return json.loads(path.read_text()).get("clusters", {}).get(cluster, {}) if path.exists() else {}


@pytest.fixture(scope="session")
def fake_zygote() -> Iterator[dict[str, str]]:
    """The fork servers of tests/fakes/_zygote.py for this session (worker): their sockets, by kind, and
    under "client" the client that calls them (tests/fakes/client.c, built here with the C compiler)."""
    folder = tempfile.mkdtemp(prefix="eksgen-fakes-")  # short: a socket's path has at most 107 bytes
    client = os.path.join(folder, "client")
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "the fakes' client is C: a C compiler (cc) must be on PATH"
    subprocess.run([compiler, "-O2", "-Wall", "-Werror", "-o", client, str(FAKES / "client.c")], check=True)
    servers = {
        kind: subprocess.Popen(
            [sys.executable, str(FAKES / "_zygote.py"), os.path.join(folder, kind), kind],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind in ("fakes", "aws")
    }
    try:
        for kind, server in servers.items():
            assert server.stdout is not None and server.stdout.readline() == "ready\n", f"no fork server for {kind}"
        yield {"client": client, **{kind: os.path.join(folder, kind) for kind in servers}}
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(name="fakes")
def fakes_fixture(aws: Aws, fake_zygote: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    """The fakes first on PATH, moto behind the aws CLI; import this into a test module to use `fakes`.

    The fakes and the real aws CLI behind the aws fake run in fork servers (`fake_zygote`), which
    spares each call an interpreter start, its imports and the parsing of AWS service models."""
    tools.helm()  # the real helm, cached before the fake one is on PATH (set_values renders with it)
    assert shutil.which("aws"), "the aws CLI of the test extra is not installed"
    state, folder = tmp_path / "fake-state", tmp_path / "fake-bin"
    state.mkdir()
    folder.mkdir()
    for tool in TOOLS:  # the aws fake runs the real CLI in its own process, in the server that has imported it
        variable = "FAKE_AWS_ZYGOTE" if tool == "aws" else "FAKE_ZYGOTE"
        _client_script(folder / tool, fake_zygote["client"], variable, FAKES / f"{tool}.py")
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_STATE_DIR", str(state))
    monkeypatch.setenv("FAKE_ZYGOTE", fake_zygote["fakes"])
    monkeypatch.setenv("FAKE_AWS_ZYGOTE", fake_zygote["aws"])
    for name in (
        "FAKE_FAIL",
        "GITHUB_STEP_SUMMARY",
        "FAKE_AWS_REAL_VERSION",
        "FAKE_KUBECTL_VERSION",
        "FAKE_EKSCTL_VERSION",
        "FAKE_HELM_VERSION",
    ):
        monkeypatch.delenv(name, raising=False)
    return Fakes(state, aws, monkeypatch)


def _client_script(path: Path, client: str, variable: str, script: Path) -> None:
    """An executable that runs `script` in the fork server whose socket $variable names, through `client`;
    with $variable unset (a caller that cleared the environment), as `python script`."""
    path.write_text(
        f'#!/bin/sh\nif [ -n "${{{variable}:-}}" ]; then exec "{client}" "${variable}" "{script}" "$@"; fi\n'
        f'exec "{sys.executable}" "{script}" "$@"\n'
    )
    path.chmod(0o755)


# ---- cluster repositories ----------------------------------------------------------------------
def new_repo(folder: Path, **answers: str) -> Path:
    """`eksgen new demo` with the moto account as awsAccountId (and the given answers)."""
    return generate(Answers.from_raw(CLUSTER, {"aws-account-id": ACCOUNT_ID, **answers}), folder)


def copy_repo(pristine: Path, folder: Path) -> Path:
    target = folder / CLUSTER
    shutil.copytree(pristine, target)
    return target


def commit(repo: Path, *assignments: str, message: str | None = None) -> str:
    """`eksgen set` the assignments (re-rendering rendered/), commit, and return the new HEAD."""
    set_values(repo, list(assignments))
    git = [
        "git",
        "-C",
        str(repo),
        "-c",
        "user.name=test",
        "-c",
        "user.email=test@example.com",
        "-c",
        "commit.gpgsign=false",
    ]
    subprocess.run([*git, "commit", "--quiet", "--all", "-m", message or ", ".join(assignments)], check=True)
    return head(repo)


def head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
