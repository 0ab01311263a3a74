"""Where things live in a cluster repository: the one spelling of every path eksgen reads or writes
there, relative to the repository's root."""

from __future__ import annotations

from pathlib import Path

VALUES = Path("values.yaml")  # the user's settings: the chart's values
ANSWERS = Path(".eksgen.yaml")  # what `eksgen new` was answered, and by which eksgen
CHART = Path("charts/eks-complete")
RENDERED = Path("rendered")  # what the chart renders, split by kind (render.py)
CLUSTER_CONFIG = "rendered/eksctl/cluster.yaml"
MANIFESTS = "rendered/manifests/"  # one file per Kubernetes kind
CLOUDFORMATION = "rendered/cloudformation/karpenter.yaml"  # Karpenter's prerequisites stack
WORKFLOWS = Path(".github/workflows")
DOCKERFILE = Path("toolchain/Dockerfile")
WHEELS = Path("toolchain/wheels")  # an eksgen wheel the toolchain image installs, when not from PyPI
BOOTSTRAP_TEMPLATE = Path("bootstrap/github-oidc.yaml")


def manifest(kind: str) -> str:
    """The rendered file of one kind of Kubernetes object (lower-case kind)."""
    return f"{MANIFESTS}{kind}.yaml"
