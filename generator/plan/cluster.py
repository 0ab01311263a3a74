"""ClusterConfig changes -> the eksctl / aws commands that apply them, or why they cannot be.

eksctl does not reconcile a changed ClusterConfig: each kind of change has its own command, and
some (the VPC, the region, a node group's launch template) cannot change in place at all.
"""

from __future__ import annotations

from generator import versions
from generator.plan import access
from generator.plan.model import CFG, Action, Blocker, get, meta

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
    name, region = meta(head, "name"), meta(head, "region")
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
        before, after = get(base, path), get(head, path)
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
    actions += access.identity(base, head, where, blockers)
    handled |= {"vpc.clusterEndpoints", "vpc.publicAccessCIDRs"}
    if (get(base, "vpc.clusterEndpoints"), get(base, "vpc.publicAccessCIDRs")) != (
        get(head, "vpc.clusterEndpoints"),
        get(head, "vpc.publicAccessCIDRs"),
    ):
        actions.append(
            Action(
                "endpoints",
                "update the API endpoint access",
                ["eksctl", "utils", "update-cluster-vpc-config", *CFG, "--approve"],
            )
        )
    handled |= {"cloudWatch.clusterLogging.enableTypes", "cloudWatch.clusterLogging.logRetentionInDays"}
    actions += access.logging(base, head, where, name, region)
    handled.add("metadata.tags")
    actions += access.tags(base, head, name, region)

    for path in _changed_paths(base, head):
        if not any(path == h or path.startswith(h + ".") or h.startswith(path + ".") for h in handled):
            blockers.append(
                Blocker(
                    path,
                    get(base, path),
                    get(head, path),
                    "eksgen does not know an eksctl command that applies this change",
                    "apply it by hand with eksctl or the AWS console, then merge",
                )
            )
    return actions, blockers


def _version(base: dict, head: dict, where: list[str], blockers: list[Blocker]) -> list[Action]:
    before, after = str(meta(base, "version")), str(meta(head, "version"))
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


def _groups(config: dict) -> dict[str, dict]:
    return {g.get("name"): g for g in config.get("managedNodeGroups") or []}


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
