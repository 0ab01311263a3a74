"""ClusterConfig changes -> the eksctl / aws commands that apply them, or why they cannot be.

eksctl does not reconcile a changed ClusterConfig: each kind of change has its own command, and
some (the VPC, the region, a node group's launch template) cannot change in place at all.
"""

from __future__ import annotations

import json
from typing import Any

from generator import versions
from generator.layout import CLUSTER_CONFIG
from generator.plan.model import Action, Blocker

CFG = ["--config-file", CLUSTER_CONFIG]

# Fields eksctl fixes when it creates the cluster, with the way out.
_FIXED = {
    "metadata.name": (
        "the name identifies the cluster; renaming means a new cluster",
        "create a new cluster repository with the new name and migrate workloads",
    ),
    "metadata.region": (
        "a cluster cannot move between regions",
        "create a new cluster repository in the new region and migrate workloads",
    ),
    "vpc.cidr": (
        "eksctl creates the VPC once; its CIDR cannot change under a running cluster",
        "create a new cluster with the new CIDR and migrate, or add a secondary CIDR by hand",
    ),
    "vpc.subnets": (
        "eksctl creates the subnets once and does not move them",
        "create a new cluster with the new subnets and migrate workloads",
    ),
    "availabilityZones": (
        "the cluster's subnets live in the zones chosen at creation",
        "create a new cluster in the new zones and migrate workloads",
    ),
    "vpc.nat": (
        "eksctl creates the NAT gateways with the VPC stack and has no command to change them",
        "change the NAT gateways in the eksctl-<cluster>-cluster CloudFormation stack by hand",
    ),
}
# Fields of a managed node group that can change without replacing it.
_SCALING = ("minSize", "desiredCapacity", "maxSize")
_AUTH_ORDER = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]


def changes(base: dict, head: dict) -> tuple[list[Action], list[Blocker]]:
    if not head:
        return [], [
            Blocker(
                "ClusterConfig",
                "present",
                "absent",
                "rendered/ no longer has a ClusterConfig",
                "delete clusters with ./eks-accelerator.sh destroy, not with a pull request",
            )
        ]
    name, region = _meta(head, "name"), _meta(head, "region")
    if not base:
        return [
            Action(
                "control-plane",
                f"create cluster {name}",
                ["eksctl", "create", "cluster", *CFG],
                detail="the cluster does not exist at the base: eksctl creates all of it",
            )
        ], []
    where = ["--cluster", name, "--region", region]
    actions: list[Action] = []
    blockers: list[Blocker] = []
    handled = {"apiVersion", "kind"}

    for path, (reason, manual) in _FIXED.items():
        before, after = _get(base, path), _get(head, path)
        handled.add(path)
        if before != after:
            blockers.append(Blocker(path, before, after, reason, manual))

    handled.add("metadata.version")
    actions += _version(base, head, where, blockers)
    handled.add("managedNodeGroups")
    actions += _node_groups(base, head, where, blockers)
    handled.add("addons")
    actions += _addons(base, head, where)
    handled |= {
        "iam.withOIDC",
        "iam.podIdentityAssociations",
        "accessConfig.accessEntries",
        "accessConfig.authenticationMode",
    }
    actions += _identity(base, head, where, blockers)
    handled |= {"vpc.clusterEndpoints", "vpc.publicAccessCIDRs"}
    if (_get(base, "vpc.clusterEndpoints"), _get(base, "vpc.publicAccessCIDRs")) != (
        _get(head, "vpc.clusterEndpoints"),
        _get(head, "vpc.publicAccessCIDRs"),
    ):
        actions.append(
            Action(
                "endpoints",
                "update the API endpoint access",
                ["eksctl", "utils", "update-cluster-vpc-config", *CFG, "--approve"],
            )
        )
    handled |= {"cloudWatch.clusterLogging.enableTypes", "cloudWatch.clusterLogging.logRetentionInDays"}
    actions += _logging(base, head, where, name, region)
    handled.add("metadata.tags")
    actions += _tags(base, head, name, region)

    for path in _changed_paths(base, head):
        if not any(path == h or path.startswith(h + ".") or h.startswith(path + ".") for h in handled):
            blockers.append(
                Blocker(
                    path,
                    _get(base, path),
                    _get(head, path),
                    "eksgen does not know an eksctl command that applies this change",
                    "apply it by hand with eksctl or the AWS console, then merge",
                )
            )
    return actions, blockers


