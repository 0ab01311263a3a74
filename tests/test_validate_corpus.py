"""The known-bad corpus: each broken repository is rejected by the right check, with a message
naming the file, the location and the reason; every variant `eksgen new` makes passes."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import render, versions
from generator.answers import Answers
from generator.scaffold import generate
from generator.validate import Context, run


@dataclass(frozen=True)
class Case:
    id: str
    check: str  # the check that must reject it
    file: str  # the file to edit
    old: str  # text replaced ...
    new: str  # ... by this
    message: str  # fragment of the finding's message
    rerender: bool = False  # the edit is to values.yaml and rendered/ is regenerated
    severity: str = "error"
    line_of: str | None = None  # the finding points at the line starting with this (default: the edit)
    repo: str = "default"  # the pristine repository edited (see `pristine`)


CASES = [
    Case(
        "misspelt-values-key",
        "values",
        "values.yaml",
        "  natGateway: Single",
        "  natGateways: Single",
        "vpc.natGateways: unknown key",
    ),
    Case(
        "bad-policy-exception",
        "values",
        "values.yaml",
        "  exceptions: []",
        "  exceptions: [{id: EKS999, reason: because}]",
        "'EKS999' is not one of",
    ),
    Case(
        "hand-edit-to-rendered",
        "render",
        "rendered/manifests/nodepool.yaml",
        'cpu: "1000"',
        'cpu: "5000"',
        "differs from what helm renders from values.yaml",
    ),
    Case(
        "misspelt-eksctl-field",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "    instanceType:",
        "    instanceTyp:",
        "managedNodeGroups[0].instanceTyp: unknown field",
    ),
    Case(
        "retention-outside-eksctls-list",
        "values",
        "values.yaml",
        "  retentionInDays: 90",
        "  retentionInDays: 100",
        "logging.retentionInDays: 100 is not one of [1, 3, 5",
    ),
    Case(
        "desired-above-max",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "desiredCapacity: 2",
        "desiredCapacity: 9",
        "desiredCapacity 9 is above maxSize 3 (values.yaml: managedNodeGroup.desiredCapacity)",
    ),
    Case(
        "min-above-max",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "minSize: 1",
        "minSize: 4",
        "minSize 4 is above maxSize 3 (values.yaml: managedNodeGroup.minSize)",
    ),
    Case(
        "unsupported-kubernetes-version",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        f'version: "{versions.DEFAULT_KUBERNETES}"',
        'version: "1.30"',
        f"Kubernetes 1.30 is not supported by eksctl v{versions.EKSCTL_VERSION}",
    ),
    Case(
        "cluster-name-with-underscore",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        'name: "corpus"',
        'name: "corpus_1"',
        "'corpus_1' must start with a letter and hold only letters, digits and '-' (values.yaml: clusterName)",
    ),
    Case(
        "duplicate-node-group",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "cloudWatch:",
        '  - name: "system"\n    instanceType: "t3.small"\ncloudWatch:',
        "node group name 'system' is used more than once",
    ),
    Case(
        "node-group-name-with-underscore",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        '  - name: "system"',
        '  - name: "system_pool"',
        "'system_pool' must start with a letter and hold only letters, digits and '-' "
        "(values.yaml: managedNodeGroup.name)",
    ),
    Case(
        "amazon-linux-2-on-new-kubernetes",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        'amiFamily: "AmazonLinux2023"',
        'amiFamily: "AmazonLinux2"',
        f"AmazonLinux2 is not supported for Kubernetes {versions.DEFAULT_KUBERNETES}; use AmazonLinux2023 "
        "(values.yaml: managedNodeGroup.amiFamily)",
    ),
    Case(
        "gp3-iops-below-baseline",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        '    volumeType: "gp3"',
        '    volumeType: "gp3"\n    volumeIOPS: 100',
        "gp3 volumeIOPS must be 3000 to 16000, not 100",
        line_of="    volumeIOPS",
    ),
    Case(
        "reserved-node-label",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "    privateNetworking: true",
        '    privateNetworking: true\n    labels:\n      kubernetes.io/role: "system"',
        "reserved label prefixes kubernetes.io/ and k8s.io/: kubernetes.io/role",
        line_of="    labels:",
    ),
    Case(
        "vpc-cidr-too-small-to-plan",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        'cidr: "10.10.0.0/16"',
        'cidr: "10.10.0.0/25"',
        "10.10.0.0/25 must be an IPv4 block from /16 to /24 for eksctl to plan subnets (values.yaml: vpc.cidr)",
    ),
    Case(
        "zones-beside-subnets",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        'vpc:\n  cidr: "10.10.0.0/16"',
        'availabilityZones: ["us-west-2a", "us-west-2b"]\nvpc:\n  cidr: "10.10.0.0/16"\n  subnets:\n'
        '    private:\n      us-west-2a: {cidr: "10.10.0.0/19"}',
        "vpc.subnets and availabilityZones cannot be set at the same time",
    ),
    Case(
        "single-availability-zone",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        'vpc:\n  cidr: "10.10.0.0/16"',
        'availabilityZones: ["us-west-2a"]\nvpc:\n  cidr: "10.10.0.0/16"',
        "needs at least 2 availability zones, not 1",
    ),
    Case(
        "bad-log-type",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        '["api","audit"',
        '["apiserver","audit"',
        "'apiserver' is not a control-plane log type",
    ),
    Case(
        "log-retention-outside-eksctls-list",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "logRetentionInDays: 90",
        "logRetentionInDays: 100",
        "100 is not a retention period eksctl accepts",
    ),
    Case(
        "duplicate-add-on",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        '  - name: "coredns"',
        '  - name: "coredns"\n  - name: "coredns"',
        "add-on 'coredns' is listed more than once (values.yaml: addons[1])",
    ),
    Case(
        "bare-cluster-without-vpc-cni",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        '  - name: "vpc-cni"\n',
        "",
        "with addonsConfig.disableDefaultAddons and no vpc-cni add-on, node groups cannot join",
        line_of="addons:",
    ),
    Case(
        "access-entries-with-config-map",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "authenticationMode: API",
        "authenticationMode: CONFIG_MAP",
        "access entries need authenticationMode API or API_AND_CONFIG_MAP",
        repo="with-account",
    ),
    Case(
        "pod-identity-without-service-account",
        "eksctl",
        "rendered/eksctl/cluster.yaml",
        "      serviceAccountName: karpenter\n",
        "",
        "serviceAccountName must be set",
        line_of="    - namespace:",
        repo="with-account",
    ),
    Case(
        "unencrypted-node-group",
        "policy",
        "rendered/eksctl/cluster.yaml",
        "volumeEncrypted: true",
        "volumeEncrypted: false",
        "[EKS001 encrypted-ebs] node group 'system' has unencrypted root volumes",
    ),
    Case(
        "unencrypted-karpenter-volume",
        "policy",
        "rendered/manifests/ec2nodeclass.yaml",
        "encrypted: true",
        "encrypted: false",
        "[EKS001 encrypted-ebs] volume '/dev/xvda' is not encrypted",
    ),
    Case(
        "unencrypted-storage-class",
        "policy",
        "rendered/manifests/storageclass.yaml",
        'encrypted: "true"',
        'encrypted: "false"',
        "[EKS001 encrypted-ebs] EBS volumes it provisions are unencrypted",
    ),
    Case(
        "imdsv1-on-node-group",
        "policy",
        "rendered/eksctl/cluster.yaml",
        "disableIMDSv1: true",
        "disableIMDSv1: false",
        "[EKS002 imdsv2-required] node group 'system' allows IMDSv1",
    ),
    Case(
        "imdsv1-on-karpenter-nodes",
        "policy",
        "rendered/manifests/ec2nodeclass.yaml",
        'httpTokens: "required"',
        'httpTokens: "optional"',
        "[EKS002 imdsv2-required] IMDSv1 is allowed",
    ),
    Case(
        "public-node-group",
        "policy",
        "rendered/eksctl/cluster.yaml",
        "privateNetworking: true",
        "privateNetworking: false",
        "[EKS003 private-worker-subnets] node group 'system' runs in public subnets",
    ),
    Case(
        "karpenter-may-pick-public-subnets",
        "policy",
        "rendered/manifests/ec2nodeclass.yaml",
        '        kubernetes.io/role/internal-elb: "1"\n',
        "",
        "[EKS003 private-worker-subnets] may select public",
    ),
    Case(
        "no-control-plane-logging",
        "policy",
        "rendered/eksctl/cluster.yaml",
        'enableTypes: ["api","audit","authenticator","controllerManager","scheduler"]',
        "enableTypes: []",
        "[EKS004 control-plane-logging] control-plane logging is off",
    ),
    Case(
        "nodepool-without-limits",
        "policy",
        "rendered/manifests/nodepool.yaml",
        '  limits:\n    cpu: "1000"\n    memory: "1000Gi"\n',
        "",
        "[EKS005 nodepool-limits] no cpu or memory limit",
    ),
    # values.yaml only offers Kubernetes minors every pinned Karpenter supports, so the mismatch is
    # made by hand in the rendered ClusterConfig.
    Case(
        "karpenter-too-old-for-kubernetes",
        "policy",
        "rendered/eksctl/cluster.yaml",
        f'version: "{versions.DEFAULT_KUBERNETES}"',
        'version: "1.37"',
        f"[EKS006 karpenter-kubernetes-compatible] Karpenter {versions.DEFAULT_KARPENTER} supports Kubernetes "
        f"{versions.KARPENTER[versions.DEFAULT_KARPENTER].min_kubernetes} to "
        f"{versions.KARPENTER[versions.DEFAULT_KARPENTER].max_kubernetes}, not 1.37",
    ),
    Case(
        "v1beta1-consolidation-policy",
        "kubeconform",
        "rendered/manifests/nodepool.yaml",
        'consolidationPolicy: "WhenEmptyOrUnderutilized"',
        'consolidationPolicy: "WhenUnderutilized"',
        "spec.disruption.consolidationPolicy: value must be one of",
    ),
    Case(
        "v1beta1-expire-after-in-disruption",
        "kubeconform",
        "rendered/manifests/nodepool.yaml",
        '    consolidateAfter: "1m"',
        '    consolidateAfter: "1m"\n    expireAfter: "720h"',
        "spec.disruption.expireAfter: additionalProperties 'expireAfter' not allowed",
        line_of="    expireAfter",
    ),
    Case(
        "v1beta1-node-class-ref-api-version",
        "kubeconform",
        "rendered/manifests/nodepool.yaml",
        "        group: karpenter.k8s.aws",
        "        apiVersion: karpenter.k8s.aws/v1beta1",
        "nodeClassRef.apiVersion: additionalProperties 'apiVersion' not allowed",
    ),
    Case(
        "v1beta1-instance-profile-on-nodepool",
        "kubeconform",
        "rendered/manifests/nodepool.yaml",
        '      expireAfter: "720h"',
        '      expireAfter: "720h"\n      instanceProfile: "NodeProfile"',
        "spec.template.spec.instanceProfile: additionalProperties 'instanceProfile' not allowed",
        line_of="      instanceProfile",
    ),
    Case(
        "role-and-instance-profile",
        "apiserver",
        "rendered/manifests/ec2nodeclass.yaml",
        '  role: "KarpenterNodeRole-corpus"',
        '  role: "KarpenterNodeRole-corpus"\n  instanceProfile: "profile"',
        "spec: Invalid value: must specify exactly one of ['role', 'instanceProfile']",
        line_of="spec:",
    ),
    Case(
        "ami-alias-beside-another-term",
        "apiserver",
        "rendered/manifests/ec2nodeclass.yaml",
        f'    - alias: "{versions.AMI_ALIAS}"',
        f'    - alias: "{versions.AMI_ALIAS}"\n    - id: "ami-0123456789abcdef0"',
        "spec.amiSelectorTerms: Invalid value: 'alias' is mutually exclusive",
        line_of="  amiSelectorTerms:",
    ),
    Case(
        "budget-schedule-without-duration",
        "apiserver",
        "rendered/manifests/nodepool.yaml",
        '      - nodes: "10%"',
        '      - nodes: "10%"\n        schedule: "0 9 * * mon-fri"',
        "spec.disruption.budgets: Invalid value: 'schedule' must be set with 'duration'",
        line_of="    budgets:",
    ),
    Case(
        "unpinned-action",
        "hygiene",
        ".github/workflows/validate.yml",
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
        "actions/checkout@v4",
        "zizmor unpinned-uses: unpinned action reference",
    ),
    Case(
        "ami-alias-latest",
        "policy",
        "values.yaml",
        f'amiAlias: "{versions.AMI_ALIAS}"',
        'amiAlias: "al2023@latest"',
        "[EKS007 ami-alias-latest]",
        rerender=True,
        severity="warning",
    ),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("corpus")
    return {
        "default": generate(Answers.from_raw("corpus", {}), base / "a"),
        # with an account id, the ClusterConfig has Karpenter's access entry and pod identity
        "with-account": generate(Answers.from_raw("corpus", {"aws-account-id": "000000000000"}), base / "b"),
    }


def _broken(pristine: dict[str, Path], case: Case, tmp_path: Path) -> Path:
    source = pristine[case.repo]
    repo = tmp_path / "repo"
    shutil.copytree(source, repo)
    path = repo / case.file
    text = path.read_text()
    assert case.old in text, f"{case.id}: {case.old!r} not in {case.file}"
    path.write_text(text.replace(case.old, case.new, 1))
    if case.rerender:
        render.write(repo, render.render(repo))
    return repo


def _line_of(repo: Path, case: Case) -> int | None:
    """The line the edit landed on (for edits that leave a line behind)."""
    lines = (repo / case.file).read_text().splitlines()
    if case.line_of:
        return next(i + 1 for i, line in enumerate(lines) if line.startswith(case.line_of))
    if not case.new.strip() or case.rerender or case.check == "render":
        return None
    first = case.new.strip().splitlines()[0].strip()
    return next(i + 1 for i, line in enumerate(lines) if first in line)


def test_the_corpus_has_at_least_twenty_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_known_bad_is_rejected_by_the_right_check(pristine, case, tmp_path, schemas):
    repo = _broken(pristine, case, tmp_path)
    (result,) = run(Context(repo, schemas=schemas), only=[case.check])
    matching = [f for f in result.findings if case.message in f.message]
    assert matching, f"{case.id}: {case.check} said {[f.message for f in result.findings]}"
    finding = matching[0]
    assert finding.severity == case.severity
    assert result.passed is (case.severity == "warning")
    rendered_file = case.file
    if case.rerender and "EKS007" in case.message:
        rendered_file = "rendered/manifests/ec2nodeclass.yaml"
    assert finding.file == rendered_file
    expected_line = _line_of(repo, case)
    if expected_line is not None:
        assert finding.line == expected_line, f"{case.id}: {finding}"
    else:
        assert finding.line is not None or case.check == "render"


VARIANTS = {
    **{
        f"{minor}-karpenter-{karpenter}": {"k8s-version": minor, "karpenter-version": karpenter}
        for minor in versions.KUBERNETES
        for karpenter in versions.karpenter_versions_for(minor)
    },
    "arm64-on-demand": {"architectures": ["arm64"], "capacity-types": ["on-demand"], "instance-type": "m7g.large"},
    "both-architectures-with-account": {"architectures": ["amd64", "arm64"], "aws-account-id": "000000000000"},
    "small-vpc-us-west-1-tags": {
        "region": "us-west-1",
        "vpc-cidr": "192.168.0.0/21",
        "tags": {"yes": "on", "note": "a: b = c @ next", "team": "0123"},
        "codeowners": ["@acme/platform"],
        "github-repo": "acme/x",
    },
}


@pytest.mark.parametrize("answers", list(VARIANTS.values()), ids=list(VARIANTS))
def test_every_variant_eksgen_new_makes_passes_every_check(answers, tmp_path, schemas):
    repo = generate(Answers.from_raw("variant", {"aws-account-id": "000000000000", **answers}), tmp_path)
    results = run(Context(repo, schemas=schemas))
    assert [r.name for r in results] == ["values", "render", "eksctl", "kubeconform", "apiserver", "policy", "hygiene"]
    problems = {r.name: [f.message for f in r.findings] for r in results if r.findings}
    assert problems == {}
