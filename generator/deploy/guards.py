"""Checks of the live state before each ClusterConfig action of a plan, so that a re-run converges.

eksctl does not reconcile: creating a node group that exists, deleting one that is gone or upgrading
a control plane that is at the target version fails or does work twice. Before each action the
deploy asks the cluster whether its effect is already there; if so the action is skipped with the
reason in the log. Actions without a check here are idempotent by eksctl's own design (updating
add-ons, endpoint access, logging, the authentication mode, the OIDC provider): running them again
after a partial failure converges.
"""

from __future__ import annotations

import json

from generator.deploy.live import Live
from generator.plan.model import Action

CLUSTER_ARN = "{cluster_arn}"


def flag(command: list[str], name: str) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE` in a command."""
    for i, arg in enumerate(command):
        if arg == name and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def resolve(action: Action, live: Live) -> list[str]:
    """The command with the cluster ARN of describe-cluster in place of {cluster_arn}."""
    described = live.cluster() or {}
    return [arg.replace(CLUSTER_ARN, described.get("arn", CLUSTER_ARN)) for arg in action.command]


def skip_reason(action: Action, live: Live) -> str | None:
    """Why the action's effect is already live (skip it), or None (run it)."""
    cmd = action.command
    verb = tuple(cmd[:3])
    described = live.cluster() or {}
    target = live.target
    if verb == ("eksctl", "create", "cluster"):
        return f"cluster {target.cluster} exists" if described else None
    if verb == ("eksctl", "upgrade", "cluster"):
        version = str((target.cluster_config.get("metadata") or {}).get("version"))
        if described.get("version") == version:
            return f"the control plane is at Kubernetes {version} already"
        return None
    if (
        cmd[:2] == ["eksctl", "create"]
        or cmd[:2] == ["eksctl", "delete"]
        or cmd[:3] in (["eksctl", "upgrade", "nodegroup"], ["eksctl", "scale", "nodegroup"])
    ):
        return _eksctl_object(cmd, live)
    if verb == ("aws", "eks", "tag-resource"):
        wanted = json.loads(flag(cmd, "--tags") or "{}")
        current = described.get("tags") or {}
        if all(current.get(k) == v for k, v in wanted.items()):
            return "the cluster has these tags already"
        return None
    if verb == ("aws", "eks", "untag-resource"):
        keys = cmd[cmd.index("--tag-keys") + 1 :]
        if not set(keys) & set(described.get("tags") or {}):
            return "the cluster has none of these tags"
        return None
    if verb == ("aws", "logs", "put-retention-policy"):
        days = flag(cmd, "--retention-in-days")
        if str(live.log_retention(flag(cmd, "--log-group-name") or "")) == days:
            return f"the log group keeps logs {days} days already"
        return None
    return None


def _eksctl_object(cmd: list[str], live: Live) -> str | None:
    verb, kind = cmd[1], cmd[2]
    name = flag(cmd, "--name")
    if kind == "nodegroup":
        groups = live.nodegroups()
        if verb == "create":
            wanted = flag(cmd, "--include")
            names = (
                [wanted]
                if wanted
                else [g.get("name") for g in live.target.cluster_config.get("managedNodeGroups") or []]
            )
            if all(n in groups for n in names):
                return f"node group {', '.join(map(str, names))} exists"
            return None
        group = groups.get(name or "")
        if verb == "delete":
            return None if group else f"node group {name} is gone already"
        if group is None:
            return f"node group {name} does not exist (it is created at the version and size of rendered/)"
        if verb == "upgrade":
            version = flag(cmd, "--kubernetes-version")
            return f"node group {name} is at Kubernetes {version} already" if group.get("version") == version else None
        if verb == "scale":
            scaling = group.get("scalingConfig") or {}
            have = (scaling.get("desiredSize"), scaling.get("minSize"), scaling.get("maxSize"))
            want = tuple(
                int(v) if v and v.isdigit() else v
                for v in (flag(cmd, "--nodes"), flag(cmd, "--nodes-min"), flag(cmd, "--nodes-max"))
            )
            return f"node group {name} has these sizes already" if have == want else None
        return None
    if kind == "addon":
        installed = live.addons()
        if verb == "create" and name is None:  # --config-file: eksctl creates the config's add-ons it lacks
            names = [str(a.get("name")) for a in live.target.cluster_config.get("addons") or []]
            return f"add-on {', '.join(names)} is installed" if set(names) <= installed else None
        if verb == "create":
            return f"add-on {name} is installed" if name in installed else None
        if verb == "delete":
            return None if name in installed else f"add-on {name} is not installed"
        return None
    if kind == "accessentry":
        live_entries = live.access_entries()
        if verb == "create":
            wanted_arns = {
                str(e.get("principalARN"))
                for e in (live.target.cluster_config.get("accessConfig") or {}).get("accessEntries") or []
            }
            return "every access entry of rendered/ exists" if wanted_arns <= live_entries else None
        if verb == "delete":
            arn = flag(cmd, "--principal-arn")
            return None if arn in live_entries else f"access entry {arn} is gone already"
        return None
    if kind == "podidentityassociation":
        associations = live.pod_identities()
        if verb == "create":
            wanted_pairs = {
                (str(p.get("namespace")), str(p.get("serviceAccountName")))
                for p in (live.target.cluster_config.get("iam") or {}).get("podIdentityAssociations") or []
            }
            return "every pod identity association of rendered/ exists" if wanted_pairs <= associations else None
        if verb == "delete":
            key = (str(flag(cmd, "--namespace")), str(flag(cmd, "--service-account-name")))
            return None if key in associations else f"pod identity {key[0]}/{key[1]} is gone already"
        return None
    return None
