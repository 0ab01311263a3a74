"""Review items 8, 10 and 11 of `eksgen deploy`, `eksgen plan` and the `policy` check, each named after its item
and citing the upstream rule it follows. The scenarios run like tests/test_deploy.py's: real repositories and git,
the real aws CLI against moto, the recording fakes of tests/fakes/ for eksctl, helm and kubectl."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from generator import plan as plan_module
from generator.deploy import steps
from generator.deploy.shell import Runner
from generator.validate import Context, policy, run
from tests.aws import ACCOUNT_ID
from tests.deploy_support import (
    commit,
    copy_repo,
    fakes_fixture,  # noqa: F401 - the `fakes` fixture
    head,
    new_repo,
)
from tests.test_deploy import APPLY, ARN, REPLACE_GP3, SPOT_ROLE, deploy, fresh, tag

pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS.{2}SQS.{2}QueuePolicy:UserWarning")

SPOT_ROLE_NAME = "AWSServiceRoleForEC2Spot"
ROLE_TAKEN = (
    "An error occurred (InvalidInput) when calling the CreateServiceLinkedRole operation: Service role name "
    "AWSServiceRoleForEC2Spot has been taken in this account, please try a different suffix."
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("review-repos")
    return {
        "default": new_repo(base / "default"),
        "no-account": new_repo(base / "no-account", **{"aws-account-id": ""}),
        "on-demand": new_repo(base / "on-demand", **{"capacity-types": ["on-demand"]}),
    }


def record(sha: str) -> str:
    return tag(cluster=sha, deployed=sha)


# ---- item 8: an empty awsAccountId ---------------------------------------------------------------
def test_item_8_deploy_refuses_an_empty_aws_account_id_before_any_call(fakes, pristine, tmp_path, cli_invoke):
    """Karpenter's controller gets its AWS permissions from a pod identity association whose policies, and its
    nodes join with a node role, both named by ARNs of the account: aws/karpenter-provider-aws@v1.14.1:
    website/content/en/docs/getting-started/getting-started-with-karpenter/scripts/step02-create-cluster.sh
    (podIdentityAssociations permissionPolicyARNs arn:${AWS_PARTITION}:iam::${AWS_ACCOUNT_ID}:policy/..., and the
    node role arn:${AWS_PARTITION}:iam::${AWS_ACCOUNT_ID}:role/KarpenterNodeRole-${CLUSTER_NAME}). Without
    awsAccountId the chart leaves both out, so the deploy refuses before it runs anything; once set, it deploys."""
    repo = copy_repo(pristine["no-account"], tmp_path)
    assert "podIdentityAssociations" not in (repo / "rendered/eksctl/cluster.yaml").read_text()

    result = deploy(cli_invoke, repo, expect=1)

    assert "values.yaml's awsAccountId is empty" in result.output
    assert "`eksgen set awsAccountId=123456789012`" in result.output
    assert "nothing was changed" in result.output
    assert fakes.calls() == [], "refused before any tool is called"
    assert fakes.aws.client("cloudformation").list_stacks()["StackSummaries"] == []

    sha = commit(repo, f"awsAccountId={ACCOUNT_ID}")
    deploy(cli_invoke, repo)
    assert fakes.changes() == fresh(sha)
    assert list(fakes.eksctl()["podidentities"]) == ["kube-system/karpenter"]


def test_item_8_validate_says_so_with_policy_rule_eks008(pristine, tmp_path, schemas, monkeypatch):
    """The same rule in CI (`eksgen validate`, policy check): EKS008 aws-account-id-set, an error on values.yaml's
    awsAccountId line, saying how to set it. Source as above: aws/karpenter-provider-aws@v1.14.1:
    website/content/en/docs/getting-started/getting-started-with-karpenter/scripts/step02-create-cluster.sh.
    policy.exceptions can turn it off only once the chart's values.schema.json accepts the id EKS008."""
    repo = copy_repo(pristine["no-account"], tmp_path)
    line = next(
        i
        for i, text in enumerate((repo / "values.yaml").read_text().splitlines(), 1)
        if text.startswith("awsAccountId:")
    )

    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    (result,) = run(Context(repo, schemas=schemas), only=["policy"])
    (finding,) = [f for f in result.findings if f.rule == "EKS008"]
    assert (finding.severity, result.passed) == ("warning", True)  # on a laptop: said, not failed

    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # in a pull request's check
    (result,) = run(Context(repo, schemas=schemas), only=["policy"])
    (finding,) = [f for f in result.findings if f.rule == "EKS008"]
    assert (finding.file, finding.line, finding.severity) == ("values.yaml", line, "error")
    assert finding.message.startswith("awsAccountId: [EKS008 aws-account-id-set] values.yaml names no AWS account")
    assert finding.message.endswith(
        "set it to the 12-digit id of the cluster's AWS account: eksgen set "
        "awsAccountId=123456789012 (it cannot be turned off)"
    )
    assert result.passed is False

    values = repo / "values.yaml"
    values.write_text(values.read_text().replace("  exceptions: []", "  exceptions: [{id: EKS008, reason: later}]"))
    (result,) = run(Context(repo, schemas=schemas), only=["policy"])
    if "EKS008" in (policy.exceptable(Context(repo)) or set()):  # the chart's schema lists it: the exception counts
        assert [f for f in result.findings if f.rule == "EKS008"] == []
    else:  # the values check refuses the id, and the rule stays on
        assert [f.rule for f in result.findings] == ["EKS008"]
        assert any("EKS008 aws-account-id-set cannot be turned off" in n for n in result.notes)

    (result,) = run(
        Context(copy_repo(pristine["default"], tmp_path / "with-account"), schemas=schemas), only=["policy"]
    )
    assert result.findings == [] and result.passed


