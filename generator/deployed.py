"""Which commit a cluster runs: the record a deploy leaves on the EKS cluster as two tags.

- `eksgen.io/deployed-commit`: the commit of the last deploy that completed every step.
- `eksgen.io/cluster-commit`: the commit whose ClusterConfig the cluster was last brought to.

Deploys write them (generator/deploy/record.py); a pull request's plan reads the first with the
read-only plan role, so that it explains what merging does to the cluster as it is, not as the
base branch says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from generator import tools
from generator.errors import ToolMissingError, ToolTimeoutError
from generator.render import load_values

DEPLOYED = "eksgen.io/deployed-commit"
CLUSTER = "eksgen.io/cluster-commit"
TIMEOUT = 60  # seconds for one describe-cluster
# Where the AWS CLI finds credentials other than the instance metadata service, which a runner or
# a laptop without credentials must not be sent to.
_CREDENTIALS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)


def deployed_commit(repo: Path, cluster: str, region: str) -> tuple[str | None, str]:
    """The deployed commit (when the cluster has one this checkout knows) and a sentence saying
    where it came from, or why there is none."""
    if not any(os.environ.get(name) for name in _CREDENTIALS):
        return None, "no AWS credentials (the plan role is not set up)"
    try:
        done = tools.capture(
            ["aws", "eks", "describe-cluster", "--name", cluster, "--region", region, "--output", "json"],
            timeout=TIMEOUT,
        )
    except ToolMissingError:
        return None, "the AWS CLI is not on PATH"
    except ToolTimeoutError:
        return None, f"describe-cluster did not answer within {TIMEOUT}s"
    if done.returncode != 0:
        if "ResourceNotFoundException" in done.stderr:
            return None, f"cluster {cluster} does not exist yet"
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return None, f"cannot read cluster {cluster}: {reason}"
    try:
        tags = (json.loads(done.stdout).get("cluster") or {}).get("tags") or {}
    except ValueError:
        return None, "describe-cluster printed no JSON"
    commit = tags.get(DEPLOYED)
    if not commit:
        return None, f"no deploy of cluster {cluster} has completed yet"
    known = tools.capture(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=repo)
    if known.returncode != 0:
        return None, f"the deployed commit {commit[:12]} is not in this checkout's history"
    return commit, f"the commit deployed on cluster {cluster}"


def plan_base(repo: Path, fallback: str) -> tuple[str, str]:
    """Where a pull request's plan starts, and how its comment names that: the deployed commit of
    the cluster values.yaml describes, else `fallback` with the reason there is none."""
    values = load_values(repo)
    commit, why = deployed_commit(repo, str(values.get("clusterName", "")), str(values.get("awsRegion", "")))
    if commit:
        return commit, f"{commit[:12]} ({why})"
    return fallback, f"{fallback} ({why}: planned from the base branch)"
