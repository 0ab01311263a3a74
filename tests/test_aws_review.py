"""Items of the EKS review (issue "Correct on a real AWS account") that live in the plan, each
test named after its item. Items proven elsewhere by the real tools are listed at the end.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from generator import plan as plan_module
from generator.answers import Answers
from generator.scaffold import generate
from generator.values_edit import set_values
from tests import eksctl_oracle as oracle

eksctl_oracle = oracle.eksctl_oracle  # the real eksctl, offline (tests/eksctl_oracle.py)
GIT = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("review")
    return {
        "1.35": generate(Answers.from_raw("review", {"aws-account-id": "123456789012"}), base / "a"),
        "1.34": generate(
            Answers.from_raw("review", {"k8s-version": "1.34", "aws-account-id": "123456789012"}), base / "b"
        ),
    }


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    copy = tmp_path / "review"
    shutil.copytree(pristine["1.35"], copy)
    return copy


def _commit(repo: Path, *edits: str) -> None:
    set_values(repo, list(edits))
    subprocess.run(["git", "-C", str(repo), *GIT, "commit", "-qam", " ".join(edits)], check=True)


def test_item_9_addons_move_to_the_new_minor_after_a_control_plane_upgrade(pristine, tmp_path, eksctl_oracle):
    """`eksctl update addon` without a version logs "preserving existing version" and keeps it
    (eksctl@v0.230.0:pkg/actions/addon/update.go); `--version latest` takes the newest release
    compatible with the cluster's Kubernetes version (pkg/actions/addon/addon.go). So the plan
    updates each add-on by name to latest, and the real eksctl accepts each command."""
    repo = tmp_path / "review"
    shutil.copytree(pristine["1.34"], repo)
    set_values(repo, ["eksVersion=1.35"])
    plan = plan_module.build(repo, "main")
    updates = [a.command for a in plan.actions if a.phase == "addons"]
    assert [c[c.index("--name") + 1] for c in updates] == [
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
    ]
    for command in updates:
        assert command[:3] == ["eksctl", "update", "addon"] and command[command.index("--version") + 1] == "latest"
        assert "--config-file" not in command
        accepted, output = eksctl_oracle.accepts_flags(command[1:])
        assert accepted, output


def test_item_13_an_addon_added_later_keeps_its_pod_identity(repo, eksctl_oracle):
    """On the command line, `eksctl create addon --name` creates the add-on without a pod identity,
    and `--auto-apply-pod-identity-associations` creates eksctl's default association without the
    permissions boundary the deploy role requires (eksctl@v0.230.0:pkg/ctl/create/addon.go,
    pkg/actions/addon/create.go). So an add-on with an identity is created from the config file,
    where the chart writes its association and boundary; eksctl skips the add-ons that exist."""
    _commit(repo, "addons=[{name: vpc-cni}, {name: coredns}, {name: kube-proxy}, {name: eks-pod-identity-agent}]")
    set_values(
        repo,
        [
            "addons=[{name: vpc-cni}, {name: coredns}, {name: kube-proxy}, {name: eks-pod-identity-agent},"
            " {name: aws-ebs-csi-driver, useDefaultPodIdentityAssociations: true}]"
        ],
    )
    (install,) = [a.command for a in plan_module.build(repo, "main").actions if a.title.startswith("install add-on")]
    assert install == ["eksctl", "create", "addon", "--config-file", "rendered/eksctl/cluster.yaml"]
    config = yaml.safe_load((repo / "rendered/eksctl/cluster.yaml").read_text())
    (ebs,) = [a for a in config["addons"] if a["name"] == "aws-ebs-csi-driver"]
    (association,) = ebs["podIdentityAssociations"]
    assert association["serviceAccountName"] == "ebs-csi-controller-sa"
    assert association["permissionsBoundaryARN"].endswith(":policy/review-deploy-boundary")
    accepted, output = eksctl_oracle.accepts_flags([*install[1:4], str(repo / install[4])])
    assert accepted, output


def test_item_16_changing_the_environment_is_a_blocker_with_the_bootstrap_step(repo):
    """The deploy role's trust pins the `sub` claim's environment (configure-aws-credentials README,
    "Immutable subject claims": environment jobs carry `environment:<name>`); a renamed environment
    cannot assume the role until the bootstrap stack is updated."""
    set_values(repo, ["environment=prod-eu"])
    plan = plan_module.build(repo, "main")
    (blocker,) = plan.blockers
    assert (blocker.field, blocker.before, blocker.after) == ("environment", "production", "prod-eu")
    assert "eksgen bootstrap" in blocker.manual and plan.kind == "blocked"


def test_item_17_a_blocked_plan_fails_the_command_after_writing_the_plan(repo, cli_invoke, tmp_path):
    set_values(repo, ["vpc.cidr=10.20.0.0/16"])
    result = cli_invoke("plan", "--repo", repo, "--base", "main", "--output", tmp_path / "plan.md")
    assert result.exit_code == 1
    assert "the plan is blocked by 1 change(s)" in result.output
    assert "BLOCKED" in (tmp_path / "plan.md").read_text()


def test_item_17_a_stale_rendered_directory_is_refused_with_the_fix(repo, cli_invoke):
    values = repo / "values.yaml"
    values.write_text(values.read_text().replace("maxSize: 3", "maxSize: 4"))  # edited by hand, not rendered
    result = cli_invoke("plan", "--repo", repo, "--base", "main")
    assert result.exit_code == 1
    assert "rendered/ is out of date with values.yaml: rendered/eksctl/cluster.yaml (changed)" in result.output
    assert "run ./eks-accelerator.sh render" in result.output


# Proven with the real tools elsewhere:
# - item 1 (eksctl plans zones and subnets; no availabilityZones beside vpc.subnets) and item 14
#   (no hard-coded zone letters: eksctl picks zones per account): every variant of
#   tests/test_eksctl_judges.py::test_every_generated_cluster_config_passes_eksctl, whose completed
#   config shows the zones eksctl chose, and the "zones-and-subnets" mistake there.
# - item 4 (cluster names): the "name-with-underscore" and "name-with-a-dot" mistakes there, and
#   tests/test_new_bad_input.py for `eksgen new`.
# - item 5 (retention periods): the "retention-1096" and "retention-2192" mistakes there.


def test_item_15_the_toolchain_kubectl_follows_the_cluster_minor(pristine, tmp_path):
    """kubectl supports one minor version of skew either side of the API server (Kubernetes version
    skew policy, kubernetes.io/releases/version-skew-policy/#kubectl), and the deploy's preflight
    refuses more; so `eksgen set eksVersion=...` moves the image's kubectl pin with the cluster."""
    from generator import versions

    repo = tmp_path / "review"
    shutil.copytree(pristine["1.34"], repo)
    dockerfile = repo / "toolchain" / "Dockerfile"
    assert f"ARG KUBECTL_VERSION=v{versions.KUBERNETES['1.34'].kubectl}\n" in dockerfile.read_text()
    set_values(repo, ["eksVersion=1.35"])
    text = dockerfile.read_text()
    assert f"ARG KUBECTL_VERSION=v{versions.KUBERNETES['1.35'].kubectl}\n" in text
    assert text.count("ARG KUBECTL_VERSION=") == 1
    set_values(repo, ["karpenter.nodePool.limits.cpu=2000"])  # other edits leave the Dockerfile alone
    assert dockerfile.read_text() == text


@pytest.mark.parametrize("alias", ["bottlerocket@v1.30.0", "windows2022@latest", "al2@v20251120", "al2023@v1"])
def test_item_21_only_the_ami_family_the_block_devices_fit_is_allowed(repo, alias):
    """The chart maps the node volume to /dev/xvda, AL2023's root device; Bottlerocket keeps data on
    /dev/xvdb and Windows on /dev/sda1 (karpenter-provider-aws@v1.14.1: pkg/providers/amifamily/
    bottlerocket.go, windows.go), and AL2 AMIs ended on 2025-11-26 (awslabs/amazon-eks-ami, AL2
    end of support). So values.yaml accepts al2023@<release> or al2023@latest only."""
    from generator.errors import AnswerError

    with pytest.raises(AnswerError, match="karpenter.nodeClass.amiAlias"):
        set_values(repo, [f"karpenter.nodeClass.amiAlias={alias}"])
    set_values(repo, ["karpenter.nodeClass.amiAlias=al2023@v20260714"])


def test_item_19_the_karpenter_controller_has_requests_limits_and_room(tmp_path):
    """Karpenter's getting-started guide installs the controller with requests and limits of 1 CPU
    and 1Gi (karpenter.sh docs, getting-started-with-karpenter, step "Install Karpenter"); its chart
    runs two replicas on different nodes (karpenter-provider-aws@v1.14.1:charts/karpenter/values.yaml
    replicas: 2, topologySpreadConstraints). A t3.small (2 GiB) cannot hold a replica beside the
    system pods; the default system node type is a t3.medium (2 vCPU, 4 GiB, EC2 instance types)."""
    from generator.answers import DEFAULTS

    repo = generate(Answers.from_raw("sized", {}), tmp_path)
    (install,) = [a.command for a in plan_module.build(repo, None).actions if a.phase == "karpenter-controller"]
    pairs = [install[i + 1] for i, arg in enumerate(install) if arg == "--set-string"]
    for key in ("requests", "limits"):
        assert f"controller.resources.{key}.cpu=1" in pairs and f"controller.resources.{key}.memory=1Gi" in pairs
    assert DEFAULTS["instance-type"] == "t3.medium"
    assert 'instanceType: "t3.medium"' in (repo / "rendered/eksctl/cluster.yaml").read_text()


def test_an_empty_base_ref_is_refused_not_planned_from_nothing(repo, cli_invoke):
    result = cli_invoke("plan", "--repo", repo, "--base", "")
    assert result.exit_code == 2 and "'--base'" in result.output and "not an empty string" in result.output