# ---- item 10: the EC2 Spot service-linked role -----------------------------------------------------
def test_item_10_the_spot_service_linked_role_is_created_with_karpenters_prerequisites(
    fakes, pristine, tmp_path, cli_invoke
):
    """EC2 launches Spot instances only when the account has the service-linked role AWSServiceRoleForEC2Spot;
    "If you use the AWS CLI or an API to request a Spot Instance, you must first ensure that this role exists"
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html).
    Karpenter's guide creates it before installing (aws/karpenter-provider-aws@v1.14.1:website/content/en/docs/
    getting-started/getting-started-with-karpenter/scripts/step06-add-spot-role.sh), and without it the launch
    fails with AuthFailure.ServiceLinkedRoleCreationNotPermitted and Karpenter marks Spot unavailable
    (aws/karpenter-provider-aws@v1.14.1:website/content/en/docs/troubleshooting.md, "Missing Service Linked Role";
    pkg/providers/instance/instance.go). The plan lists it with the prerequisites; a re-run changes nothing."""
    repo = copy_repo(pristine["default"], tmp_path)
    sha = head(repo)
    plan = plan_module.build(repo, None, head_ref=sha)
    assert [(a.phase, a.title) for a in plan.actions[:2]] == [
        ("karpenter-prerequisites", "deploy Karpenter's IAM roles, policies and queue"),
        ("karpenter-prerequisites", "create the EC2 Spot service-linked role"),
    ]
    assert plan.actions[1].command == SPOT_ROLE.split()

    deploy(cli_invoke, repo)

    changes = fakes.changes()
    assert changes == fresh(sha) and changes[1] == SPOT_ROLE, "right after Karpenter's stack"
    role = fakes.aws.client("iam").get_role(RoleName=SPOT_ROLE_NAME)["Role"]
    assert role["Path"] == "/aws-service-role/spot.amazonaws.com/"
    kube = fakes.kube()
    (claim,) = [o for o in kube["objects"].values() if o["kind"] == "NodeClaim"]
    assert claim["metadata"]["labels"]["karpenter.sh/capacity-type"] == "spot", "Karpenter's first node is Spot"
    assert "events" not in kube, "no Spot launch failed"

    mark = fakes.mark()
    result = deploy(cli_invoke, repo)
    assert fakes.changes(mark) == []
    assert f"aws iam get-role --role-name {SPOT_ROLE_NAME} --output json" in [c.line for c in fakes.calls(mark)]
    assert f"the service-linked role {SPOT_ROLE_NAME} of spot.amazonaws.com exists" in result.output


