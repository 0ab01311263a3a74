"""`eksgen new`: cookiecutter renders the template into a staging directory next to the target,
helm renders rendered/, git makes the first commit, and only then is the finished repository
moved into place. Any failure or interrupt removes the staging directory, so a target either
appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.generate import generate_files

import generator
from generator import regions, render, resources, toolchain, tools, versions
from generator.answers import MAX_CLUSTER_NAME, Answers
from generator.errors import EksgenError, TargetExistsError

FALLBACK_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "eksgen", "GIT_AUTHOR_EMAIL": "eksgen@localhost"}


def template_context(answers: Answers) -> dict:
    """Everything the template needs, computed here so the template holds no logic."""
    k8s = versions.KUBERNETES[answers.k8s_version]
    return {
        "cluster_name": answers.name,
        "region": answers.region,
        "k8s_version": answers.k8s_version,
        "karpenter_version": answers.karpenter_version,
        "instance_type": answers.instance_type,
        "vpc_cidr": answers.vpc_cidr,
        "capacity_types": answers.capacity_types,
        "architectures": answers.architectures,
        "environment": answers.environment,
        "aws_account_id": answers.aws_account_id,
        "codeowners": answers.codeowners,
        "tags": answers.tags,
        "answers": answers.as_config(),
        "ami_alias": k8s.ami_alias,
        "kubectl_version": k8s.kubectl,
        "eksctl_version": versions.EKSCTL_VERSION,
        "helm_version": versions.HELM_VERSION,
        "helm_sha256": versions.HELM_SHA256,
        "kubeconform_version": versions.KUBECONFORM_VERSION,
        "kubeconform_sha256": versions.KUBECONFORM_SHA256,
        "alpine_version": versions.ALPINE_VERSION,
        "go_version": versions.GO_VERSION,
        "kubectl_validate_version": versions.KUBECTL_VALIDATE_VERSION,
        "eksgen_version": generator.__version__,
        "k8s_versions": list(versions.KUBERNETES),
        "karpenter_versions": list(versions.KARPENTER),
        "regions": sorted(regions.REGIONS),
        "max_cluster_name": MAX_CLUSTER_NAME,
    }


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
        with _terminate_as_interrupt():
            project = render_template(answers, staging)
            toolchain.place(wheel, project)
            render.write(project, render.render(project))
            _first_commit(git, project)
            check_target(target)  # it may have appeared while we worked
            if target.exists():
                target.rmdir()
            project.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def render_template(answers: Answers, output_dir: Path) -> Path:
    """Run cookiecutter on the template; return the rendered project directory."""
    template = resources.template_dir()
    config = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    config["cluster_name"] = answers.name
    config["_eks"] = template_context(answers)
    config["_template"] = str(template)
    try:
        project = generate_files(
            repo_dir=str(template),
            context={"cookiecutter": config},
            output_dir=str(output_dir),
            accept_hooks=False,
        )
    except CookiecutterException as exc:
        raise EksgenError(f"the cookiecutter template failed to render: {exc}") from exc
    return Path(project)


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
            "Generate cluster repository with eksgen",
        ],
        cwd=project,
        env=env,
    )


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so that the cleanup above runs for both."""

    def _raise(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
