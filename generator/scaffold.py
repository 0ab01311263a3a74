"""`eksgen new`: the repository's files are built (repotemplate.build) in a staging directory next to
the target, git makes the first commit, and only then is the finished repository
moved into place. Any failure or interrupt removes the staging directory, so a target either
appears complete or not at all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import generator
from generator import toolchain, tools
from generator.answers import Answers
from generator.errors import EksgenError, TargetExistsError
from generator.parallel import terminate_as_interrupt
from generator.repotemplate import VERSION_TRAILER, build

FALLBACK_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "eksgen", "GIT_AUTHOR_EMAIL": "eksgen@localhost"}
FIRST_COMMIT_SUBJECT = "Generate cluster repository with eksgen"


def check_target(target: Path) -> None:
    if target.is_symlink():  # dangling or not: the repository would land wherever it points
        raise TargetExistsError(f"{target} is a symlink; nothing was written")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TargetExistsError(f"{target} already exists and is not empty; nothing was written")


def generate(answers: Answers, output_dir: Path, toolchain_wheel: Path | None = None) -> Path:
    """Create the cluster repository `output_dir/NAME`; return its path."""
    target = output_dir / answers.name
    check_target(target)
    git = tools.git()
    tools.helm()  # fail before writing anything when helm is missing or of the wrong version
    wheel = toolchain.wheel_for_image(toolchain_wheel)
    try:
        return _generate(answers, output_dir, target, git, wheel)
    except OSError as exc:  # read-only, full, or a symlink to nothing: the file system's answer, named
        where = exc.filename or output_dir
        raise EksgenError(f"{where}: {exc.strerror or exc}; nothing was written to {target}") from None


def _generate(answers: Answers, output_dir: Path, target: Path, git: str, wheel: Path | None) -> Path:
    if output_dir.is_symlink() and not output_dir.exists():
        raise EksgenError(f"{output_dir}: --output-dir is a symlink to nothing (dangling); nothing was written")
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".eksgen-{answers.name}-", dir=output_dir))
    try:
        with terminate_as_interrupt():
            project = build(answers, staging, wheel)
            _first_commit(git, project)
            check_target(target)  # it may have appeared while we worked
            if target.exists():
                target.rmdir()
            project.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _first_commit(git: str, project: Path) -> None:
    env = dict(os.environ)
    if not tools.succeeds([git, "var", "GIT_AUTHOR_IDENT"], cwd=project):
        env |= FALLBACK_GIT_IDENTITY | {
            "GIT_COMMITTER_NAME": FALLBACK_GIT_IDENTITY["GIT_AUTHOR_NAME"],
            "GIT_COMMITTER_EMAIL": FALLBACK_GIT_IDENTITY["GIT_AUTHOR_EMAIL"],
        }
    tools.run([git, "init", "--quiet", "--initial-branch=main"], cwd=project, env=env)
    tools.run([git, "add", "--all"], cwd=project, env=env)
    tools.run(
        [
            git,
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            FIRST_COMMIT_SUBJECT,
            "-m",
            f"{VERSION_TRAILER}: {generator.__version__}",
        ],
        cwd=project,
        env=env,
    )
