"""The real eksctl judges eksgen's output, both ways.

- Every ClusterConfig eksgen can generate passes `eksctl create cluster --dry-run` (a matrix over
  regions of the three partitions, every Kubernetes version, architectures, with and without an
  account id, and a fleet's variants).
- A corpus of ClusterConfig mistakes is rejected by eksctl and by `eksgen validate`'s eksctl
  check, whose message names the field and the values.yaml key it comes from.
- Every eksctl command a plan emits is accepted by eksctl's command line checks.

eksctl is v0.230.0 built by `make setup`; AWS is moto plus a stand-in for DescribeClusterVersions
(tests/eksctl_oracle.py). The rules are eksctl's, cited per case as eksctl@v0.230.0:pkg/<path>.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from generator import plan as plan_module
from generator import versions
from generator.answers import Answers
from generator.scaffold import generate
from generator.validate import Context, run
from generator.values_edit import set_values
from tests import eksctl_oracle as oracle

eksctl_oracle = oracle.eksctl_oracle  # the session fixture, registered for this module
pytestmark = pytest.mark.slow
CONFIG = "rendered/eksctl/cluster.yaml"

# ---- every ClusterConfig eksgen generates passes eksctl -------------------------------------------
MATRIX: dict[str, dict] = {
    **{
        f"k8s-{minor}-{region}": {"k8s-version": minor, "region": region, "aws-account-id": "123456789012"}
        for minor in versions.KUBERNETES
        for region in ("us-west-2", "eu-central-1", "ap-southeast-7", "us-gov-west-1", "cn-north-1")
    },
    "arm64-on-demand": {"architectures": ["arm64"], "capacity-types": ["on-demand"], "instance-type": "t4g.small"},
    "both-architectures": {"architectures": ["amd64", "arm64"], "aws-account-id": "000123456789"},
    "no-account-id": {},
    "small-vpc-tags": {"vpc-cidr": "172.20.0.0/21", "tags": {"team": "platform", "cost-center": "0042"}},
    # the variants of a fleet file: defaults plus per-cluster overrides, as `eksgen new --fleet` merges them
    "fleet-staging": {
        "region": "eu-west-1",
        "k8s-version": "1.34",
        "environment": "staging",
        "tags": {"env": "staging"},
        "aws-account-id": "111122223333",
    },
    "fleet-production": {
        "region": "eu-west-1",
        "environment": "production",
        "instance-type": "m7i.large",
        "tags": {"env": "production"},
        "aws-account-id": "111122223333",
    },
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("matrix")
    return {name: generate(Answers.from_raw("matrix", raw), base / name) for name, raw in MATRIX.items()}


def test_the_matrix_covers_every_version_and_partition():
    assert len(MATRIX) >= 25
    assert {raw.get("k8s-version") for raw in MATRIX.values()} >= set(versions.KUBERNETES)
    regions = {raw.get("region") for raw in MATRIX.values()}
    assert {"us-gov-west-1", "cn-north-1"} <= regions


@pytest.mark.parametrize("variant", list(MATRIX))
def test_every_generated_cluster_config_passes_eksctl(generated, eksctl_oracle, variant):
    repo = generated[variant]
    result = eksctl_oracle.dry_run(repo / CONFIG)
    assert result.ok, f"{variant}: eksctl refused {CONFIG}:\n{result.output}"
    completed = result.completed
    rendered = yaml.safe_load((repo / CONFIG).read_text())
    assert completed["metadata"]["version"] == rendered["metadata"]["version"]
    assert len(completed["availabilityZones"]) >= 2, "eksctl picked the zones"
    assert completed["autoModeConfig"]["enabled"] is False
    assert [a["name"] for a in completed["addons"]] == [a["name"] for a in rendered["addons"]]


# ---- mistakes: eksctl rejects them, and so does eksgen's eksctl check ---------------------------------
@dataclass(frozen=True)
class Mistake:
    id: str
    old: str  # text of the generated ClusterConfig, replaced once
    new: str
    eksctl_says: str  # part of eksctl's error
    eksgen_says: str  # part of the eksctl check's finding
    values_key: str | None = None  # the values.yaml key eksgen names; None: the chart sets the field
    source: str = ""  # where eksctl@v0.230.0 enforces it


NODE = '  - name: "system"\n'
MISTAKES = [
    Mistake(
        "name-with-underscore",
        'name: "judged"',
        'name: "judged_c"',
        "name must satisfy regular expression",
        "'judged_c' must start with a letter",
        "clusterName",
        "ctl/create/cluster.go",
    ),
    Mistake(
        "name-with-a-dot",
        'name: "judged"',
        'name: "judged.c"',
        "name must satisfy regular expression",
        "'judged.c' must start with a letter",
        "clusterName",
        "ctl/create/cluster.go",
    ),
    Mistake(
        "kubernetes-no-longer-supported",
        'version: "1.35"',
        'version: "1.30"',
        "1.30 is no longer supported",
        "Kubernetes 1.30 is not supported",
        "eksVersion",
        "eks/versions_manager.go",
    ),
    Mistake(
        "kubernetes-not-yet-offered",
        'version: "1.35"',
        'version: "1.37"',
        "invalid version",
        "Kubernetes 1.37 is not supported",
        "eksVersion",
        "eks/versions_manager.go",
    ),
    Mistake(
        "zones-and-subnets",
        "vpc:\n  cidr:",
        'availabilityZones: ["us-west-2a", "us-west-2b"]\nvpc:\n'
        "  subnets:\n    private:\n      a: {id: subnet-0123456789abcdef0}\n  cidr:",
        "vpc.subnets and availabilityZones cannot be set at the same time",
        "vpc.subnets and availabilityZones cannot be set at the same time",
        None,
        "ctl/cmdutils/configfile.go",
    ),
    Mistake(
        "one-zone",
        "vpc:\n  cidr:",
        'availabilityZones: ["us-west-2a"]\nvpc:\n  cidr:',
        "2 are required",
        "needs at least 2 availability zones",
        None,
        "apis/eksctl.io/v1alpha5/validation.go ValidateAvailabilityZones",
    ),
    Mistake(
        "retention-1096",
        "logRetentionInDays: 90",
        "logRetentionInDays: 1096",
        "invalid value 1096",
        "1096 is not a retention period",
        "logging.retentionInDays",
        "apis/eksctl.io/v1alpha5/cloudwatch.go",
    ),
    Mistake(
        "retention-2192",
        "logRetentionInDays: 90",
        "logRetentionInDays: 2192",
        "invalid value 2192",
        "2192 is not a retention period",
        "logging.retentionInDays",
        "apis/eksctl.io/v1alpha5/cloudwatch.go",
    ),
    Mistake(
        "retention-without-log-types",
        'enableTypes: ["api","audit","authenticator","controllerManager","scheduler"]',
        "enableTypes: []",
        "without enabling log types",
        "needs log types in enableTypes",
        "logging.retentionInDays",
        "apis/eksctl.io/v1alpha5/validation.go",
    ),
    Mistake(
        "unknown-log-type",
        '["api","audit"',
        '["apiserver","audit"',
        "apiserver",
        "'apiserver' is not a control-plane log type",
        "logging.enableTypes",
        "apis/eksctl.io/v1alpha5/validation.go",
    ),
    Mistake(
        "min-above-max",
        "minSize: 1",
        "minSize: 4",
        "",
        "minSize 4 is above maxSize 3",
        "managedNodeGroup.minSize",
        "apis/eksctl.io/v1alpha5/validation.go ValidateManagedNodeGroup",
    ),
    Mistake(
        "desired-above-max",
        "desiredCapacity: 2",
        "desiredCapacity: 9",
        "",
        "desiredCapacity 9 is above maxSize 3",
        "managedNodeGroup.desiredCapacity",
        "apis/eksctl.io/v1alpha5/validation.go ValidateManagedNodeGroup",
    ),
    Mistake(
        "desired-below-min",
        "minSize: 1",
        "minSize: 3\n    nodeRole: x",
        "",
        "desiredCapacity 2 is below minSize 3",
        "managedNodeGroup.desiredCapacity",
        "apis/eksctl.io/v1alpha5/validation.go ValidateManagedNodeGroup",
    ),
    Mistake(
        "node-group-without-name",
        NODE,
        '  - name: ""\n',
        "name must be set",
        "node group name must be set",
        "managedNodeGroup",
        "apis/eksctl.io/v1alpha5/validation.go ValidateClusterConfig",
    ),
    Mistake(
        "node-group-twice",
        "cloudWatch:",
        NODE + '    instanceType: "t3.small"\ncloudWatch:',
        "system",
        "node group name 'system' is used more than once",
        "managedNodeGroup.name",
        "apis/eksctl.io/v1alpha5/validation.go nameSet",
    ),
    Mistake(
        "instance-type-and-types",
        'instanceType: "t3.medium"',
        'instanceType: "t3.medium"\n    instanceTypes: ["m5.large"]',
        "instanceType",
        "instanceType cannot be set with instanceTypes",
        "managedNodeGroup.instanceType",
        "apis/eksctl.io/v1alpha5/validation.go ValidateManagedNodeGroup",
    ),
    Mistake(
        "kms-key-without-encryption",
        "volumeEncrypted: true",
        'volumeEncrypted: false\n    volumeKmsKeyID: "0123abcd-01ab-23cd-45ef-0123456789ab"',
        "volumeKmsKeyID",
        "volumeKmsKeyID needs volumeEncrypted: true",
        None,
        "apis/eksctl.io/v1alpha5/validation.go validateNodeGroupBase",
    ),
    Mistake(
        "iops-on-gp2",
        'volumeType: "gp3"',
        'volumeType: "gp2"\n    volumeIOPS: 3000',
        "volumeIOPS",
        "volumeIOPS is for gp3, io1 and io2 volumes, not gp2",
        None,
        "apis/eksctl.io/v1alpha5/validation.go validateVolumeOpts",
    ),
    Mistake(
        "gp3-iops-too-high",
        'volumeType: "gp3"',
        'volumeType: "gp3"\n    volumeIOPS: 20000',
        "volumeIOPS",
        "gp3 volumeIOPS must be 3000 to 16000, not 20000",
        None,
        "apis/eksctl.io/v1alpha5/validation.go validateVolumeOpts",
    ),
    Mistake(
        "throughput-on-io1",
        'volumeType: "gp3"',
        'volumeType: "io1"\n    volumeIOPS: 3000\n    volumeThroughput: 500',
        "volumeThroughput",
        "volumeThroughput is for gp3 volumes, not io1",
        None,
        "apis/eksctl.io/v1alpha5/validation.go validateVolumeOpts",
    ),
    Mistake(
        "reserved-label",
        "    propagateASGTags: true\n",
        "    propagateASGTags: true\n    labels: {kubernetes.io/role: system}\n",
        "reserved prefixes",
        "reserved label prefixes",
        None,
        "apis/eksctl.io/v1alpha5/validation.go validateNodeGroupLabels",
    ),
    Mistake(
        "amazon-linux-2-on-1.35",
        'amiFamily: "AmazonLinux2023"',
        'amiFamily: "AmazonLinux2"',
        "AmazonLinux2 is not supported",
        "AmazonLinux2 is not supported for Kubernetes 1.35",
        "managedNodeGroup.amiFamily",
        "apis/eksctl.io/v1alpha5/defaults.go",
    ),
    Mistake(
        "unknown-field",
        "    propagateASGTags: true\n",
        "    propagateASGTags: true\n    imdsV1: false\n",
        "unknown field",
        "unknown field",
        None,
        "apis/eksctl.io/v1alpha5 strict decoding",
    ),
    Mistake(
        "imds-as-text",
        "disableIMDSv1: true",
        'disableIMDSv1: "yes"',
        "disableIMDSv1",
        "is not of type 'boolean'",
        "managedNodeGroup.disableIMDSv1",
        "apis/eksctl.io/v1alpha5 types.go",
    ),
    Mistake(
        "add-on-without-name",
        '  - name: "coredns"\n',
        '  - name: ""\n',
        "name is required",
        "add-on name is required",
        "addons[1]",
        "apis/eksctl.io/v1alpha5/addon.go Addon.Validate",
    ),
    Mistake(
        "identity-on-pod-identity-agent",
        '  - name: "eks-pod-identity-agent"\n',
        '  - name: "eks-pod-identity-agent"\n    podIdentityAssociations:\n'
        '      - {namespace: x, serviceAccountName: agent, permissionPolicyARNs: ["arn:aws:iam::aws:policy/x"]}\n',
        "cannot set pod identity associations",
        "cannot set pod identity associations",
        "addons[3]",
        "apis/eksctl.io/v1alpha5/addon.go Addon.Validate",
    ),
    Mistake(
        "bare-cluster-without-vpc-cni",
        '  - name: "vpc-cni"\n    permissionsBoundary: "arn:aws:iam::123456789012:policy/judged-deploy-boundary"\n',
        "",
        "cluster without VPC CNI",
        "no vpc-cni add-on, node groups cannot join",
        "addons",
        "ctl/cmdutils/configfile.go validateBareCluster",
    ),
    Mistake(
        "access-entries-with-config-map",
        "authenticationMode: API",
        "authenticationMode: CONFIG_MAP",
        "to use access entries",
        "access entries need authenticationMode API",
        None,
        "apis/eksctl.io/v1alpha5/validation.go ValidateClusterConfig",
    ),
    Mistake(
        "access-entry-type",
        "type: EC2_LINUX",
        "type: LINUX",
        "type",
        "'LINUX' is not an access entry type",
        "awsAccountId",
        "apis/eksctl.io/v1alpha5/access_entry.go validateAccessEntries",
    ),
    Mistake(
        "identity-without-namespace",
        "    - namespace: kube-system\n      serviceAccountName: karpenter",
        '    - namespace: ""\n      serviceAccountName: karpenter',
        "namespace must be set",
        "namespace must be set",
        "awsAccountId",
        "apis/eksctl.io/v1alpha5/validation.go ValidateClusterConfig",
    ),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("judged", {"aws-account-id": "123456789012"}), tmp_path_factory.mktemp("mistakes"))


def test_the_corpus_has_at_least_25_mistakes():
    assert len(MISTAKES) >= 25 and len({m.id for m in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_a_mistake_is_rejected_by_eksctl_and_by_the_eksctl_check(pristine, eksctl_oracle, tmp_path, mistake):
    repo = tmp_path / "judged"
    shutil.copytree(pristine, repo)
    config = repo / CONFIG
    text = config.read_text()
    assert text.count(mistake.old) == 1, f"{mistake.old!r} is not once in {CONFIG}; did the chart change?"
    config.write_text(text.replace(mistake.old, mistake.new))

    said = eksctl_oracle.dry_run(config)
    assert not said.ok, f"{mistake.id}: eksctl accepted it ({mistake.source})"
    assert mistake.eksctl_says in said.output, said.output

    (result,) = run(Context(repo), only=["eksctl"])
    messages = [f.message for f in result.findings]
    matching = [m for m in messages if mistake.eksgen_says in m]
    assert matching, f"{mistake.id}: the eksctl check said {messages}"
    if mistake.values_key:
        assert f"(values.yaml: {mistake.values_key})" in matching[0], matching[0]
    else:  # a field the chart sets itself: no values.yaml key to blame
        assert "(values.yaml:" not in matching[0], matching[0]


# ---- every eksctl command a plan emits parses ---------------------------------------------------------
PLAN_EDITS = {
    "kubernetes-upgrade": ("1.34", ["eksVersion=1.35"]),
    "node-group-renamed": (None, ["managedNodeGroup.name=workers"]),
    "node-group-scaled": (None, ["managedNodeGroup.maxSize=5", "managedNodeGroup.desiredCapacity=3"]),
    "logging": (None, ["logging.enableTypes=[api, audit]", "logging.retentionInDays=30"]),
    "endpoints": (None, ["vpc.publicAccess=false"]),
    "account-added": ("no-account", ["awsAccountId=123456789012"]),
}


@pytest.fixture(scope="module")
def plan_bases(tmp_path_factory) -> dict[str | None, Path]:
    base = tmp_path_factory.mktemp("plan-bases")
    return {
        None: generate(Answers.from_raw("planned", {"aws-account-id": "123456789012"}), base / "default"),
        "1.34": generate(
            Answers.from_raw("planned", {"k8s-version": "1.34", "aws-account-id": "123456789012"}), base / "previous"
        ),
        "no-account": generate(Answers.from_raw("planned", {}), base / "no-account"),
    }


def _eksctl_commands(plan, repo: Path) -> list[list[str]]:
    """The plan's eksctl commands, with the config file as an absolute path (eksctl runs elsewhere)."""
    return [
        [str(repo / a) if a == CONFIG else a for a in action.command[1:]]
        for action in plan.actions
        if action.command and action.command[0] == "eksctl"
    ]


@pytest.mark.parametrize("scenario", [*PLAN_EDITS, "from-nothing"])
def test_every_eksctl_command_of_a_plan_is_accepted_by_eksctl(plan_bases, eksctl_oracle, tmp_path, scenario):
    source, edits = PLAN_EDITS.get(scenario, (None, []))
    repo = tmp_path / "planned"
    shutil.copytree(plan_bases[source], repo)
    if edits:
        set_values(repo, edits)
    plan = plan_module.build(repo, None if scenario == "from-nothing" else "main")
    commands = _eksctl_commands(plan, repo)
    assert commands, f"{scenario}: the plan has no eksctl command"
    for args in commands:
        accepted, output = eksctl_oracle.accepts_flags(args)
        assert accepted, f"{scenario}: eksctl {' '.join(args)}\n{output}"
