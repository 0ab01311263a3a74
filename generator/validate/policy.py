"""The `policy` check: eksgen's own rules over the rendered artifacts, each with an id.

A rule is turned off in values.yaml, with the reason reviewers read:

    policy:
      exceptions:
        - id: EKS007
          reason: this staging cluster tracks the newest AMI on purpose

An exception counts only for the ids the repository's values schema accepts there
(charts/eks-complete/values.schema.json, policy.exceptions[].id): the `values` check refuses any other
id, and a rule newer than the repository's chart cannot be turned off in it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ruamel.yaml import YAML

from generator import repofiles, versions
from generator.layout import CHART, VALUES
from generator.validate.context import Context, Document, Finding, dotted


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: str
    check: Callable[[Context], Iterator[tuple[Document, list, str]]]
    in_ci: str | None = None  # the severity in GitHub Actions, where a finding stops the merge

    def severity_now(self) -> str:
        return self.in_ci if self.in_ci and os.environ.get("GITHUB_ACTIONS") == "true" else self.severity


def run(ctx: Context) -> list[Finding]:
    exceptions = {
        e.get("id"): e.get("reason", "")
        for e in ((ctx.values.get("policy") or {}).get("exceptions") or [])
        if isinstance(e, dict)
    }
    allowed = exceptable(ctx)
    findings = []
    off = 0
    for rule in RULES:
        can_be_off = allowed is None or rule.id in allowed
        if rule.id in exceptions and can_be_off:
            ctx.note("policy", f"{rule.id} {rule.name} turned off: {exceptions[rule.id]}")
            off += 1
            continue
        if rule.id in exceptions:
            ctx.note(
                "policy",
                f"{rule.id} {rule.name} cannot be turned off: {SCHEMA} does not accept it in policy.exceptions",
            )
        how = "to allow it: policy.exceptions in values.yaml" if can_be_off else "it cannot be turned off"
        for document, path, message in rule.check(ctx):
            findings.append(
                document.finding(
                    path, f"[{rule.id} {rule.name}] {message} ({how})", severity=rule.severity_now(), rule=rule.id
                )
            )
    ctx.note("policy", f"{len(RULES) - off} of {len(RULES)} rules on")
    return findings


SCHEMA = CHART / "values.schema.json"


def exceptable(ctx: Context) -> set[str] | None:
    """The rule ids the repository's values schema accepts in policy.exceptions (None: it names no list)."""
    try:
        schema = json.loads((ctx.repo / SCHEMA).read_text(encoding="utf-8"))
        ids = schema["properties"]["policy"]["properties"]["exceptions"]["items"]["properties"]["id"]["enum"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(i) for i in ids} if isinstance(ids, list) else None


def _of_kind(ctx: Context, kind: str) -> Iterator[Document]:
    return (d for d in ctx.documents if d.kind == kind)


def _node_groups(ctx: Context) -> Iterator[tuple[Document, list, dict]]:
    for config in _of_kind(ctx, "ClusterConfig"):
        for field in ("managedNodeGroups", "nodeGroups"):
            for i, group in enumerate(config.data.get(field) or []):
                yield config, [field, i], group


