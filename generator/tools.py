"""Finding and running the external programs eksgen drives (helm, git), versions checked."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from generator import versions
from generator.errors import ToolFailedError, ToolMissingError

HOW_TO_GET = {
    "helm": (
        f"install helm v{versions.HELM_VERSION}: `make setup` in the eksgen checkout builds it "
        f"into .tools/bin, or `go install helm.sh/helm/v3/cmd/helm@v{versions.HELM_VERSION}`"
    ),
    "git": "install git from your package manager (apt-get install git, brew install git)",
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
        result = subprocess.run(
            list(args), cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ToolMissingError(f"{args[0]} is not on PATH: {HOW_TO_GET.get(args[0], 'install it')}") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ToolFailedError(f"{Path(args[0]).name} {args[1]} failed: {detail}")
    return result


def succeeds(args: Sequence[str], *, cwd: Path | None = None) -> bool:
    """Whether a program exits 0 (its output is discarded)."""
    return subprocess.run(list(args), cwd=cwd, capture_output=True, check=False).returncode == 0


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