def _version(base: dict, head: dict, where: list[str], blockers: list[Blocker]) -> list[Action]:
    before, after = str(_meta(base, "version")), str(_meta(head, "version"))
    if before == after:
        return []
    b, a = versions.minor_key(before), versions.minor_key(after)
    if a < b:
        blockers.append(
            Blocker(
                "metadata.version",
                before,
                after,
                "EKS cannot downgrade Kubernetes",
                "keep the current version; a downgrade means a new cluster",
            )
        )
        return []
    if a[1] - b[1] > 1 or a[0] != b[0]:
        step = f"{b[0]}.{b[1] + 1}"
        blockers.append(
            Blocker(
                "metadata.version",
                before,
                after,
                "EKS upgrades the control plane one minor version at a time",
                f"upgrade to {step} first (eksgen set eksVersion={step}), merge, then go on",
            )
        )
        return []
    actions = [
        Action(
            "control-plane",
            f"upgrade the control plane from {before} to {after}",
            ["eksctl", "upgrade", "cluster", *CFG, "--approve"],
            detail="EKS upgrades the API servers in place; workloads keep running",
        ),
    ]
    # `eksctl update addon` without a version keeps the installed one ("preserving existing
    # version", pkg/actions/addon/update.go); "latest" is the newest release for the new minor.
    for addon in head.get("addons") or []:
        version = str(addon.get("version") or "latest")
        actions.append(
            Action(
                "addons",
                f"update add-on {addon['name']} to {version} for Kubernetes {after}",
                ["eksctl", "update", "addon", *where, "--name", addon["name"], "--version", version, "--wait"],
            )
        )
    for group in head.get("managedNodeGroups") or []:
        if group.get("name") in _groups(base):
            actions.append(
                Action(
                    "node-groups",
                    f"upgrade node group {group['name']} to Kubernetes {after}",
                    ["eksctl", "upgrade", "nodegroup", *where, "--name", group["name"], "--kubernetes-version", after],
                    disruptive=True,
                    detail="EKS replaces the group's nodes one by one, draining each",
                )
            )
    return actions


def _node_groups(base: dict, head: dict, where: list[str], blockers: list[Blocker]) -> list[Action]:
    before, after = _groups(base), _groups(head)
    actions = []
    for name, group in after.items():
        if name not in before:
            actions.append(
                Action(
                    "node-groups",
                    f"create node group {name}",
                    ["eksctl", "create", "nodegroup", *CFG, "--include", name],
                )
            )
            continue
        old = before[name]
        # Tags of an existing group stay as they are (see the tag action); they block nothing.
        fixed = sorted(k for k in set(old) | set(group) if k not in (*_SCALING, "tags") and old.get(k) != group.get(k))
        for key in fixed:
            blockers.append(
                Blocker(
                    f"managedNodeGroups[{name}].{key}",
                    old.get(key),
                    group.get(key),
                    "eksctl fixes a managed node group's launch template (instance type, AMI, volumes, IMDS, "
                    "networking, tags) when it creates the group",
                    "give the node group a new name in values.yaml: the plan then creates the new group and "
                    "drains and deletes the old one",
                )
            )
        if any(old.get(k) != group.get(k) for k in _SCALING):
            actions.append(
                Action(
                    "node-groups",
                    f"scale node group {name}",
                    [
                        "eksctl",
                        "scale",
                        "nodegroup",
                        *where,
                        "--name",
                        name,
                        "--nodes",
                        str(group.get("desiredCapacity", "")),
                        "--nodes-min",
                        str(group.get("minSize", "")),
                        "--nodes-max",
                        str(group.get("maxSize", "")),
                    ],
                    detail=_sizes(old) + " -> " + _sizes(group),
                )
            )
    for name in before:
        if name not in after:
            actions.append(
                Action(
                    "node-group-removals",
                    f"drain and delete node group {name}",
                    # no --approve: eksctl refuses it without a config file (ctl/delete/nodegroup.go)
                    ["eksctl", "delete", "nodegroup", *where, "--name", name, "--drain=true", "--wait"],
                    disruptive=True,
                    detail="pods are evicted (respecting PodDisruptionBudgets) and rescheduled on the remaining nodes",
                )
            )
    return actions


