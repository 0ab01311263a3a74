"""eksgen: generate and operate a GitOps repository that is one Amazon EKS cluster."""

__version__ = "0.2.0"
