"""Finding and running the external programs eksgen drives: the one place that starts them, says how
to get a missing one, and stops one that runs past its time limit."""

from __future__ import annotations

import collections
import functools
import os
import shlex
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from generator import versions
from generator.errors import ToolFailedError, ToolMissingError, ToolTimeoutError

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
    # The Go programs of `eksgen validate`.
    "kubeconform": "`make setup` in the eksgen checkout builds it into .tools/bin, or `go install "
    f"github.com/yannh/kubeconform/cmd/kubeconform@v{versions.KUBECONFORM_VERSION}`",
    "kubectl-validate": "`make setup` in the eksgen checkout builds it into .tools/bin, or `go install "
    f"sigs.k8s.io/kubectl-validate@v{versions.KUBECTL_VALIDATE_VERSION}`",
}
# A program that runs longer than this is stuck (a hung network call, a prompt): it is killed.
DEFAULT_TIMEOUT = 600.0


def missing(name: str, how: str | None = None) -> ToolMissingError:
    """The one way eksgen says a program is not there, and how to get it."""
    name = Path(name).name
    return ToolMissingError(f"{name} is not on PATH: {how or HOW_TO_GET.get(name, 'install it')}")


def find(name: str, *, path: str | None = None) -> str:
    """The absolute path of a program on PATH (or on `path`), or a ToolMissingError saying how to get it."""
    found = shutil.which(name, path=path)
    if found is None:
        raise missing(name)
    return found


def capture(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a program to its end and capture its output, whatever its exit code. A missing program is a
    ToolMissingError; one still running after `timeout` seconds is killed and is a ToolTimeoutError."""
    try:
        return subprocess.run(
            list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise missing(args[0]) from None
    except subprocess.TimeoutExpired:
        raise ToolTimeoutError(f"`{shlex.join(args)}` did not finish within {timeout:.0f} s") from None


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run a program, capturing output; a non-zero exit becomes a ToolFailedError."""
    result = capture(args, cwd=cwd, env=env, timeout=timeout)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ToolFailedError(f"{Path(args[0]).name} {args[1]} failed: {detail}")
    return result


def run_bytes(args: Sequence[str], stdin: bytes, *, cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Run a program on bytes (`git cat-file --batch`), returning what it prints as bytes; a non-zero
    exit is a ToolFailedError, a missing program a ToolMissingError, one past `timeout` a ToolTimeoutError."""
    try:
        done = subprocess.run(list(args), cwd=cwd, input=stdin, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise missing(args[0]) from None
    except subprocess.TimeoutExpired:
        raise ToolTimeoutError(f"`{shlex.join(args)}` did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise ToolFailedError(f"{Path(args[0]).name} {args[1]} failed: {detail}")
    return done.stdout


def succeeds(args: Sequence[str], *, cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether a program exits 0 (its output is discarded)."""
    return capture(args, cwd=cwd, timeout=timeout).returncode == 0


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
        raise missing(args[0]) from None
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
        found = _version_of(path, os.stat(path).st_mtime_ns)
        wanted = f"v{versions.HELM_VERSION}"
        if found != wanted:
            raise ToolFailedError(
                f"helm at {path} is {found or 'of unknown version'}, but rendered/ is made with "
                f"helm {wanted}: {HOW_TO_GET['helm']} (or run ./eks-accelerator.sh with "
                "EKS_ACCELERATOR_MODE=docker)"
            )
    return path


@functools.cache
def _version_of(helm_path: str, modified: int) -> str:
    """helm's version, asked once per binary (and again if the file changes): a render needs no second
    helm process to learn what the first already said."""
    return run([helm_path, "version", "--template", "{{.Version}}"]).stdout.strip()


@functools.cache
def git() -> str:
    return find("git")
