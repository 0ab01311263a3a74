"""AWS regions where EKS runs, with the availability zones a new cluster spreads over.

AZ letters are mapped per account in a few regions (us-west-1, ap-northeast-1); the defaults here
are the ones every account has. They land in values.yaml (vpc.availabilityZones) and can be
changed there.
"""

from __future__ import annotations

_THREE = ("a", "b", "c")

# region -> the AZ suffixes used by default
REGION_ZONES: dict[str, tuple[str, ...]] = {
    "us-east-1": _THREE,
    "us-east-2": _THREE,
    "us-west-1": ("b", "c"),
    "us-west-2": _THREE,
    "af-south-1": _THREE,
    "ap-east-1": _THREE,
    "ap-south-1": _THREE,
    "ap-south-2": _THREE,
    "ap-southeast-1": _THREE,
    "ap-southeast-2": _THREE,
    "ap-southeast-3": _THREE,
    "ap-southeast-4": _THREE,
    "ap-southeast-5": _THREE,
    "ap-southeast-7": _THREE,
    "ap-northeast-1": ("a", "c", "d"),
    "ap-northeast-2": _THREE,
    "ap-northeast-3": _THREE,
    "ca-central-1": ("a", "b", "d"),
    "ca-west-1": _THREE,
    "eu-central-1": _THREE,
    "eu-central-2": _THREE,
    "eu-west-1": _THREE,
    "eu-west-2": _THREE,
    "eu-west-3": _THREE,
    "eu-south-1": _THREE,
    "eu-south-2": _THREE,
    "eu-north-1": _THREE,
    "il-central-1": _THREE,
    "me-south-1": _THREE,
    "me-central-1": _THREE,
    "mx-central-1": _THREE,
    "sa-east-1": _THREE,
    "us-gov-east-1": _THREE,
    "us-gov-west-1": _THREE,
    "cn-north-1": ("a", "b"),
    "cn-northwest-1": _THREE,
}


def availability_zones(region: str) -> list[str]:
    return [region + suffix for suffix in REGION_ZONES[region]]


def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