def _addons(base: dict, head: dict, where: list[str]) -> list[Action]:
    before = {a.get("name"): a for a in base.get("addons") or []}
    after = {a.get("name"): a for a in head.get("addons") or []}
    actions = []
    for name, addon in after.items():
        version = ["--version", str(addon["version"])] if addon.get("version") else []
        if name not in before:
            # An add-on with a pod identity is created from the config file, which carries its
            # association and the roles' permissions boundary; `--name` alone would create it without
            # one, and `--auto-apply-pod-identity-associations` without the boundary. eksctl skips the
            # add-ons the cluster has (pkg/actions/addon/create.go).
            identity = addon.get("podIdentityAssociations") or addon.get("useDefaultPodIdentityAssociations")
            command = (
                ["eksctl", "create", "addon", *CFG]
                if identity
                else ["eksctl", "create", "addon", *where, "--name", name, *version]
            )
            actions.append(Action("addons", f"install add-on {name}", command))
        elif before[name] != addon:
            actions.append(
                Action(
                    "addons",
                    f"update add-on {name}",
                    ["eksctl", "update", "addon", *CFG],
                    detail=f"{_brief(before[name])} -> {_brief(addon)}",
                )
            )
    for name in before:
        if name not in after:
            actions.append(
                Action(
                    "addons",
                    f"remove add-on {name}",
                    ["eksctl", "delete", "addon", *where, "--name", name],
                    disruptive=True,
                )
            )
    return actions


def _identity(base: dict, head: dict, where: list[str], blockers: list[Blocker]) -> list[Action]:
    actions = []
    if _get(base, "iam.withOIDC") != _get(head, "iam.withOIDC"):
        if _get(head, "iam.withOIDC"):
            actions.append(
                Action(
                    "identity-and-access",
                    "associate the IAM OIDC provider",
                    ["eksctl", "utils", "associate-iam-oidc-provider", *CFG, "--approve"],
                )
            )
        else:
            blockers.append(
                Blocker(
                    "iam.withOIDC",
                    True,
                    _get(head, "iam.withOIDC"),
                    "eksctl cannot remove the cluster's OIDC provider",
                    "remove the IAM OIDC provider by hand once nothing uses it",
                )
            )
    before_mode = _get(base, "accessConfig.authenticationMode") or "API_AND_CONFIG_MAP"
    after_mode = _get(head, "accessConfig.authenticationMode") or "API_AND_CONFIG_MAP"
    if before_mode != after_mode:
        if _AUTH_ORDER.index(after_mode) < _AUTH_ORDER.index(before_mode):
            blockers.append(
                Blocker(
                    "accessConfig.authenticationMode",
                    before_mode,
                    after_mode,
                    "EKS only moves authentication from CONFIG_MAP towards API",
                    "keep the current mode",
                )
            )
        else:
            actions.append(
                Action(
                    "identity-and-access",
                    f"switch authentication mode to {after_mode}",
                    ["eksctl", "utils", "update-authentication-mode", *where, "--authentication-mode", after_mode],
                )
            )
    entries_before = {e.get("principalARN"): e for e in _get(base, "accessConfig.accessEntries") or []}
    entries_after = {e.get("principalARN"): e for e in _get(head, "accessConfig.accessEntries") or []}
    for arn, entry in entries_before.items():
        if entries_after.get(arn) != entry:
            actions.append(
                Action(
                    "identity-and-access",
                    f"delete access entry {arn}",
                    ["eksctl", "delete", "accessentry", *where, "--principal-arn", arn],
                )
            )
    if any(entries_before.get(arn) != e for arn, e in entries_after.items()):
        actions.append(
            Action("identity-and-access", "create the new access entries", ["eksctl", "create", "accessentry", *CFG])
        )
    ids_before = {
        (p.get("namespace"), p.get("serviceAccountName")): p for p in _get(base, "iam.podIdentityAssociations") or []
    }
    ids_after = {
        (p.get("namespace"), p.get("serviceAccountName")): p for p in _get(head, "iam.podIdentityAssociations") or []
    }
    if any(k not in ids_before for k in ids_after):
        actions.append(
            Action(
                "identity-and-access",
                "create the new pod identity associations",
                ["eksctl", "create", "podidentityassociation", *CFG],
            )
        )
    if any(k in ids_before and ids_before[k] != v for k, v in ids_after.items()):
        actions.append(
            Action(
                "identity-and-access",
                "update the changed pod identity associations",
                ["eksctl", "update", "podidentityassociation", *CFG],
            )
        )
    for namespace, account in (k for k in ids_before if k not in ids_after):
        actions.append(
            Action(
                "identity-and-access",
                f"delete pod identity {namespace}/{account}",
                [
                    "eksctl",
                    "delete",
                    "podidentityassociation",
                    *where,
                    "--namespace",
                    namespace,
                    "--service-account-name",
                    account,
                ],
            )
        )
    return actions


