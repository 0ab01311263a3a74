"""`eksgen deploy` scenarios: real repositories, real git, the real aws CLI against moto; eksctl, helm and
kubectl are the recording fakes of tests/fakes/ (see tests/deploy_support.py).

Each scenario asserts on the commands that changed something, in order, and on the state moto and the
fake cluster hold afterwards; "no change" is asserted on both.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from generator import versions
from tests.aws import ACCOUNT_ID
from tests.deploy_support import (
    CLUSTER,
    Fakes,
    commit,
    copy_repo,
    fakes_fixture,  # noqa: F401 - the `fakes` fixture
    head,
    new_repo,
)

# moto's CloudFormation skips AWS::SQS::QueuePolicy with this warning (tests/test_karpenter_stack.py).
pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS.{2}SQS.{2}QueuePolicy:UserWarning")

ARN = f"arn:aws:eks:us-west-2:{ACCOUNT_ID}:cluster/{CLUSTER}"
STACK = (
    "aws cloudformation deploy --stack-name Karpenter-demo --template-file "
    "rendered/cloudformation/karpenter.yaml --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset"
)
CREATE = "eksctl create cluster --config-file rendered/eksctl/cluster.yaml"
CONFIG = "--config-file rendered/eksctl/cluster.yaml"
APPLY = "kubectl apply --server-side --field-manager=eksgen -f rendered/manifests/"
UNDEFAULT_GP2 = "kubectl annotate storageclass gp2 storageclass.kubernetes.io/is-default-class=false --overwrite"
SPOT_ROLE = "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"
REPLACE_GP3 = "kubectl delete storageclass gp3 --ignore-not-found"


def crd(version: str) -> str:
    return (
        f"helm upgrade --install karpenter-crd oci://public.ecr.aws/karpenter/karpenter-crd --version {version} "
        "--namespace kube-system --wait"
    )


def controller(version: str) -> str:
    return (
        f"helm upgrade --install karpenter oci://public.ecr.aws/karpenter/karpenter --version {version} "
        f"--namespace kube-system --set-string settings.clusterName={CLUSTER} "
        f"--set-string settings.interruptionQueue={CLUSTER} "
        "--set-string controller.resources.requests.cpu=1 --set-string controller.resources.requests.memory=1Gi "
        "--set-string controller.resources.limits.cpu=1 --set-string controller.resources.limits.memory=1Gi "
        "--wait"
    )


def tag(**commits: str) -> str:
    keys = {"cluster": "eksgen.io/cluster-commit", "deployed": "eksgen.io/deployed-commit"}
    tags = json.dumps({keys[k]: v for k, v in commits.items()}, sort_keys=True)
    return f"aws eks tag-resource --region us-west-2 --resource-arn {ARN} --tags {tags}"


# After a control-plane upgrade each add-on moves to the newest release for the new minor; without
# --version, eksctl would keep the installed one (eksctl@v0.230.0:pkg/actions/addon/update.go).
ADDON_UPGRADES = [
    f"eksctl update addon --cluster demo --region us-west-2 --name {name} --version latest --wait"
    for name in ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver")
]


def fresh(sha: str, karpenter: str = "1.14.1") -> list[str]:
    """What a deploy into an empty account changes, in order."""
    return [
        STACK,
        SPOT_ROLE,
        CREATE,
        tag(cluster=sha),
        crd(karpenter),
        controller(karpenter),
        APPLY + "ec2nodeclass.yaml",
        APPLY + "nodepool.yaml",
        APPLY + "storageclass.yaml",
        UNDEFAULT_GP2,
        tag(cluster=sha, deployed=sha),
    ]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("deploy-repos")
    return {
        "default": new_repo(base / "default"),
        "1.34": new_repo(base / "previous", **{"k8s-version": "1.34"}),
        "other-account": new_repo(base / "other", **{"aws-account-id": "111122223333"}),
    }


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    return copy_repo(pristine["default"], tmp_path)


def deploy(cli_invoke, repo: Path, expect: int = 0):  # noqa: ANN201 - click's Result
    result = cli_invoke("deploy", "--repo", repo, "--wait-timeout", "5")
    assert result.exit_code == expect, result.output
    return result


def assert_deployed(
    fakes: Fakes,
    sha: str,
    *,
    version: str = versions.DEFAULT_KUBERNETES,
    karpenter: str = "1.14.1",
    groups: tuple[str, ...] = ("system",),
) -> None:
    """moto and the fake cluster hold what rendered/ at `sha` says, and the record names `sha`."""
    eks = fakes.aws.client("eks")
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    assert (cluster["status"], cluster["version"]) == ("ACTIVE", version)
    assert cluster["tags"]["eksgen.io/deployed-commit"] == sha == cluster["tags"]["eksgen.io/cluster-commit"]
    assert cluster["tags"]["karpenter.sh/discovery"] == CLUSTER
    assert sorted(eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"]) == sorted(groups)
    for group in groups:
        assert eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=group)["nodegroup"]["version"] == version
    (stack,) = fakes.aws.client("cloudformation").describe_stacks(StackName="Karpenter-demo")["Stacks"]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert fakes.aws.client("sqs").get_queue_url(QueueName=CLUSTER)["QueueUrl"].endswith(f"/{CLUSTER}")
    kube = fakes.kube()
    releases = kube["releases"]
    assert releases["kube-system/karpenter-crd"]["chart"] == f"karpenter-crd-{karpenter}"
    release = releases["kube-system/karpenter"]
    assert (release["chart"], release["status"]) == (f"karpenter-{karpenter}", "deployed")
    assert release["values"] == {
        "settings": {"clusterName": CLUSTER, "interruptionQueue": CLUSTER},
        "controller": {
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
        },
    }
    assert set(kube["crds"].values()) == {karpenter}, "the CRDs follow the release (karpenter-crd chart)"
    objects = kube["objects"]
    for key in (
        "nodepools.karpenter.sh//default",
        "ec2nodeclasses.karpenter.k8s.aws//default",
        "storageclasses.storage.k8s.io//gp3",
    ):
        assert key in objects
    default = "storageclass.kubernetes.io/is-default-class"
    assert objects["storageclasses.storage.k8s.io//gp2"]["metadata"]["annotations"][default] == "false"
    assert objects["storageclasses.storage.k8s.io//gp3"]["metadata"]["annotations"][default] == "true"
    eksctl = fakes.eksctl()
    assert sorted(eksctl["addons"]) == [
        "aws-ebs-csi-driver",
        "coredns",
        "eks-pod-identity-agent",
        "kube-proxy",
        "vpc-cni",
    ]
    assert {a["Version"] for a in eksctl["addons"].values()} == {f"v{version}.0-eksbuild.1"}
    assert list(eksctl["accessentries"]) == [f"arn:aws:iam::{ACCOUNT_ID}:role/KarpenterNodeRole-{CLUSTER}"]
    assert list(eksctl["podidentities"]) == ["kube-system/karpenter"]
    assert len(karpenter_instances(fakes)) == 1, "Karpenter launched a node for the NodePool"


def karpenter_instances(fakes: Fakes) -> list[str]:
    reservations = fakes.aws.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag-key", "Values": ["karpenter.sh/nodepool"]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )["Reservations"]
    return [i["InstanceId"] for r in reservations for i in r["Instances"]]


def evidence(fakes: Fakes) -> dict:
    """Everything a change would touch, as moto and the fake cluster report it."""
    eks, cloudformation = fakes.aws.client("eks"), fakes.aws.client("cloudformation")
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    groups = {
        g: eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=g)["nodegroup"]
        for g in eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"]
    }
    stacks = cloudformation.list_stacks()["StackSummaries"]
    return {
        "cluster": (cluster["createdAt"], cluster["version"], cluster["tags"]),
        "groups": {g: (n["nodegroupArn"], n["version"], n["scalingConfig"]) for g, n in groups.items()},
        "stacks": sorted((s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime"))) for s in stacks),
        "events": len(cloudformation.describe_stack_events(StackName="Karpenter-demo")["StackEvents"]),
        "kube": (fakes.state / "kube.json").read_text(),
        "eksctl": (fakes.state / "eksctl.json").read_text(),
        "instances": karpenter_instances(fakes),
    }


# ---- a fresh account ---------------------------------------------------------------------------
def test_a_fresh_account_gets_everything_in_order(fakes, repo, cli_invoke, tmp_path, monkeypatch):
    summary = tmp_path / "summary" / "step_summary.md"
    summary.parent.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    sha = head(repo)

    result = deploy(cli_invoke, repo)

    assert fakes.changes() == fresh(sha)
    assert_deployed(fakes, sha)
    calls = [c.line for c in fakes.calls()]
    first_change = calls.index(STACK)
    for check in (
        "eksctl version",
        "helm version",
        "kubectl version --client",
        "aws --version",
        "aws sts get-caller-identity",
    ):
        assert any(c.startswith(check) for c in calls[:first_change]), f"{check} runs before any change"
    assert "plan: from nothing deployed to" in result.output
    for number in range(1, 8):
        assert f"[{number}] " in result.output
    assert result.output.rstrip().endswith("11 changes")
    text = summary.read_text()
    assert text.startswith("## eksgen deploy `demo`: done\n")
    assert f"to `{sha[:12]}` in us-west-2, account {ACCOUNT_ID}" in text
    assert text.count("| changed") == 5 and "| EKS cluster demo | changed" in text
    assert text.count("| unchanged") == 2
    assert f"`{CREATE}`" in text


def test_a_second_run_with_nothing_changed_changes_nothing(fakes, repo, cli_invoke):
    deploy(cli_invoke, repo)
    before, mark = evidence(fakes), fakes.mark()

    result = deploy(cli_invoke, repo)

    assert fakes.changes(mark) == []
    assert evidence(fakes) == before
    assert [c.line for c in fakes.calls(mark) if c.tool == "aws" and c.args[:2] == ["cloudformation", "deploy"]] == []
    assert (
        "stack Karpenter-demo is CREATE_COMPLETE with this template and these tags: nothing to deploy" in result.output
    )
    assert result.output.rstrip().endswith("nothing had to change")
    assert result.output.count(": unchanged (") == 7


# ---- changes merged later ----------------------------------------------------------------------
def test_kubernetes_upgrade_from_1_34_to_1_35(fakes, pristine, tmp_path, cli_invoke):
    repo = copy_repo(pristine["1.34"], tmp_path)
    deploy(cli_invoke, repo)
    sha = commit(repo, "eksVersion=1.35")
    mark = fakes.mark()

    deploy(cli_invoke, repo)

    assert fakes.changes(mark) == [
        f"eksctl upgrade cluster {CONFIG} --approve",
        *ADDON_UPGRADES,
        "eksctl upgrade nodegroup --cluster demo --region us-west-2 --name system --kubernetes-version 1.35",
        tag(cluster=sha),
        tag(cluster=sha, deployed=sha),
    ]
    assert_deployed(fakes, sha, version="1.35")
    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == []


def test_a_node_group_added_and_one_removed(fakes, repo, cli_invoke):
    deploy(cli_invoke, repo)
    sha = commit(repo, "managedNodeGroup.name=workers")
    mark = fakes.mark()

    deploy(cli_invoke, repo)

    assert fakes.changes(mark) == [
        f"eksctl create nodegroup {CONFIG} --include workers",
        "eksctl delete nodegroup --cluster demo --region us-west-2 --name system --drain=true --wait",
        tag(cluster=sha),
        tag(cluster=sha, deployed=sha),
    ]
    assert_deployed(fakes, sha, groups=("workers",))
    stacks = {
        s["StackName"]: s["StackStatus"] for s in fakes.aws.client("cloudformation").list_stacks()["StackSummaries"]
    }
    assert stacks["eksctl-demo-nodegroup-workers"] == "CREATE_COMPLETE"
    assert stacks["eksctl-demo-nodegroup-system"] == "DELETE_COMPLETE"


def test_new_tags_reach_the_stack_and_the_cluster(fakes, repo, cli_invoke):
    deploy(cli_invoke, repo)
    # A node group's tags are fixed when eksctl creates it: new tags come with a new node group.
    sha = commit(repo, "tags={team: platform}", "managedNodeGroup.name=tagged")
    mark = fakes.mark()

    deploy(cli_invoke, repo)

    assert fakes.changes(mark) == [
        STACK + ' --tags=["team=platform"]',
        f"eksctl create nodegroup {CONFIG} --include tagged",
        "eksctl delete nodegroup --cluster demo --region us-west-2 --name system --drain=true --wait",
        f'aws eks tag-resource --region us-west-2 --resource-arn {ARN} --tags {{"team": "platform"}}',
        tag(cluster=sha),
        APPLY + "ec2nodeclass.yaml",  # Karpenter's nodes and the gp3 volumes are tagged too
        REPLACE_GP3,  # a StorageClass's parameters cannot be updated (review item 11)
        APPLY + "storageclass.yaml",
        tag(cluster=sha, deployed=sha),
    ]
    group = fakes.aws.client("eks").describe_nodegroup(clusterName=CLUSTER, nodegroupName="tagged")["nodegroup"]
    assert group["tags"]["team"] == "platform"
    assert fakes.aws.client("eks").describe_cluster(name=CLUSTER)["cluster"]["tags"]["team"] == "platform"
    # CloudFormation applies a change set that changes only the stack's tags (and gives them to the stack's
    # resources); moto's change sets ignore tags (a known gap), so the stack has none and every deploy
    # tries again. If this fails, moto learned it: assert the tag, and that a re-run changes nothing.
    (stack,) = fakes.aws.client("cloudformation").describe_stacks(StackName="Karpenter-demo")["Stacks"]
    assert stack.get("Tags", []) == []
    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == [STACK + ' --tags=["team=platform"]']


# ---- failures, re-runs and later merges ---------------------------------------------------------
def test_a_failure_at_each_step_in_turn_then_a_rerun_converges(fakes, repo, cli_invoke):
    """Every step of a first deploy fails once, in turn: each run gets one step further, never repeats a change
    that succeeded, records nothing as deployed; the last run completes and the next one changes nothing."""
    sha = head(repo)
    record = tag(cluster=sha, deployed=sha)
    runs = [  # (the failure injected, the changes of the run that meets it, ending with the failed one)
        ("aws cloudformation deploy", [STACK]),
        ("eksctl create cluster", [STACK, SPOT_ROLE, CREATE]),
        # eksctl makes the control plane, access entries and pod identities, then stops before the node groups
        ("eksctl create cluster@identity", [CREATE]),
        # the re-run completes the cluster as HEAD's ClusterConfig says, node groups before Karpenter
        (
            "helm upgrade --install karpenter-crd ",
            [
                *(
                    f"eksctl create addon --cluster demo --region us-west-2 --name {name}"
                    for name in ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent")
                ),
                # the EBS CSI driver gets its pod identity (review item 13), from the config file (with the roles'
                # permissions boundary)
                f"eksctl create addon {CONFIG}",
                f"eksctl create nodegroup {CONFIG} --include system",
                tag(cluster=sha),
                crd("1.14.1"),
            ],
        ),
        ("helm upgrade --install karpenter oci://", [crd("1.14.1"), controller("1.14.1")]),
        (APPLY + "nodepool.yaml", [controller("1.14.1"), APPLY + "ec2nodeclass.yaml", APPLY + "nodepool.yaml"]),
        ("kubectl annotate", [APPLY + "nodepool.yaml", APPLY + "storageclass.yaml", UNDEFAULT_GP2]),
        ("kubectl wait ec2nodeclass", [UNDEFAULT_GP2]),  # a read fails: Karpenter's objects are not Ready
        (record[:-3], [record]),
    ]
    fakes.fail(*(failure for failure, _ in runs))
    succeeded: list[str] = []
    for failure, expected in runs:
        mark = fakes.mark()
        result = deploy(cli_invoke, repo, expect=1)
        calls = fakes.calls(mark)
        (injected,) = [c for c in calls if c.exit != 0 and c.line.startswith(failure.split("@")[0])]
        assert [c.line for c in calls if not c.reads and c.exit != 0 and c != injected] == [], failure
        changes = [c.line for c in calls if not c.reads]
        assert changes == expected, failure
        after = calls[calls.index(injected) + 1 :]
        assert [c.line for c in after if not c.reads] == [], f"{failure}: nothing changes after the failure"
        repeated = set(succeeded) & set(changes)
        assert not repeated, f"{failure}: the run repeated changes that had succeeded: {repeated}"
        succeeded += [c.line for c in calls if not c.reads and c.exit == 0]
        assert "Run the deploy again" not in result.output and "Error: " in result.output
        clusters = fakes.aws.client("eks").list_clusters()["clusters"]
        if clusters:
            tags = fakes.aws.client("eks").describe_cluster(name=CLUSTER)["cluster"]["tags"]
            assert "eksgen.io/deployed-commit" not in tags, "a failed deploy records nothing as deployed"

    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == [record]
    assert_deployed(fakes, sha)
    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == []


def test_a_merge_after_a_failed_deploy_carries_both_changes(fakes, pristine, tmp_path, cli_invoke):
    repo = copy_repo(pristine["1.34"], tmp_path)
    first = head(repo)
    deploy(cli_invoke, repo)
    commit(repo, "eksVersion=1.35")
    fakes.fail("eksctl upgrade nodegroup")
    deploy(cli_invoke, repo, expect=1)
    eks = fakes.aws.client("eks")
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["version"] == "1.35", "the control plane was upgraded"
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["tags"]["eksgen.io/deployed-commit"] == first
    sha = commit(repo, "managedNodeGroup.maxSize=5", "karpenter.nodePool.limits.cpu=2000")
    mark = fakes.mark()

    result = deploy(cli_invoke, repo)

    assert fakes.changes(mark) == [
        *ADDON_UPGRADES,
        "eksctl upgrade nodegroup --cluster demo --region us-west-2 --name system --kubernetes-version 1.35",
        "eksctl scale nodegroup --cluster demo --region us-west-2 --name system --nodes 2 --nodes-min 1 --nodes-max 5",
        tag(cluster=sha),
        APPLY + "nodepool.yaml",
        tag(cluster=sha, deployed=sha),
    ]
    assert (
        "upgrade the control plane from 1.34 to 1.35: skipped, the control plane is at Kubernetes 1.35 "
        "already" in result.output
    )
    assert_deployed(fakes, sha, version="1.35")
    assert (
        eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="system")["nodegroup"]["scalingConfig"]["maxSize"]
        == 5
    )
    assert fakes.kube()["objects"]["nodepools.karpenter.sh//default"]["spec"]["limits"]["cpu"] == "2000"


# ---- refusals before any change -----------------------------------------------------------------
def test_another_aws_account_is_refused_before_any_change(fakes, pristine, tmp_path, cli_invoke):
    repo = copy_repo(pristine["other-account"], tmp_path)
    result = deploy(cli_invoke, repo, expect=1)
    assert f"are for account {ACCOUNT_ID}, but values.yaml's awsAccountId is 111122223333" in result.output
    assert "nothing was changed" in result.output
    assert fakes.changes() == []
    assert fakes.calls()[-1].line == "aws sts get-caller-identity --output json", "refused right after the identity"
    assert fakes.aws.client("cloudformation").list_stacks()["StackSummaries"] == []


def recorded(fakes: Fakes, deployed: str) -> None:
    """A cluster in moto that records `deployed` as its deployed commit (what a deploy of it leaves)."""
    fakes.aws.client("eks").create_cluster(
        name=CLUSTER,
        version=versions.DEFAULT_KUBERNETES,
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/eksctl-demo-cluster-ServiceRole",
        resourcesVpcConfig={"subnetIds": []},
        tags={"eksgen.io/deployed-commit": deployed},
    )


def test_a_plan_with_a_blocker_is_refused_before_any_change(fakes, repo, cli_invoke):
    recorded(fakes, head(repo))
    commit(repo, "vpc.cidr=10.20.0.0/16")

    result = deploy(cli_invoke, repo, expect=1)

    assert "cannot be applied; nothing was changed" in result.output
    assert "vpc.cidr: '10.10.0.0/16' -> '10.20.0.0/16'" in result.output
    assert fakes.changes() == []
    assert [c.line.split(" --")[0] for c in fakes.calls()][-1] == "aws eks describe-cluster", (
        "refused while planning, before any step"
    )


def test_tools_of_other_versions_are_refused_before_anything_is_read(fakes, repo, cli_invoke, monkeypatch):
    monkeypatch.setenv("FAKE_EKSCTL_VERSION", "0.200.0")
    monkeypatch.setenv("FAKE_KUBECTL_VERSION", "1.29.3")
    monkeypatch.setenv("FAKE_AWS_REAL_VERSION", "1")  # the real aws CLI of the test extra: v1
    result = deploy(cli_invoke, repo, expect=1)
    problems = result.output.split("nothing was changed:")[1]
    assert re.search(r"- eksctl at \S+/eksctl is 0\.200\.0, but deploys need eksctl 0\.230\.0", problems)
    assert re.search(r"- kubectl at \S+ is v1\.29\.3, too far from the cluster's Kubernetes 1\.35", problems)
    assert re.search(r"- aws at \S+ is aws-cli/1\.\d+\.\d+, but deploys need the AWS CLI v2", problems)
    assert "helm" not in result.output.split("nothing was changed:")[1], "helm 3.16.4 is fine"
    assert [c.line for c in fakes.calls() if c.tool == "aws"] == ["aws --version"]


def test_a_working_tree_that_differs_from_head_is_refused(fakes, repo, cli_invoke):
    values = repo / "values.yaml"
    values.write_text(values.read_text().replace("maxSize: 3", "maxSize: 4"))
    result = deploy(cli_invoke, repo, expect=1)
    assert "values.yaml or rendered/ differ from HEAD (values.yaml)" in result.output
    assert fakes.calls() == []


def test_a_commit_older_than_the_deployed_one_is_refused(fakes, repo, cli_invoke):
    """Re-running an old workflow run after newer merges were deployed would take the cluster back."""
    old = head(repo)
    recorded(fakes, commit(repo, "karpenter.nodePool.limits.cpu=2000"))
    subprocess.run(["git", "-C", str(repo), "checkout", "--quiet", old], check=True)
    result = deploy(cli_invoke, repo, expect=1)
    assert f"HEAD {old[:12]} is older than the deployed commit" in result.output
    assert fakes.changes() == []


def test_a_deployed_commit_missing_from_history_is_refused(fakes, repo, cli_invoke):
    recorded(fakes, "f" * 40)
    result = deploy(cli_invoke, repo, expect=1)
    assert f"records deployed commit {'f' * 40}, which is not in this clone's history" in result.output
    assert "fetch-depth: 0" in result.output
    assert fakes.changes() == []


# ---- the entrypoint, and the time a deploy takes -------------------------------------------------
def test_the_entrypoint_deploys_with_a_step_summary(fakes, repo, tmp_path):
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    env.pop("EKS_ACCELERATOR_MODE", None)  # native: eksgen and every tool are on PATH
    started = time.perf_counter()
    result = subprocess.run(
        ["./eks-accelerator.sh", "deploy", "--wait-timeout", "5"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert fakes.changes() == fresh(head(repo))
    assert summary.read_text().startswith("## eksgen deploy `demo`: done")
    print(f"\na full first deploy through ./eks-accelerator.sh took {seconds:.1f}s")  # noqa: T201 - measured

    result = subprocess.run(
        ["./eks-accelerator.sh", "status"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "live state matches rendered/ at HEAD" in result.stdout
