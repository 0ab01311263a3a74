"""`eksgen plan`: what merging the working tree onto a base ref will do to the cluster.

The plan compares the rendered state at the base with the working tree and says, in order,
every command the deploy will run, what cannot be applied and why, and what Karpenter will
replace. The JSON form is what the deploy executes, so the plan a reviewer approves is the
change that happens.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from generator import render, resources, transaction
from generator.errors import StaleRenderError
from generator.layout import CLOUDFORMATION, MANIFESTS
from generator.naming import karpenter_stack_name
from generator.plan import cluster, karpenter, state
from generator.plan.model import PHASES, Action, Blocker, FileDiff, Plan

# The controller's requests and limits, as Karpenter's getting-started guide installs it (an
# unbounded controller on the system nodes competes with CoreDNS and the add-ons).
CONTROLLER_RESOURCES = [
    arg
    for key in ("requests", "limits")
    for resource, amount in (("cpu", "1"), ("memory", "1Gi"))
    for arg in ("--set-string", f"controller.resources.{key}.{resource}={amount}")
]


def build(repo: Path, base_ref: str | None, schemas: Path | None = None, head_ref: str | None = None) -> Plan:
    """The plan from `base_ref` (None: nothing deployed yet) to `head_ref` (None: the working tree)."""
    if head_ref is None:
        transaction.recover(repo)  # a change a killed eksgen left half-applied is finished first
        _refuse_stale_render(repo)
    base = state.from_git(repo, base_ref) if base_ref else state.empty()
    head = state.from_git(repo, head_ref) if head_ref else state.from_worktree(repo)
    name = str(head.values.get("clusterName") or base.values.get("clusterName") or "")
    actions, blockers = cluster.changes(base.cluster, head.cluster)
    blockers += _environment(base, head)
    actions += _karpenter_actions(base, head, name)
    actions += _manifest_actions(base, head)
    actions.sort(key=lambda a: PHASES.index(a.phase))  # stable: keeps the order within a phase
    root = resources.schema_root(schemas)
    return Plan(
        base=base_ref or "(nothing deployed)",
        head=head_ref or "working tree",
        cluster=name,
        files=_file_diffs(base, head),
        actions=actions,
        blockers=blockers,
        karpenter=karpenter.impact(base, head, root),
    )


def _environment(base: state.State, head: state.State) -> list[Blocker]:
    """The deploy role trusts one GitHub environment by name (its `sub` claim): a deploy from another
    environment cannot assume it until the bootstrap stack is updated."""
    before, after = base.values.get("environment"), head.values.get("environment")
    if not before or before == after:
        return []
    return [
        Blocker(
            "environment",
            str(before),
            str(after),
            "the deploy role trusts the GitHub environment it was bootstrapped for; deploys from "
            f"{after!r} could not assume it",
            "run `eksgen bootstrap` on this branch, deploy its stack with the printed command, create the "
            "environment with its reviewers, then merge",
        )
    ]


def _refuse_stale_render(repo: Path) -> None:
    """The plan compares rendered/ files: if they are not what values.yaml renders to, it would
    explain a change that merging does not make."""
    drifted = render.drift(repo, render.render(repo))
    if drifted:
        listing = ", ".join(f"{d.path} ({d.reason})" for d in drifted)
        raise StaleRenderError(
            f"rendered/ is out of date with values.yaml: {listing}; run ./eks-accelerator.sh "
            "render (and commit it), then plan again"
        )


def _karpenter_actions(base: state.State, head: state.State, name: str) -> list[Action]:
    actions = []
    stack = CLOUDFORMATION
    if stack in head.files and base.files.get(stack) != head.files[stack]:
        tags = [f"{k}={v}" for k, v in sorted((head.values.get("tags") or {}).items())]
        actions.append(
            Action(
                "karpenter-prerequisites",
                "deploy Karpenter's IAM roles, policies and queue",
                [
                    "aws",
                    "cloudformation",
                    "deploy",
                    "--stack-name",
                    karpenter_stack_name(name),
                    "--template-file",
                    stack,
                    "--capabilities",
                    "CAPABILITY_NAMED_IAM",
                    "--no-fail-on-empty-changeset",
                    # one argv word, JSON: a tag can never be read as an option or a file:// path
                    *([f"--tags={json.dumps(tags)}"] if tags else []),
                ],
            )
        )
    before = str((base.values.get("karpenter") or {}).get("version", ""))
    after = str((head.values.get("karpenter") or {}).get("version", ""))
    if after and before != after:
        region = str(head.values.get("awsRegion", ""))
        title = f"upgrade Karpenter {before} -> {after}" if before else f"install Karpenter {after}"
        actions.append(
            Action(
                "karpenter-controller",
                title,
                [
                    "helm",
                    "upgrade",
                    "--install",
                    "karpenter",
                    "oci://public.ecr.aws/karpenter/karpenter",
                    "--version",
                    after,
                    "--namespace",
                    "kube-system",
                    "--set-string",
                    f"settings.clusterName={name}",
                    "--set-string",
                    f"settings.interruptionQueue={name}",
                    *CONTROLLER_RESOURCES,
                    "--wait",
                ],
                detail=f"in {region}; the deploy first upgrades the CRDs with the karpenter-crd chart of the same "
                "version (helm never upgrades a chart's crds/)",
            )
        )
    return actions


def _manifest_actions(base: state.State, head: state.State) -> list[Action]:
    actions = _spot_role_actions(base, head)
    for path in sorted(p for p in head.files if p.startswith(MANIFESTS)):
        if base.files.get(path) != head.files[path]:
            actions += _storage_class_replacements(base, head.files[path])
            actions.append(
                Action(
                    "manifests",
                    f"apply {path}",
                    ["kubectl", "apply", "--server-side", "--field-manager=eksgen", "-f", path],
                )
            )
    for (kind, name), _ in sorted(base.documents.items()):
        if kind != "ClusterConfig" and (kind, name) not in head.documents:
            actions.append(
                Action(
                    "manifests",
                    f"delete {kind}/{name}",
                    ["kubectl", "delete", kind.lower(), name, "--ignore-not-found"],
                    disruptive=kind in ("NodePool", "EC2NodeClass"),
                )
            )
    return actions


# The fields of a StorageClass the API server refuses to update (kubernetes/kubernetes
# pkg/apis/storage/validation/validation.go, ValidateStorageClassUpdate), with the defaults it stores
# when a manifest leaves them out. None: no default (an absent field compares as empty).
STORAGE_CLASS_IMMUTABLE: dict[str, object] = {
    "provisioner": None,
    "parameters": {},
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "Immediate",
}


def storage_class_changes(before: dict, after: dict) -> list[str]:
    """The immutable fields of a StorageClass that differ between two versions of it (live or rendered)."""
    return [
        key
        for key, default in STORAGE_CLASS_IMMUTABLE.items()
        if (before.get(key) or default) != (after.get(key) or default)
    ]


def _storage_class_replacements(base: state.State, text: str) -> list[Action]:
    """A StorageClass whose immutable fields change cannot be applied over the old one: delete it first, so that
    the apply that follows creates it again."""
    actions = []
    for doc in _documents(text):
        name = str((doc.get("metadata") or {}).get("name", ""))
        old = base.documents.get(("StorageClass", name))
        if doc.get("kind") != "StorageClass" or old is None:
            continue
        changed = storage_class_changes(old, doc)
        if changed:
            actions.append(
                Action(
                    "manifests",
                    f"replace StorageClass/{name}",
                    ["kubectl", "delete", "storageclass", name, "--ignore-not-found"],
                    detail=f"{', '.join(changed)} of a StorageClass cannot be updated (the API server forbids it): the "
                    "class is deleted and the apply below creates it again. PersistentVolumes it already "
                    "provisioned keep their volumes and settings; only new claims use the new ones, and a claim "
                    "made in the seconds between waits for the class",
                )
            )
    return actions


def _documents(text: str) -> list[dict]:
    """The objects of one rendered file (parsed like state.py parses rendered/)."""
    from ruamel.yaml import YAML  # here, beside its one use

    return [d for d in YAML(typ="safe", pure=True).load_all(text) if isinstance(d, dict)]


SPOT_SERVICE = "spot.amazonaws.com"
SPOT_ROLE = "AWSServiceRoleForEC2Spot"  # the name IAM gives the service-linked role of spot.amazonaws.com
CAPACITY_TYPE = "karpenter.sh/capacity-type"


def allows_spot(pool: dict) -> bool:
    """Whether a NodePool lets Karpenter launch Spot instances (without a capacity-type requirement it launches
    on-demand only)."""
    requirements = (((pool.get("spec") or {}).get("template") or {}).get("spec") or {}).get("requirements") or []
    allowed = None
    for requirement in requirements:
        if requirement.get("key") != CAPACITY_TYPE:
            continue
        operator, values = requirement.get("operator"), requirement.get("values") or []
        verdict = {"In": "spot" in values, "NotIn": "spot" not in values, "Exists": True, "DoesNotExist": False}.get(
            str(operator), False
        )
        allowed = verdict if allowed is None else allowed and verdict
    return bool(allowed)


def _spot_role_actions(base: state.State, head: state.State) -> list[Action]:
    """EC2 launches Spot instances with the account's Spot service-linked role; when nothing created it yet,
    Karpenter's first Spot launch fails (AuthFailure.ServiceLinkedRoleCreationNotPermitted). Created with
    Karpenter's prerequisites when a NodePool starts allowing Spot; the deploy skips it when the role exists."""

    def spot(s: state.State) -> bool:
        return any(allows_spot(pool) for pool in s.of_kind("NodePool").values())

    if not spot(head) or spot(base):
        return []
    return [
        Action(
            "karpenter-prerequisites",
            "create the EC2 Spot service-linked role",
            ["aws", "iam", "create-service-linked-role", "--aws-service-name", SPOT_SERVICE],
            detail=f"the NodePool may launch Spot instances, which needs {SPOT_ROLE} in the account; the "
            "deploy skips it when aws iam get-role finds the role",
        )
    ]


def _file_diffs(base: state.State, head: state.State) -> list[FileDiff]:
    diffs = []
    for path in sorted(set(base.files) | set(head.files)):
        before, after = base.files.get(path), head.files.get(path)
        if before == after:
            continue
        lines = list(
            difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                (after or "").splitlines(keepends=True),
                fromfile=f"a/{path}",
                tofile=f"b/{path}",
            )
        )
        status = "added" if before is None else "removed" if after is None else "modified"
        diffs.append(
            FileDiff(
                path,
                status,
                "".join(lines),
                added=sum(1 for x in lines if x.startswith("+") and not x.startswith("+++")),
                removed=sum(1 for x in lines if x.startswith("-") and not x.startswith("---")),
            )
        )
    return diffs
