"""`eksgen destroy --confirm NAME`: refused without the exact name; otherwise everything a deploy created is
deleted, in order, and a failed destroy is finished by running it again."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.deploy import destroy as destroy_core
from generator.errors import StepFailedError
from tests.aws import ACCOUNT_ID
from tests.deploy_support import (
    CLUSTER,
    Fakes,
    copy_repo,
    fakes_fixture,  # noqa: F401 - the `fakes` fixture
    new_repo,
)

pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS.{2}SQS.{2}QueuePolicy:UserWarning")

DESTROY_IN_ORDER = [
    "kubectl delete nodepools.karpenter.sh --all --wait=true --timeout=1800s",
    "kubectl delete ec2nodeclasses.karpenter.k8s.aws --all --wait=true --timeout=1800s",
    "helm uninstall karpenter --namespace kube-system --wait",
    "helm uninstall karpenter-crd --namespace kube-system --wait",
    "eksctl delete cluster --name demo --region us-west-2 --wait",
    "aws cloudformation delete-stack --stack-name Karpenter-demo --region us-west-2",
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return new_repo(tmp_path_factory.mktemp("destroy-repos"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    return copy_repo(pristine, tmp_path)


def run(cli_invoke, command: str, repo: Path, *args: str, expect: int = 0):  # noqa: ANN201 - click's Result
    result = cli_invoke(command, "--repo", repo, *args)
    assert result.exit_code == expect, result.output
    return result


def assert_nothing_left(fakes: Fakes) -> None:
    """No cluster, stack, queue, rule, role, instance or record of the cluster is left in the account."""
    aws = fakes.aws
    assert aws.client("eks").list_clusters()["clusters"] == []
    stacks = aws.client("cloudformation").list_stacks()["StackSummaries"]
    assert stacks and {s["StackStatus"] for s in stacks} == {"DELETE_COMPLETE"}, stacks
    assert not aws.client("sqs").list_queues().get("QueueUrls")
    assert aws.client("events").list_rules()["Rules"] == []
    # The EC2 Spot service-linked role stays: it belongs to the account (every Spot user shares it), not the cluster.
    assert [
        r["RoleName"] for r in aws.client("iam").list_roles()["Roles"] if not r["Path"].startswith("/aws-service-role/")
    ] == []
    assert (
        aws.client("ec2").describe_vpcs(Filters=[{"Name": "tag:karpenter.sh/discovery", "Values": [CLUSTER]}])["Vpcs"]
        == []
    )
    instances = aws.client("ec2").describe_instances()["Reservations"]
    assert {i["State"]["Name"] for r in instances for i in r["Instances"]} <= {"terminated"}
    assert aws.client("ssm").describe_parameters()["Parameters"] == [], "the record was a tag of the cluster"
    assert fakes.kube() == {} and fakes.eksctl() == {"accessentries": {}, "addons": {}, "podidentities": {}}
    # moto does not delete the AWS::IAM::ManagedPolicy resources of a deleted stack (it has no CloudFormation
    # delete for them, a known gap; CloudFormation deletes them). If this fails, moto learned it: expect [].
    local = aws.client("iam").list_policies(Scope="Local")["Policies"]
    assert {p["PolicyName"].rsplit("-", 1)[-1] for p in local} <= {CLUSTER}
    # The control-plane log group stays for its retention period, on purpose (see generator/deploy/destroy.py).
    groups = aws.client("logs").describe_log_groups()["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(f"/aws/eks/{CLUSTER}/cluster", 90)]


def test_without_the_exact_cluster_name_nothing_is_called(fakes, repo, cli_invoke):
    for args in ([], ["--confirm", "dem"], ["--confirm", "DEMO"], ["--confirm", "demo "]):
        result = run(cli_invoke, "destroy", repo, *args, expect=2)
        assert "--confirm" in result.output and "must be the exact name of the cluster, 'demo'" in result.output
    assert fakes.calls() == []


def test_a_deployed_cluster_is_deleted_in_order_and_nothing_is_left(fakes, repo, cli_invoke, tmp_path, monkeypatch):
    run(cli_invoke, "deploy", repo, "--wait-timeout", "5")
    (instance,) = [i for r in fakes.aws.client("ec2").describe_instances()["Reservations"] for i in r["Instances"]]
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    mark = fakes.mark()

    result = run(cli_invoke, "destroy", repo, "--confirm", CLUSTER)

    assert fakes.changes(mark) == DESTROY_IN_ORDER
    calls = [c.line for c in fakes.calls(mark)]
    instances_checked = calls.index(next(c for c in calls if c.startswith("aws ec2 describe-instances")))
    assert calls.index(DESTROY_IN_ORDER[0]) < instances_checked < calls.index(DESTROY_IN_ORDER[4]), (
        "Karpenter's instances are gone before eksctl deletes the VPC"
    )
    assert any(c.startswith("kubectl wait nodeclaims.karpenter.sh --all --for=delete") for c in calls)
    assert (
        fakes.aws.client("ec2").describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0][
            "Instances"
        ][0]["State"]["Name"]
        == "terminated"
    )
    assert_nothing_left(fakes)
    assert "CloudWatch keeps the control-plane logs" in result.output
    assert summary.read_text().startswith("## eksgen destroy `demo`: done")
    mark = fakes.mark()
    run(cli_invoke, "destroy", repo, "--confirm", CLUSTER)
    assert fakes.changes(mark) == [], "destroying what is gone changes nothing"


def test_a_failed_destroy_is_finished_by_running_it_again(fakes, repo, cli_invoke):
    run(cli_invoke, "deploy", repo, "--wait-timeout", "5")
    fakes.fail("eksctl delete cluster@nodegroups")
    result = run(cli_invoke, "destroy", repo, "--confirm", CLUSTER, expect=1)
    assert "eksctl delete cluster --name demo --region us-west-2 --wait` exited 1" in result.output
    assert fakes.aws.client("eks").list_clusters()["clusters"] == [CLUSTER]
    mark = fakes.mark()

    result = run(cli_invoke, "destroy", repo, "--confirm", CLUSTER)

    assert fakes.changes(mark) == DESTROY_IN_ORDER[4:]
    assert "Karpenter's CRDs are not installed: no NodePool" in result.output
    assert_nothing_left(fakes)


def test_what_a_failed_first_deploy_left_is_deleted(fakes, repo, cli_invoke):
    fakes.fail("eksctl create cluster")
    run(cli_invoke, "deploy", repo, "--wait-timeout", "5", expect=1)
    mark = fakes.mark()
    result = run(cli_invoke, "destroy", repo, "--confirm", CLUSTER)
    assert fakes.changes(mark) == DESTROY_IN_ORDER[5:]
    assert result.output.count("the cluster does not exist") == 3
    stacks = fakes.aws.client("cloudformation").list_stacks()["StackSummaries"]
    assert [(s["StackName"], s["StackStatus"]) for s in stacks] == [("Karpenter-demo", "DELETE_COMPLETE")]


def test_the_cluster_is_not_deleted_while_karpenter_instances_run(fakes, repo, cli_invoke):
    run(cli_invoke, "deploy", repo, "--wait-timeout", "5")
    ec2 = fakes.aws.client("ec2")
    filters = [{"Name": "name", "Values": ["al2023-ami-2*-x86_64"]}]  # the image of tests/moto_amis.json
    image = ec2.describe_images(Owners=["amazon"], MaxResults=5, Filters=filters)["Images"][0]["ImageId"]
    orphan = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [
                    {"Key": "karpenter.sh/nodepool", "Value": "gone"},
                    {"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"},
                ],
            }
        ],
    )
    orphan_id = orphan["Instances"][0]["InstanceId"]
    mark = fakes.mark()
    lines: list[str] = []

    with pytest.raises(StepFailedError, match=f"Karpenter's instances still run after 1s: {orphan_id}"):
        destroy_core(repo, CLUSTER, log=lines.append, wait_timeout=1, poll_seconds=0.2)

    assert fakes.changes(mark) == ["kubectl delete nodepools.karpenter.sh --all --wait=true --timeout=1s"]
    assert any(f"waiting for Karpenter's instances to terminate: {orphan_id}" in line for line in lines)
    assert fakes.aws.client("eks").list_clusters()["clusters"] == [CLUSTER]


def test_destroy_refuses_another_account(fakes, tmp_path, cli_invoke):
    repo = new_repo(tmp_path / "other", **{"aws-account-id": "111122223333"})
    result = run(cli_invoke, "destroy", repo, "--confirm", CLUSTER, expect=1)
    assert f"are for account {ACCOUNT_ID}, but values.yaml's awsAccountId is 111122223333" in result.output
    assert fakes.changes() == []