def test_item_10_the_role_is_created_when_a_nodepool_starts_allowing_spot(fakes, pristine, tmp_path, cli_invoke):
    """Only a NodePool that allows Spot needs the role (an on-demand NodePool never asks EC2 for Spot): the plan
    adds it when capacityTypes gains spot. Sources: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/
    service-linked-roles-spot-instance-requests.html; aws/karpenter-provider-aws@v1.14.1:website/content/en/docs/
    getting-started/getting-started-with-karpenter/scripts/step06-add-spot-role.sh."""
    repo = copy_repo(pristine["on-demand"], tmp_path)
    first = head(repo)
    deploy(cli_invoke, repo)
    assert fakes.changes() == [c for c in fresh(first) if c != SPOT_ROLE]
    assert not any(c.args[:2] == ["iam", "get-role"] for c in fakes.calls()), "nothing to ask about"
    (claim,) = [o for o in fakes.kube()["objects"].values() if o["kind"] == "NodeClaim"]
    assert claim["metadata"]["labels"]["karpenter.sh/capacity-type"] == "on-demand"

    sha = commit(repo, "karpenter.nodePool.capacityTypes=[spot, on-demand]")
    plan = plan_module.build(repo, first, head_ref=sha)
    assert [(a.phase, a.command) for a in plan.actions] == [
        ("karpenter-prerequisites", SPOT_ROLE.split()),
        ("manifests", (APPLY + "nodepool.yaml").split()),
    ]
    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == [SPOT_ROLE, APPLY + "nodepool.yaml", record(sha)]
    assert fakes.aws.client("iam").get_role(RoleName=SPOT_ROLE_NAME)["Role"]["RoleName"] == SPOT_ROLE_NAME
    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == []


def test_item_10_a_role_that_exists_is_not_created_and_its_taken_name_is_tolerated(
    fakes, pristine, tmp_path, cli_invoke
):
    """IAM refuses to create the role twice: "If the AWSServiceRoleForEC2Spot IAM service-linked role already
    exists, you see an error message that resembles the following. An error occurred (InvalidInput) when calling
    the CreateServiceLinkedRole operation: Service role name AWSServiceRoleForEC2Spot has been taken in this
    account, please try a different suffix." (https://docs.aws.amazon.com/batch/latest/userguide/
    spot-fleet-roles-cli.html; the same text in aws/karpenter-provider-aws@v1.14.1:website/content/en/docs/
    getting-started/getting-started-with-karpenter/scripts/step06-add-spot-role.sh). The fake aws answers so;
    the deploy checks first and leaves an existing role alone, and that answer counts as no change."""
    command = SPOT_ROLE.split()
    created = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert created.returncode == 0, created.stderr
    assert (
        json.loads(created.stdout)["Role"]["Arn"]
        == f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/spot.amazonaws.com/{SPOT_ROLE_NAME}"
    )
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert (again.returncode, again.stderr.strip()) == (254, ROLE_TAKEN)
    lines: list[str] = []
    runner = Runner(tmp_path, dict(os.environ), lines.append)
    assert runner.change(command, tolerate=(steps.ROLE_TAKEN,)) is False
    assert runner.changes == [] and "    (it is there already: nothing changed)" in lines

    repo = copy_repo(pristine["default"], tmp_path)
    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == [c for c in fresh(head(repo)) if c != SPOT_ROLE]


