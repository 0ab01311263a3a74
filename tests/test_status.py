"""`eksgen status`: the live cluster next to rendered/ at HEAD; it reads, it never changes anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator import versions
from tests.deploy_support import (
    CLUSTER,
    commit,
    copy_repo,
    fakes_fixture,  # noqa: F401 - the `fakes` fixture
    head,
    new_repo,
)

pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS.{2}SQS.{2}QueuePolicy:UserWarning")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return new_repo(tmp_path_factory.mktemp("status-repos"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    return copy_repo(pristine, tmp_path)


def status(cli_invoke, repo: Path, *args: str) -> str:
    result = cli_invoke("status", "--repo", repo, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_nothing_deployed_yet(fakes, repo, cli_invoke):
    text = status(cli_invoke, repo)
    assert f"cluster {CLUSTER} (us-west-2, account 123456789012): does not exist" in text
    assert "the cluster does not exist: nothing is deployed" in text
    assert "stack Karpenter-demo does not exist" in text
    assert fakes.changes() == []


def test_a_deployed_cluster_matches_rendered(fakes, repo, cli_invoke):
    assert cli_invoke("deploy", "--repo", repo, "--wait-timeout", "5").exit_code == 0
    mark = fakes.mark()

    data = json.loads(status(cli_invoke, repo, "--format", "json"))

    assert data["inSync"] is True and data["differences"] == []
    assert (data["exists"], data["state"], data["version"]) == (True, "ACTIVE", versions.DEFAULT_KUBERNETES)
    assert data["deployed"] == data["head"] == head(repo)
    assert data["node_groups"] == [
        {"name": "system", "version": versions.DEFAULT_KUBERNETES, "status": "ACTIVE", "min": 1, "desired": 2, "max": 3}
    ]
    assert data["addons"] == ["aws-ebs-csi-driver", "coredns", "eks-pod-identity-agent", "kube-proxy", "vpc-cni"]
    assert data["karpenter"] == "1.14.1 (deployed)"
    assert data["node_pools"] == [{"name": "default", "ready": True}]
    assert data["stack"] == "Karpenter-demo CREATE_COMPLETE"
    assert fakes.changes(mark) == []


def test_undeployed_commits_and_changes_made_by_hand_are_differences(fakes, repo, cli_invoke):
    deployed = head(repo)
    assert cli_invoke("deploy", "--repo", repo, "--wait-timeout", "5").exit_code == 0
    commit(repo, "karpenter.nodePool.limits.cpu=2000")
    fakes.aws.client("eks").update_nodegroup_config(
        clusterName=CLUSTER, nodegroupName="system", scalingConfig={"minSize": 1, "desiredSize": 2, "maxSize": 4}
    )
    mark = fakes.mark()

    text = status(cli_invoke, repo)

    assert f"deployed commit: {deployed[:12]}; HEAD: {head(repo)[:12]}" in text
    assert "live state and rendered/ differ:" in text
    assert f"is not deployed (deployed: {deployed[:12]}): in place: 1 action; no node is replaced" in text
    assert "rendered/manifests/nodepool.yaml differs from the cluster (kubectl diff)" in text
    assert "node group system has min/desired/max (1, 2, 4), rendered/ says (1, 2, 3)" in text
    assert "rendered/manifests/ec2nodeclass.yaml" not in text
    assert fakes.changes(mark) == []
