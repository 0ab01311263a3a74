"""The version matrix: Kubernetes <-> eksctl <-> kubectl <-> Karpenter <-> AMI, in one place.

Every pinned version the generator writes into a cluster repository comes from here, so an
upgrade of a pin is a one-line change that the tests then check against the reference data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

EKSCTL_VERSION = "0.230.0"
HELM_VERSION = "3.16.4"
KUBECONFORM_VERSION = "0.6.7"
ACTIONLINT_VERSION = "1.7.12"
KUBECTL_VALIDATE_VERSION = "0.0.5-0.20260105161640-a97ccfaca20b"
ACT_VERSION = "0.2.89"
ALPINE_VERSION = "3.21"
GO_VERSION = "1.26"  # the toolchain image's build stage (kubectl-validate needs Go 1.25+)

# sha256 of the linux/amd64 release archives the toolchain image downloads (kubectl and eksctl
# are checked against the checksum files published next to them).
HELM_SHA256 = "fc307327959aa38ed8f9f7e66d45492bb022a66c3e5da6063958254b9767d179"
KUBECONFORM_SHA256 = "95f14e87aa28c09d5941f11bd024c1d02fdc0303ccaa23f61cef67bc92619d73"


@dataclass(frozen=True)
class KubernetesRelease:
    """What the generator pins for one Kubernetes minor version, and how long EKS supports it."""

    minor: str
    kubectl: str  # kubectl release in the toolchain image (same minor as the cluster)
    ami_alias: str  # EKS-optimized AL2023 release that ships this minor, pinned for Karpenter
    released: date  # on EKS
    end_of_standard_support: date  # then extended support, at six times the cluster-hour price
    end_of_extended_support: date  # then EKS upgrades the control plane itself

    def support_on(self, day: date) -> str:
        """ "standard", "extended" or "ended" on a given day."""
        if day <= self.end_of_standard_support:
            return "standard"
        return "extended" if day <= self.end_of_extended_support else "ended"


# The Kubernetes minors the pinned eksctl (v0.230.0) knows (pkg/apis/eksctl.io/v1alpha5/types.go,
# Version1_30 .. Version1_35) that EKS still runs (1.31 left extended support on 2026-11-26) and
# that kubectl-validate has built-in schemas for (pkg/openapiclient/builtins/1.3x).
# - EKS dates: the Amazon EKS Kubernetes release calendar (docs.aws.amazon.com/eks/latest/userguide/
#   kubernetes-versions.html) for 1.32-1.34; for 1.35 the same calendar as copied by endoflife.date.
# - kubectl: patch releases served as k8s.io/kubernetes module versions (`go list -m -versions`).
# - AMI: release v20260714 of awslabs/amazon-eks-ami ships AL2023 images for 1.30-1.36
#   (CHANGELOG.md at tag v20260724: amazon-eks-node-al2023-x86_64-standard-1.3x-v20260714).
AMI_ALIAS = "al2023@v20260714"
KUBERNETES: dict[str, KubernetesRelease] = {
    "1.32": KubernetesRelease(
        "1.32",
        kubectl="1.32.13",
        ami_alias=AMI_ALIAS,
        released=date(2025, 1, 23),
        end_of_standard_support=date(2026, 3, 23),
        end_of_extended_support=date(2027, 3, 23),
    ),
    "1.33": KubernetesRelease(
        "1.33",
        kubectl="1.33.13",
        ami_alias=AMI_ALIAS,
        released=date(2025, 5, 29),
        end_of_standard_support=date(2026, 7, 29),
        end_of_extended_support=date(2027, 7, 29),
    ),
    "1.34": KubernetesRelease(
        "1.34",
        kubectl="1.34.4",
        ami_alias=AMI_ALIAS,
        released=date(2025, 10, 2),
        end_of_standard_support=date(2026, 12, 2),
        end_of_extended_support=date(2027, 12, 2),
    ),
    "1.35": KubernetesRelease(
        "1.35",
        kubectl="1.35.4",
        ami_alias=AMI_ALIAS,
        released=date(2026, 1, 27),
        end_of_standard_support=date(2027, 3, 27),
        end_of_extended_support=date(2028, 3, 27),
    ),
}


def today() -> date:
    """The day support is judged on (one place, so tests can fix it)."""
    return date.today()


def extended_support_warning(minor: str, on: date | None = None) -> str | None:
    """A warning when EKS runs `minor` in extended support on the day (None in standard support)."""
    release, day = KUBERNETES[minor], on or today()
    if release.support_on(day) != "extended":
        return None
    return (
        f"Kubernetes {minor} left EKS standard support on {release.end_of_standard_support} and is in "
        f"extended support until {release.end_of_extended_support}: the control plane costs six times the "
        f"standard price per hour (Amazon EKS pricing); Kubernetes {default_kubernetes(day)} is in standard "
        "support"
    )


def default_kubernetes(on: date | None = None) -> str:
    """The newest minor EKS offers in standard support on the day (the newest one when none is)."""
    day = on or today()
    standard = [m for m, r in KUBERNETES.items() if r.released <= day and r.support_on(day) == "standard"]
    return max(standard or list(KUBERNETES), key=minor_key)


@dataclass(frozen=True)
class KarpenterRelease:
    """A Karpenter release the generator can deploy and validate (its CRDs are known)."""

    version: str
    min_kubernetes: str
    max_kubernetes: str
    # IAM managed policies the release's CloudFormation template creates for the controller,
    # as name prefixes; the cluster name is appended ("<prefix>-<cluster>").
    controller_policies: tuple[str, ...]

    def supports(self, kubernetes_minor: str) -> bool:
        return minor_key(self.min_kubernetes) <= minor_key(kubernetes_minor) <= minor_key(self.max_kubernetes)


# Ranges from Karpenter's compatibility matrix (schemas/karpenter/compatibility.yaml). The 1.0 line
# stops at Kubernetes 1.31, which EKS no longer runs, so no 1.0 release is offered.
KARPENTER: dict[str, KarpenterRelease] = {
    "1.14.1": KarpenterRelease(
        "1.14.1",
        "1.26",
        "1.36",
        controller_policies=(
            "KarpenterControllerNodeLifecyclePolicy",
            "KarpenterControllerIAMIntegrationPolicy",
            "KarpenterControllerEKSIntegrationPolicy",
            "KarpenterControllerInterruptionPolicy",
            "KarpenterControllerZonalShiftPolicy",
            "KarpenterControllerResourceDiscoveryPolicy",
        ),
    ),
}
DEFAULT_KARPENTER = "1.14.1"


def minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest.split(".")[0])


def karpenter_versions_for(kubernetes_minor: str) -> list[str]:
    """Pinned Karpenter releases that support a Kubernetes minor, oldest first."""
    return [v for v, r in KARPENTER.items() if r.supports(kubernetes_minor)]


DEFAULT_KUBERNETES = default_kubernetes()