def _logging(base: dict, head: dict, where: list[str], name: str, region: str) -> list[Action]:
    actions = []
    types = "cloudWatch.clusterLogging.enableTypes"
    if sorted(_get(base, types) or []) != sorted(_get(head, types) or []):
        actions.append(
            Action(
                "logging",
                "update the control-plane log types",
                ["eksctl", "utils", "update-cluster-logging", *CFG, "--approve"],
                detail=f"{_get(base, types)} -> {_get(head, types)}",
            )
        )
    days = "cloudWatch.clusterLogging.logRetentionInDays"
    if _get(base, days) != _get(head, days) and _get(head, days):
        actions.append(
            Action(
                "logging",
                f"keep control-plane logs {_get(head, days)} days",
                [
                    "aws",
                    "logs",
                    "put-retention-policy",
                    "--region",
                    region,
                    "--log-group-name",
                    f"/aws/eks/{name}/cluster",
                    "--retention-in-days",
                    str(_get(head, days)),
                ],
            )
        )
    return actions


def _tags(base: dict, head: dict, name: str, region: str) -> list[Action]:
    """Tag and untag the cluster. Tag keys and values are user data: they reach the aws CLI only inside one JSON
    argument, never as argv items of their own, where a key such as `--endpoint-url=...` would be read as an
    option (argparse) or `file://...` as a file to load (the aws CLI's parameter files)."""
    before, after = _meta(base, "tags") or {}, _meta(head, "tags") or {}
    actions = []
    # {cluster_arn} is filled in by the deploy from `aws eks describe-cluster`.
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        actions.append(
            Action(
                "tags",
                f"tag the cluster: {', '.join(sorted(changed))}",
                [
                    "aws",
                    "eks",
                    "tag-resource",
                    "--region",
                    region,
                    "--resource-arn",
                    "{cluster_arn}",
                    "--tags",
                    _json_argument(changed),
                ],
                detail="resources eksctl already created (VPC, subnets, node groups) keep their "
                "tags; Karpenter's nodes take the EC2NodeClass tags as they are replaced",
            )
        )
    removed = sorted(k for k in before if k not in after)
    if removed:
        actions.append(
            Action(
                "tags",
                f"untag the cluster: {', '.join(removed)}",
                [
                    "aws",
                    "eks",
                    "untag-resource",
                    "--region",
                    region,
                    "--resource-arn",
                    "{cluster_arn}",
                    "--tag-keys=" + _json_argument(removed),
                ],
            )
        )
    return actions


def _json_argument(value: dict | list) -> str:
    """A map or list parameter of the aws CLI as JSON. It starts with '{' or '[', so it is never read as an
    option nor as a file:// or http(s):// parameter file; the aws CLI parses a map given as '{...}', and a list
    given as one '[...]' word, as JSON (awscli/argprocess.py _unpack_complex_cli_arg). A list goes after
    `--name=`: with the option and its value in one word, argparse never takes the value for an option."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _groups(config: dict) -> dict[str, dict]:
    return {g.get("name"): g for g in config.get("managedNodeGroups") or []}


def _meta(config: dict, key: str) -> Any:  # JSON: its type is what the ClusterConfig holds
    return (config.get("metadata") or {}).get(key)


def _get(config: dict, path: str) -> Any:
    node: object = config
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _changed_paths(base: dict, head: dict, prefix: str = "") -> list[str]:
    """Dotted paths (maps descended, lists compared whole) whose values differ."""
    paths = []
    for key in sorted(set(base) | set(head)):
        path = f"{prefix}{key}"
        before, after = base.get(key), head.get(key)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            paths += _changed_paths(before, after, path + ".")
        else:
            paths.append(path)
    return paths


def _sizes(group: dict) -> str:
    return f"min {group.get('minSize')}, desired {group.get('desiredCapacity')}, max {group.get('maxSize')}"


def _brief(addon: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(addon.items()) if k != "name") or "defaults"
