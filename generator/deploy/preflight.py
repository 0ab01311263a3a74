"""Before anything is read from the cluster or changed: values.yaml's awsAccountId (a deploy refuses to run
without it), the tools at their pinned versions, the AWS identity (refused when it is not values.yaml's
awsAccountId) and the region of values.yaml.

Each tool is asked for its version the way it prints it (`eksctl version`, `helm version`,
`kubectl version --client`, `aws --version`); every problem is reported at once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator import tools, versions
from generator.deploy.shell import Log, Runner
from generator.deploy.target import Target
from generator.errors import DeployError, PreflightError, ToolMissingError, WrongAccountError

AWS_CLI_MAJOR = 2  # the toolchain image installs aws-cli 2.x from Alpine
TOOLS = ("eksctl", "helm", "kubectl", "aws")
_AWS_VERSION = re.compile(r"aws-cli/(\d+)\.(\d+)\.(\d+)")
_DOCKER_HINT = "or run ./eks-accelerator.sh with EKS_ACCELERATOR_MODE=docker, whose image has the pinned tools"


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


def environment(target: Target, kubeconfig: Path) -> dict[str, str]:
    """The environment of every program a deploy runs: values.yaml's region, no pager, a kubeconfig of its own."""
    env = dict(os.environ)
    env.update(
        {
            "AWS_REGION": target.region,
            "AWS_DEFAULT_REGION": target.region,
            "AWS_PAGER": "",
            "KUBECONFIG": str(kubeconfig),
        }
    )
    return env


def run(target: Target, runner: Runner, log: Log) -> Identity:
    found = check_tools(target, runner)
    log("preflight: " + ", ".join(f"{name} {version}" for name, version in found.items()))
    ident = identity(runner)
    check_account(target, ident)
    log(
        f"preflight: AWS identity {ident.arn} (account {ident.account}"
        + (
            ", as values.yaml's awsAccountId requires)"
            if target.account_id
            else "; values.yaml sets no awsAccountId, so any account is accepted)"
        )
    )
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(name) and os.environ[name] != target.region:
            log(f"preflight: {name}={os.environ[name]} is ignored; the cluster is in {target.region} (values.yaml)")
    log(f"preflight: region {target.region}")
    return ident


def require_account_id(target: Target) -> None:
    """A deploy needs values.yaml's awsAccountId: without it the chart leaves Karpenter's pod identity and its
    nodes' access entry out of the ClusterConfig (their IAM ARNs name the account)."""
    if not target.account_id:
        raise PreflightError(
            "values.yaml's awsAccountId is empty, so rendered/eksctl/cluster.yaml has no pod identity for "
            "Karpenter's controller (it could not call AWS) and no access entry for its node role (its nodes could "
            "not join the cluster). Set it to the 12-digit id of the cluster's AWS account, e.g. `eksgen set "
            "awsAccountId=123456789012`, and commit values.yaml and rendered/; nothing was changed"
        )


def check_tools(target: Target, runner: Runner) -> dict[str, str]:
    """The version of each tool; a PreflightError naming every missing or wrong one."""
    problems: list[str] = []
    found: dict[str, str] = {}
    for name in TOOLS:
        try:
            path = tools.find(name, path=runner.env.get("PATH"))
        except ToolMissingError as exc:
            problems.append(exc.message)
            continue
        runner.programs[name] = path
        try:
            version, problem = _CHECKS[name](runner, target)
        except DeployError as exc:
            version, problem = "", f"could not tell its version: {exc.message}"
        found[name] = version
        if problem:
            problems.append(f"{name} at {path} {problem}")
    if problems:
        raise PreflightError(
            "the tools are not the ones this repository deploys with; nothing was changed:\n  - "
            + "\n  - ".join(problems)
        )
    return found


def _eksctl(runner: Runner, target: Target) -> tuple[str, str | None]:
    result = runner.read(["eksctl", "version"])
    found = (result.stdout.strip().splitlines() or [""])[0].strip()
    if result.returncode != 0 or found != versions.EKSCTL_VERSION:
        return found, (
            f"is {found or 'of unknown version'}, but deploys need eksctl {versions.EKSCTL_VERSION} "
            f"(the version rendered/eksctl/cluster.yaml is validated with); {_DOCKER_HINT}"
        )
    return found, None


def _helm(runner: Runner, target: Target) -> tuple[str, str | None]:
    result = runner.read(["helm", "version", "--template", "{{.Version}}"])
    found = result.stdout.strip()
    wanted = f"v{versions.HELM_VERSION}"
    if result.returncode != 0 or found != wanted:
        return found, f"is {found or 'of unknown version'}, but deploys need helm {wanted}; {_DOCKER_HINT}"
    return found, None


def _kubectl(runner: Runner, target: Target) -> tuple[str, str | None]:
    """kubectl supports the API server's minor and the ones next to it; during an upgrade the toolchain's
    kubectl is the old minor, which the skew policy allows."""
    result = runner.read(["kubectl", "version", "--client", "--output=json"])
    try:
        found = str(json.loads(result.stdout)["clientVersion"]["gitVersion"])
        client = versions.minor_key(found.lstrip("v"))
    except (ValueError, KeyError, TypeError):
        return "", f"printed no client version: {(result.stderr or result.stdout).strip()[:200]}"
    wanted = versions.minor_key(target.eks_version)
    if client[0] != wanted[0] or abs(client[1] - wanted[1]) > 1:
        return found, (
            f"is {found}, too far from the cluster's Kubernetes {target.eks_version}: kubectl supports "
            f"one minor version either side; use kubectl {target.eks_version}; {_DOCKER_HINT}"
        )
    return found, None


def _aws(runner: Runner, target: Target) -> tuple[str, str | None]:
    result = runner.read(["aws", "--version"])
    text = (result.stdout + result.stderr).strip()
    match = _AWS_VERSION.search(text)
    found = match.group(0) if match else text[:80]
    if result.returncode != 0 or not match or int(match.group(1)) != AWS_CLI_MAJOR:
        return found, (
            f"is {found or 'of unknown version'}, but deploys need the AWS CLI v{AWS_CLI_MAJOR} "
            f"(its `eks update-kubeconfig` and `cloudformation deploy` are what the toolchain image "
            f"runs); {_DOCKER_HINT}"
        )
    return found, None


_CHECKS: dict[str, Callable[[Runner, Target], tuple[str, str | None]]] = {
    "eksctl": _eksctl,
    "helm": _helm,
    "kubectl": _kubectl,
    "aws": _aws,
}


def identity(runner: Runner) -> Identity:
    try:
        data = runner.read_json(["aws", "sts", "get-caller-identity", "--output", "json"])
    except DeployError as exc:
        raise PreflightError(
            f"no usable AWS credentials ({exc.message}); in GitHub Actions the deploy role is "
            "assumed with OIDC (repository variable AWS_DEPLOY_ROLE_ARN); nothing was "
            "changed"
        ) from None
    if not isinstance(data, dict) or not data.get("Account"):
        raise PreflightError(f"`aws sts get-caller-identity` named no account: {data!r}")
    return Identity(str(data["Account"]), str(data.get("Arn", "")))


def check_account(target: Target, ident: Identity) -> None:
    if target.account_id and ident.account != target.account_id:
        raise WrongAccountError(
            f"the AWS credentials ({ident.arn}) are for account {ident.account}, but values.yaml's awsAccountId is "
            f"{target.account_id}: refusing to touch another account; nothing was changed"
        )
