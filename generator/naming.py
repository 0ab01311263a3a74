"""The names of the AWS resources eksgen makes or expects for one cluster: one spelling, used by
bootstrap (which grants on them), plan and deploy (which act on them)."""

from __future__ import annotations

from generator.regions import partition


def karpenter_stack_name(cluster: str) -> str:
    """The CloudFormation stack deploys create from rendered/cloudformation/karpenter.yaml."""
    return f"Karpenter-{cluster}"


def boundary_policy_name(cluster: str) -> str:
    """The managed policy the bootstrap stack creates as the permissions boundary of every role that
    deploys create. At path /, so its ARN is arn:PARTITION:iam::ACCOUNT:policy/<cluster>-deploy-boundary,
    which the ClusterConfig and Karpenter's template name without looking it up."""
    return f"{cluster}-deploy-boundary"


def network_policy_name(cluster: str) -> str:
    """The managed policy, attached to the deploy role, that holds its EC2 permissions."""
    return f"{cluster}-deploy-network"


def boundary_arn(cluster: str, region: str, account: str) -> str:
    return f"arn:{partition(region)}:iam::{account}:policy/{boundary_policy_name(cluster)}"


def bootstrap_stack_name(cluster: str) -> str:
    """The stack an administrator creates from bootstrap/github-oidc.yaml."""
    return f"{cluster}-github-oidc"
