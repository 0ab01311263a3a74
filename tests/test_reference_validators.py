"""The schema validators the end-to-end tests rely on do reject what they should."""

from __future__ import annotations

import copy

import pytest

from generator import versions
from tests.helpers import crd_validator, eksctl_validator, errors

POOL = {
    "apiVersion": "karpenter.sh/v1",
    "kind": "NodePool",
    "metadata": {"name": "default"},
    "spec": {
        "template": {
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                "requirements": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}],
                "expireAfter": "720h",
            }
        },
        "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
    },
}


@pytest.mark.parametrize("version", [f"v{v}" for v in versions.KARPENTER])
def test_crd_validator_accepts_v1_and_rejects_v1beta1_leftovers(schemas, version):
    validator = crd_validator(schemas / "karpenter" / version / "crds" / "karpenter.sh_nodepools.yaml")
    assert errors(validator, POOL) == []

    old_policy = copy.deepcopy(POOL)
    old_policy["spec"]["disruption"]["consolidationPolicy"] = "WhenUnderutilized"
    assert errors(validator, old_policy)

    expire_in_disruption = copy.deepcopy(POOL)
    expire_in_disruption["spec"]["disruption"]["expireAfter"] = "720h"
    assert errors(validator, expire_in_disruption)

    api_version_ref = copy.deepcopy(POOL)
    api_version_ref["spec"]["template"]["spec"]["nodeClassRef"]["apiVersion"] = "karpenter.k8s.aws/v1beta1"
    assert errors(validator, api_version_ref)


def test_eksctl_validator_rejects_a_misspelt_field(schemas):
    config = {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": "x", "region": "us-west-2"},
        "managedNodeGroups": [{"name": "a", "instanceTyp": "t3.small"}],
    }
    assert any("instanceTyp" in e for e in errors(eksctl_validator(schemas), config))