# ---- item 11: StorageClass fields the API server never updates ---------------------------------------
def kubectl(repo: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The fake kubectl on the fake cluster, as a deploy's own kubeconfig reaches it."""
    config = tmp_path / "kubeconfig"
    config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": ARN,
                "contexts": [{"name": ARN, "context": {"cluster": ARN, "user": ARN}}],
                "clusters": [{"name": ARN, "cluster": {"server": "https://example.invalid"}}],
            }
        )
    )
    return subprocess.run(
        ["kubectl", *args],
        cwd=repo,
        env={**os.environ, "KUBECONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_item_11_a_storage_class_whose_immutable_fields_change_is_replaced(fakes, pristine, tmp_path, cli_invoke):
    """The API server refuses updates of a StorageClass's parameters, provisioner and reclaimPolicy ("Forbidden:
    updates to parameters are forbidden.") and volumeBindingMode ("field is immutable"): kubernetes/kubernetes@
    v1.35.0:pkg/apis/storage/validation/validation.go, ValidateStorageClassUpdate; "Administrators set the name and
    other parameters of a class when first creating StorageClass objects, and the objects cannot be updated once
    they are created" (https://kubernetes.io/docs/concepts/storage/storage-classes/). A PersistentVolume takes
    the class's settings when it is provisioned ("PersistentVolumes that are dynamically created by a
    StorageClass will have the reclaim policy specified in the reclaimPolicy field of the class", same page), so
    deleting and creating the class again leaves existing volumes as they are. The plan says so; the deploy
    deletes the class only while the live one differs, so a failure in between and a re-run converge."""
    repo = copy_repo(pristine["default"], tmp_path)
    first = head(repo)
    deploy(cli_invoke, repo)
    sha = commit(repo, "storage.storageClass.reclaimPolicy=Retain")

    plan = plan_module.build(repo, first, head_ref=sha)
    assert [(a.phase, " ".join(a.command)) for a in plan.actions] == [
        ("manifests", REPLACE_GP3),
        ("manifests", APPLY + "storageclass.yaml"),
    ]
    assert plan.actions[0].title == "replace StorageClass/gp3" and not plan.actions[0].disruptive
    assert plan.actions[0].detail.startswith(
        "reclaimPolicy of a StorageClass cannot be updated (the API server "
        "forbids it): the class is deleted and the apply below creates it"
    )
    assert "PersistentVolumes it already provisioned keep their volumes and settings" in plan.actions[0].detail

    # What the plan without the replacement ran: the API server refuses it (apply exits 1, diff 2).
    refused = 'The StorageClass "gp3" is invalid: reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.'
    applied = kubectl(
        repo, tmp_path, "apply", "--server-side", "--field-manager=eksgen", "-f", "rendered/manifests/storageclass.yaml"
    )
    assert (applied.returncode, applied.stderr.strip()) == (1, refused)
    diffed = kubectl(
        repo, tmp_path, "diff", "--server-side", "--field-manager=eksgen", "-f", "rendered/manifests/storageclass.yaml"
    )
    assert (diffed.returncode, diffed.stderr.strip()) == (2, refused)
    gp3 = "storageclasses.storage.k8s.io//gp3"
    assert fakes.kube()["objects"][gp3]["reclaimPolicy"] == "Delete"

    fakes.fail(APPLY + "storageclass.yaml")
    mark = fakes.mark()
    deploy(cli_invoke, repo, expect=1)
    assert fakes.changes(mark) == [REPLACE_GP3, APPLY + "storageclass.yaml"]
    assert gp3 not in fakes.kube()["objects"]

    mark = fakes.mark()
    result = deploy(cli_invoke, repo)
    assert fakes.changes(mark) == [APPLY + "storageclass.yaml", record(sha)]
    assert "StorageClass/gp3 does not exist: the apply creates it" in result.output
    live = fakes.kube()["objects"][gp3]
    assert live["reclaimPolicy"] == "Retain"
    assert live["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"

    mark = fakes.mark()
    deploy(cli_invoke, repo)
    assert fakes.changes(mark) == []


def test_item_11_a_tag_change_rewrites_the_storage_class_parameters_so_it_is_replaced(pristine, tmp_path):
    """Tags reach EBS volumes as the StorageClass's tagSpecification_N parameters, and parameters are immutable
    (kubernetes/kubernetes@v1.35.0:pkg/apis/storage/validation/validation.go, ValidateStorageClassUpdate:
    "updates to parameters are forbidden."): the plan of a tag change replaces the class before applying it."""
    repo = copy_repo(pristine["default"], tmp_path)
    first = head(repo)
    sha = commit(repo, "tags={team: platform}")
    plan = plan_module.build(repo, first, head_ref=sha)
    manifests = [(a.title, a.detail.split(" of a StorageClass")[0]) for a in plan.actions if a.phase == "manifests"]
    assert manifests == [
        ("apply rendered/manifests/ec2nodeclass.yaml", ""),
        ("replace StorageClass/gp3", "parameters"),
        ("apply rendered/manifests/storageclass.yaml", ""),
    ]