def encrypted_ebs(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for config, path, group in _node_groups(ctx):
        if group.get("volumeEncrypted") is not True:
            yield config, path + ["volumeEncrypted"], f"node group {group.get('name')!r} has unencrypted root volumes"
    for node_class in _of_kind(ctx, "EC2NodeClass"):
        mappings = (node_class.data.get("spec") or {}).get("blockDeviceMappings")
        if not mappings:
            yield node_class, ["spec"], "no blockDeviceMappings: the root volume's encryption is left to the AMI"
        for i, mapping in enumerate(mappings or []):
            if (mapping.get("ebs") or {}).get("encrypted") is not True:
                yield (
                    node_class,
                    ["spec", "blockDeviceMappings", i, "ebs", "encrypted"],
                    (f"volume {mapping.get('deviceName')!r} is not encrypted"),
                )
    for storage_class in _of_kind(ctx, "StorageClass"):
        if (
            storage_class.data.get("provisioner") == "ebs.csi.aws.com"
            and (storage_class.data.get("parameters") or {}).get("encrypted") != "true"
        ):
            yield storage_class, ["parameters", "encrypted"], 'EBS volumes it provisions are unencrypted (want "true")'


def imdsv2(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for config, path, group in _node_groups(ctx):
        if group.get("disableIMDSv1") is not True:
            yield config, path + ["disableIMDSv1"], f"node group {group.get('name')!r} allows IMDSv1"
    for node_class in _of_kind(ctx, "EC2NodeClass"):
        options = (node_class.data.get("spec") or {}).get("metadataOptions") or {}
        # Karpenter's defaults are httpTokens: required and a hop limit of 1.
        if options.get("httpTokens", "required") != "required":
            yield node_class, ["spec", "metadataOptions", "httpTokens"], "IMDSv1 is allowed (want required)"
        if options.get("httpPutResponseHopLimit", 1) > 1:
            yield (
                node_class,
                ["spec", "metadataOptions", "httpPutResponseHopLimit"],
                ("a hop limit above 1 lets pods reach the node's instance metadata"),
            )


def private_workers(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for config, path, group in _node_groups(ctx):
        if group.get("privateNetworking") is not True:
            yield config, path + ["privateNetworking"], f"node group {group.get('name')!r} runs in public subnets"
    for node_class in _of_kind(ctx, "EC2NodeClass"):
        for i, term in enumerate((node_class.data.get("spec") or {}).get("subnetSelectorTerms") or []):
            if "id" not in term and "kubernetes.io/role/internal-elb" not in (term.get("tags") or {}):
                yield (
                    node_class,
                    ["spec", "subnetSelectorTerms", i],
                    ("may select public subnets: select by id or add the kubernetes.io/role/internal-elb tag"),
                )


def control_plane_logging(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for config in _of_kind(ctx, "ClusterConfig"):
        logging = (config.data.get("cloudWatch") or {}).get("clusterLogging") or {}
        if not logging.get("enableTypes"):
            where = ["cloudWatch", "clusterLogging"] + (["enableTypes"] if "enableTypes" in logging else [])
            yield config, where, "control-plane logging is off"


def nodepool_limits(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for pool in _of_kind(ctx, "NodePool"):
        limits = (pool.data.get("spec") or {}).get("limits") or {}
        missing = [r for r in ("cpu", "memory") if r not in limits]
        if missing:
            yield pool, ["spec", "limits"], f"no {' or '.join(missing)} limit: Karpenter could scale without bound"


def karpenter_compatible(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for config in _of_kind(ctx, "ClusterConfig"):
        k8s = str((config.data.get("metadata") or {}).get("version", ""))
        release = versions.KARPENTER.get(ctx.karpenter_version)
        if release is None:
            pinned = ", ".join(versions.KARPENTER)
            yield (
                config,
                ["metadata", "version"],
                (f"karpenter.version {ctx.karpenter_version!r} is not a pinned release ({pinned})"),
            )
        elif k8s and not release.supports(k8s):
            yield (
                config,
                ["metadata", "version"],
                (
                    f"Karpenter {release.version} supports Kubernetes {release.min_kubernetes} to "
                    f"{release.max_kubernetes}, not {k8s}"
                ),
            )


def ami_latest(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    for node_class in _of_kind(ctx, "EC2NodeClass"):
        for i, term in enumerate((node_class.data.get("spec") or {}).get("amiSelectorTerms") or []):
            if str(term.get("alias", "")).endswith("@latest"):
                yield (
                    node_class,
                    ["spec", "amiSelectorTerms", i, "alias"],
                    ("@latest replaces every node whenever AWS publishes an AMI; pin a version"),
                )


class _ValuesFile(Document):
    """values.yaml, for the rules about a value the rendered files cannot show (an empty one leaves things out)."""

    def finding(self, path: list | tuple, message: str, **kwargs) -> Finding:
        return Finding(self.file, self.line(path), f"{dotted(path)}: {message}", **kwargs)


def account_id(ctx: Context) -> Iterator[tuple[Document, list, str]]:
    if str(ctx.values.get("awsAccountId") or ""):
        return
    node = repofiles.load_file(ctx.repo / VALUES, ctx.repo, YAML(typ="rt"))
    yield (
        _ValuesFile(str(VALUES), 0, node),
        ["awsAccountId"],
        (
            "values.yaml names no AWS account, so rendered/eksctl/cluster.yaml has no pod identity for Karpenter's "
            "controller and no access entry for its node role (their IAM ARNs name the account), and deploys refuse "
            "to run; set it to the 12-digit id of the cluster's AWS account: eksgen set awsAccountId=123456789012"
        ),
    )


RULES = [
    Rule("EKS001", "encrypted-ebs", "error", encrypted_ebs),
    Rule("EKS002", "imdsv2-required", "error", imdsv2),
    Rule("EKS003", "private-worker-subnets", "error", private_workers),
    Rule("EKS004", "control-plane-logging", "error", control_plane_logging),
    Rule("EKS005", "nodepool-limits", "error", nodepool_limits),
    Rule("EKS006", "karpenter-kubernetes-compatible", "error", karpenter_compatible),
    Rule("EKS007", "ami-alias-latest", "warning", ami_latest),
    # A warning on a laptop (a new repository may not know its account yet), an error in a pull
    # request: merged, it would reach a deploy that refuses to run.
    Rule("EKS008", "aws-account-id-set", "warning", account_id, in_ci="error"),
]
