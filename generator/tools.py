"""Finding and running the external programs eksgen drives (helm, git), versions checked."""

from __future__ import annotations

import collections
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from generator import versions
from generator.errors import ToolFailedError, ToolMissingError

HOW_TO_GET = {
    "helm": (
        f"install helm v{versions.HELM_VERSION}: `make setup` in the eksgen checkout builds it "
        f"into .tools/bin, or `go install helm.sh/helm/v3/cmd/helm@v{versions.HELM_VERSION}`"
    ),
    "git": "install git from your package manager (apt-get install git, brew install git)",
    # The tools of deploy, status and destroy; the toolchain image has each at its pinned version.
    "eksctl": f"install eksctl v{versions.EKSCTL_VERSION} (https://eksctl.io/installation/), or run "
    "./eks-accelerator.sh with EKS_ACCELERATOR_MODE=docker",
    "kubectl": "install the kubectl release of the cluster's Kubernetes minor (https://kubernetes.io/docs/tasks/"
    "tools/), or run ./eks-accelerator.sh with EKS_ACCELERATOR_MODE=docker",
    "aws": "install the AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), "
    "or run ./eks-accelerator.sh with EKS_ACCELERATOR_MODE=docker",
}


def find(name: str) -> str:
    """The absolute path of a program on PATH, or a ToolMissingError saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"{name} is not on PATH: {HOW_TO_GET.get(name, 'install it')}")
    return path


def run(
    args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a program, capturing output; a non-zero exit becomes a ToolFailedError."""
    try:
        result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolMissingError(f"{args[0]} is not on PATH: {HOW_TO_GET.get(args[0], 'install it')}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ToolFailedError(f"{Path(args[0]).name} {args[1]} failed: {detail}")
    return result


def succeeds(args: Sequence[str], *, cwd: Path | None = None) -> bool:
    """Whether a program exits 0 (its output is discarded)."""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, check=False).returncode == 0


def stream(
    args: Sequence[str],
    *,
    cwd: Path | None,
    env: dict[str, str] | None,
    timeout: float,
    on_line: Callable[[str], None],
    keep: int = 30,
) -> tuple[int, list[str]]:
    """Run a long program, passing each line of its output (stdout and stderr) to `on_line` as it comes.

    Returns the exit code and the last `keep` lines. A program still running after `timeout` seconds is
    killed; its exit code is then -9 and the last line says so. A missing program is a ToolMissingError.
    """
    try:
        process = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except FileNotFoundError:
        name = Path(args[0]).name
        raise ToolMissingError(f"{name} is not on PATH: {HOW_TO_GET.get(name, 'install it')}") from None
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    tail: collections.deque[str] = collections.deque(maxlen=keep)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            on_line(line)
        code = process.wait()
    except BaseException:  # interrupted: leave nothing running
        process.kill()
        process.wait()
        raise
    finally:
        timer.cancel()
    if expired.is_set():
        tail.append(f"(killed after {timeout:.0f} s)")
    return code, list(tail)


@functools.cache
def helm() -> str:
    """The helm binary, refusing any version but the pinned one (output must be reproducible)."""
    path = find("helm")
    if os.environ.get("EKSGEN_SKIP_VERSION_CHECK") != "1":
        found = run([path, "version", "--template", "{{.Version}}"]).stdout.strip()
        wanted = f"v{versions.HELM_VERSION}"
        if found != wanted:
            raise ToolFailedError(
                f"helm at {path} is {found or 'of unknown version'}, but rendered/ is made with "
                f"helm {wanted}: {HOW_TO_GET['helm']} (or run ./eks-accelerator.sh with "
                "EKS_ACCELERATOR_MODE=docker)"
            )
    return path


@functools.cache
def git() -> str:
    return find("git")
