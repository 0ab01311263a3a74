"""`eksgen new` end to end with real helm and git, for three configurations."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from generator import versions
from tests.helpers import (
    GENERATED_FILES,
    assert_golden,
    crd_validator,
    eksctl_validator,
    errors,
    load_all_yaml,
    load_yaml,
    tree,
)

pytestmark = pytest.mark.e2e

CONFIGURATIONS = {
    "defaults": [],
    "on-demand-arm64": [
        "--capacity-types",
        "on-demand",
        "--architectures",
        "arm64",
        "--instance-type",
        "t4g.small",
        "--aws-account-id",
        "123456789012",
    ],
    "custom-region-version-tags": [
        "--region",
        "eu-central-1",
        "--k8s-version",
        "1.33",
        "--vpc-cidr",
        "172.20.0.0/18",
        "--tag",
        "team=platform",
        "--tag",
        "cost-center=0123",
        "--tag",
        "note=a: b = c",
        "--github-repo",
        "acme/eks-prod",
        "--codeowners",
        "@acme/platform",
        "--environment",
        "prod-eu",
        "--aws-account-id",
        "000123456789",
    ],
}


@pytest.fixture(scope="module", params=list(CONFIGURATIONS))
def generated(request, tmp_path_factory) -> tuple[str, Path]:
    from click.testing import CliRunner

    from generator.cli import cli

    out = tmp_path_factory.mktemp(request.param)
    with pytest.MonkeyPatch.context() as patch:  # what `new` says about support depends on the day
        patch.setattr(versions, "today", lambda: date(2026, 12, 2))
        result = CliRunner().invoke(
            cli,
            ["new", "my-cluster", "--output-dir", str(out), "--no-input", *CONFIGURATIONS[request.param]],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    PRINTED[request.param] = result.output.replace(str(out), "<OUTPUT_DIR>")
    return request.param, out / "my-cluster"


PRINTED: dict[str, str] = {}  # what `eksgen new` printed, per configuration


def test_what_new_prints_is_the_golden_snapshot(generated):
    """The first steps and notes `eksgen new` prints, on 2026-12-02 (tests/golden/new/)."""
    name, _ = generated
    assert_golden(Path(__file__).parent / "golden" / "new" / f"{name}.txt", PRINTED[name])


def test_tree_is_complete_and_nothing_else(generated):
    _, repo = generated
    assert tree(repo) == GENERATED_FILES
    assert os.access(repo / "eks-accelerator.sh", os.X_OK)
    leftovers = [p.name for p in repo.parent.iterdir() if p.name != "my-cluster"]
    assert leftovers == [], "staging directories must not be left behind"


def test_is_a_git_repository_with_one_commit_on_main(generated):
    _, repo = generated
    git = ["git", "-C", str(repo)]
    assert subprocess.run([*git, "branch", "--show-current"], capture_output=True, text=True).stdout.strip() == "main"
    log = subprocess.run([*git, "log", "--format=%s"], capture_output=True, text=True).stdout.splitlines()
    assert len(log) == 1
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""


def test_every_yaml_file_parses(generated):
    _, repo = generated
    yaml_files = [p for p in repo.rglob("*") if p.suffix in (".yaml", ".yml") and "templates" not in p.parts]
    assert len(yaml_files) >= 7
    for path in yaml_files:
        assert load_all_yaml(path), path


def test_helm_lint_passes(generated):
    _, repo = generated
    result = subprocess.run(
        ["helm", "lint", "charts/eks-complete", "--values", "values.yaml", "--strict"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_render_script_reproduces_rendered_byte_for_byte(generated, tmp_path):
    _, repo = generated
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)
    before = {p: p.read_bytes() for p in (copy / "rendered").rglob("*") if p.is_file()}
    shutil.rmtree(copy / "rendered")
    result = subprocess.run(
        ["./eks-accelerator.sh", "render"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={**os.environ, "EKS_ACCELERATOR_MODE": "native"},
    )
    assert result.returncode == 0, result.stderr
    after = {p: p.read_bytes() for p in (copy / "rendered").rglob("*") if p.is_file()}
    assert after == before
    status = subprocess.run(["git", "status", "--porcelain"], cwd=copy, capture_output=True, text=True)
    assert status.stdout == ""


def test_validate_script_passes_every_check(generated, schemas):
    _, repo = generated
    result = subprocess.run(
        ["./eks-accelerator.sh", "validate"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "EKS_ACCELERATOR_MODE": "native", "EKSGEN_SCHEMAS": str(schemas)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for check in ("values", "render", "eksctl", "kubeconform", "apiserver", "policy", "hygiene"):
        assert f"PASS  {check}" in result.stdout


def test_cluster_config_matches_the_eksctl_schema_and_the_answers(generated, schemas):
    name, repo = generated
    config = load_yaml(repo / "rendered/eksctl/cluster.yaml")
    assert errors(eksctl_validator(schemas), config) == []
    assert config["apiVersion"] == "eksctl.io/v1alpha5"
    assert config["metadata"]["tags"]["karpenter.sh/discovery"] == "my-cluster"
    assert config["iam"]["withOIDC"] is True
    assert config["vpc"]["nat"]["gateway"] == "Single"
    assert config["vpc"]["clusterEndpoints"] == {"publicAccess": True, "privateAccess": True}
    # eksctl picks the zones and plans the subnets from vpc.cidr.
    assert "availabilityZones" not in config and "subnets" not in config["vpc"]
    assert config["autoModeConfig"] == {"enabled": False}, "Karpenter manages the nodes, not Auto Mode"
    assert config["addonsConfig"] == {"disableDefaultAddons": True}, "only the add-ons listed below"
    (group,) = config["managedNodeGroups"]
    assert group["privateNetworking"] is True
    assert group["volumeEncrypted"] is True and group["volumeType"] == "gp3"
    assert group["disableIMDSv1"] is True
    assert config["cloudWatch"]["clusterLogging"]["logRetentionInDays"] == 90
    assert [a["name"] for a in config["addons"]] == [
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
    ]
    if name == "defaults":
        assert config["metadata"]["version"] == versions.DEFAULT_KUBERNETES
        assert config["metadata"]["region"] == "us-west-2"
        assert config["vpc"]["cidr"] == "10.10.0.0/16"
        assert group["instanceType"] == "t3.medium"
        assert "accessEntries" not in config["accessConfig"]  # no account id given
    if name == "on-demand-arm64":
        (entry,) = config["accessConfig"]["accessEntries"]
        assert entry == {
            "principalARN": "arn:aws:iam::123456789012:role/KarpenterNodeRole-my-cluster",
            "type": "EC2_LINUX",
        }
        (identity,) = config["iam"]["podIdentityAssociations"]
        assert identity["serviceAccountName"] == "karpenter" and identity["namespace"] == "kube-system"
        assert len(identity["permissionPolicyARNs"]) == 6
    if name == "custom-region-version-tags":
        assert config["metadata"]["version"] == "1.33"
        assert config["metadata"]["region"] == "eu-central-1"
        assert config["vpc"]["cidr"] == "172.20.0.0/18"
        assert config["metadata"]["tags"] == {
            "karpenter.sh/discovery": "my-cluster",
            "team": "platform",
            "cost-center": "0123",
            "note": "a: b = c",
        }
        assert group["tags"] == {"team": "platform", "cost-center": "0123", "note": "a: b = c"}
        assert config["iam"]["podIdentityAssociations"][0]["permissionPolicyARNs"][0] == (
            "arn:aws:iam::000123456789:policy/KarpenterControllerNodeLifecyclePolicy-my-cluster"
        )


def test_karpenter_objects_are_valid_v1_for_the_pinned_crds(generated, schemas):
    name, repo = generated
    version = load_yaml(repo / "values.yaml")["karpenter"]["version"]
    crds = schemas / "karpenter" / f"v{version}" / "crds"
    pool = load_yaml(repo / "rendered/manifests/nodepool.yaml")
    node_class = load_yaml(repo / "rendered/manifests/ec2nodeclass.yaml")
    assert errors(crd_validator(crds / "karpenter.sh_nodepools.yaml"), pool) == []
    assert errors(crd_validator(crds / "karpenter.k8s.aws_ec2nodeclasses.yaml"), node_class) == []

    spec = pool["spec"]
    assert pool["apiVersion"] == "karpenter.sh/v1"
    assert spec["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": node_class["metadata"]["name"],
    }
    assert spec["template"]["spec"]["expireAfter"] == "720h"
    assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert spec["disruption"]["budgets"] and spec["disruption"]["consolidateAfter"]
    assert set(spec["limits"]) == {"cpu", "memory"}
    requirements = {r["key"]: r for r in spec["template"]["spec"]["requirements"]}
    assert {
        "karpenter.sh/capacity-type",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "karpenter.k8s.aws/instance-category",
        "karpenter.k8s.aws/instance-generation",
    } <= set(requirements)
    if name == "on-demand-arm64":
        assert requirements["karpenter.sh/capacity-type"]["values"] == ["on-demand"]
        assert requirements["kubernetes.io/arch"]["values"] == ["arm64"]
    else:
        assert requirements["karpenter.sh/capacity-type"]["values"] == ["spot", "on-demand"]

    node = node_class["spec"]
    assert node_class["apiVersion"] == "karpenter.k8s.aws/v1"
    assert node["role"] == "KarpenterNodeRole-my-cluster"
    (term,) = node["amiSelectorTerms"]
    assert term["alias"].startswith("al2023@v") and not term["alias"].endswith("@latest")
    assert term["alias"] == versions.KUBERNETES[load_yaml(repo / "values.yaml")["eksVersion"]].ami_alias
    assert node["subnetSelectorTerms"][0]["tags"]["karpenter.sh/discovery"] == "my-cluster"
    assert node["securityGroupSelectorTerms"][0]["tags"] == {"karpenter.sh/discovery": "my-cluster"}
    assert node["metadataOptions"]["httpTokens"] == "required"
    assert node["metadataOptions"]["httpPutResponseHopLimit"] == 1
    (device,) = node["blockDeviceMappings"]
    assert device["ebs"]["encrypted"] is True and device["ebs"]["volumeType"] == "gp3"


def test_storage_class_is_the_encrypted_default_gp3(generated):
    _, repo = generated
    sc = load_yaml(repo / "rendered/manifests/storageclass.yaml")
    assert sc["metadata"]["name"] == "gp3"
    assert sc["provisioner"] == "ebs.csi.aws.com"
    assert sc["parameters"]["encrypted"] == "true" and sc["parameters"]["type"] == "gp3"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"


def test_workflows_script_and_dockerfile_are_lint_clean(generated):
    _, repo = generated
    for command in (
        ["actionlint", "-no-color"],
        ["zizmor", "--offline", "--no-progress", ".github/workflows"],
        ["shellcheck", "eks-accelerator.sh"],
        ["hadolint", "toolchain/Dockerfile"],
    ):
        result = subprocess.run(command, cwd=repo, capture_output=True, text=True)
        assert result.returncode == 0, f"{command[0]}: {result.stdout}{result.stderr}"


def test_workflow_pins_actions_by_sha_with_least_privilege(generated):
    _, repo = generated
    workflow = load_yaml(repo / ".github/workflows/validate.yml")
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["validate"]["permissions"] == {"contents": "read"}
    # the plan job assumes the read-only plan role with OIDC, to read the deployed commit
    assert jobs["plan"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}, "only the comment job may write"
    assert not any("run" in step for step in jobs["comment"]["steps"]), "the writing job runs no repo code"
    assert "github.repository" in jobs["comment"]["if"], "no comment job on forks' pull requests"
    assert set(workflow["on"]) == {"pull_request"}, "never pull_request_target"
    for job in jobs.values():
        for step in job["steps"]:
            if "uses" in step:
                ref = step["uses"].split("@", 1)[1]
                assert len(ref) == 40 and all(c in "0123456789abcdef" for c in ref), step["uses"]
    text = (repo / ".github/workflows/validate.yml").read_text()
    assert "./eks-accelerator.sh validate" in text and "./eks-accelerator.sh plan --base" in text


def test_toolchain_pins_versions_and_checks_every_download(generated):
    _, repo = generated
    dockerfile = (repo / "toolchain/Dockerfile").read_text()
    k8s = load_yaml(repo / "values.yaml")["eksVersion"]
    assert dockerfile.startswith("# ") and "FROM alpine:3.21\n" in dockerfile
    kubectl = versions.KUBERNETES[k8s].kubectl
    assert kubectl.startswith(f"{k8s}.")
    assert f"ARG KUBECTL_VERSION=v{kubectl}\n" in dockerfile
    assert "/bin/linux/amd64/kubectl.sha256" in dockerfile
    assert f"ARG EKSCTL_VERSION=v{versions.EKSCTL_VERSION}" in dockerfile and "ARG HELM_VERSION=v3.16.4" in dockerfile
    # kubectl (binary + its .sha256) and eksctl (archive + checksum list) take two downloads each.
    assert dockerfile.count("curl -fsSL") == dockerfile.count("sha256sum -c") + 2
    assert "\nUSER 10001\n" in dockerfile


def test_eksgen_yaml_records_answers_and_version(generated):
    name, repo = generated
    import generator

    recorded = load_yaml(repo / ".eksgen.yaml")
    assert recorded["generator"]["version"] == generator.__version__
    assert recorded["name"] == "my-cluster"
    if name == "custom-region-version-tags":
        assert recorded["answers"]["tags"]["cost-center"] == "0123"
        assert recorded["answers"]["github-repo"] == "acme/eks-prod"
        assert "* @acme/platform" in (repo / ".github/CODEOWNERS").read_text()


def test_unknown_command_of_the_entrypoint_prints_usage_and_exits_2(generated):
    _, repo = generated
    result = subprocess.run(["./eks-accelerator.sh", "deploy-everything"], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 2
    assert "Usage: ./eks-accelerator.sh" in result.stderr
