"""The version matrix: Kubernetes <-> eksctl <-> kubectl <-> Karpenter <-> AMI, in one place.

Every pinned version the generator writes into a cluster repository comes from here, so an
upgrade of a pin is a one-line change that the tests then check against the reference data.
"""

from __future__ import annotations

from dataclasses import dataclass

EKSCTL_VERSION = "0.230.0"
HELM_VERSION = "3.16.4"
KUBECONFORM_VERSION = "0.6.7"
ACTIONLINT_VERSION = "1.7.12"
KUBECTL_VALIDATE_VERSION = "0.0.5-0.20260105161640-a97ccfaca20b"
ACT_VERSION = "0.2.89"
ALPINE_VERSION = "3.21"
GO_VERSION = "1.26"  # the toolchain image's build stage (kubectl-validate needs Go 1.25+)

# sha256 of the linux/amd64 release archives the toolchain image downloads.
HELM_SHA256 = "fc307327959aa38ed8f9f7e66d45492bb022a66c3e5da6063958254b9767d179"
KUBECONFORM_SHA256 = "95f14e87aa28c09d5941f11bd024c1d02fdc0303ccaa23f61cef67bc92619d73"


@dataclass(frozen=True)
class KubernetesRelease:
    """What the generator pins for one Kubernetes minor version."""

    minor: str
    kubectl: str  # kubectl release in the toolchain image (same minor as the cluster)
    kubectl_sha256: str  # of dl.k8s.io/release/v<kubectl>/bin/linux/amd64/kubectl
    ami_alias: str  # EKS-optimized AL2023 release that ships this minor, pinned for Karpenter


# Kubernetes minors the pinned eksctl (v0.210.0) can create. AMI release v20261112 of
# awslabs/amazon-eks-ami ships AL2023 images for 1.31 through 1.37.
KUBERNETES: dict[str, KubernetesRelease] = {
    "1.31": KubernetesRelease(
        "1.31",
        kubectl="1.31.0",
        kubectl_sha256="7c27adc64a84d1c0cc3dcf7bf4b6e916cc00f3f576a2dbac51b318d926032437",
        ami_alias="al2023@v20261112",
    ),
    "1.32": KubernetesRelease(
        "1.32",
        kubectl="1.32.0",
        kubectl_sha256="646d58f6d98ee670a71d9cdffbf6625aeea2849d567f214bc43a35f8ccb7bf70",
        ami_alias="al2023@v20261112",
    ),
    "1.33": KubernetesRelease(
        "1.33",
        kubectl="1.33.0",
        kubectl_sha256="9efe8d3facb23e1618cba36fb1c4e15ac9dc3ed5a2c2e18109e4a66b2bac12dc",
        ami_alias="al2023@v20261112",
    ),
}
DEFAULT_KUBERNETES = "1.31"


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
        return minor_key(self.min_kubernetes) <= minor_key(kubernetes_minor) <= minor_key(
            self.max_kubernetes
        )


# Ranges from Karpenter's compatibility matrix (v1.0.5+ of the 1.0 line reach 1.31).
KARPENTER: dict[str, KarpenterRelease] = {
    "1.0.9": KarpenterRelease(
        "1.0.9", "1.25", "1.31", controller_policies=("KarpenterControllerPolicy",)
    ),
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
