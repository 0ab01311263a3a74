"""AWS regions where eksgen can create a cluster, and their ARN partitions.

The regions are those the pinned eksctl accepts (eksctl@v0.230.0:pkg/apis/eksctl.io/v1alpha5/types.go,
SupportedRegions) outside the isolated partitions (us-iso*, us-isob*, us-isof*, eu-isoe*), whose
endpoints and ARNs eksgen does not know. Zones are not chosen here: eksctl picks them per account,
skipping the zone ids where EKS cannot place a control plane.
"""

from __future__ import annotations

REGIONS: frozenset[str] = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "af-south-1",
    "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ca-central-1", "ca-west-1",
    "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-south-1", "eu-south-2", "eu-north-1",
    "il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
    "us-gov-east-1", "us-gov-west-1",
    "cn-north-1", "cn-northwest-1",
})  # fmt: skip


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
