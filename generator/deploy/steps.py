"""The steps of a deploy, in order; each looks at the live state first and changes only what differs.

1. prerequisites   Karpenter's IAM roles, policies and interruption queue: `aws cloudformation deploy`
                   of rendered/cloudformation/karpenter.yaml, skipped when the stack is complete and
                   holds this very template; when a NodePool allows Spot, the account's EC2 Spot
                   service-linked role (`aws iam create-service-linked-role`), skipped when it exists.
2. cluster         `eksctl create cluster` when the cluster does not exist; then a kubeconfig of the
                   deploy's own.
3. karpenter       Karpenter's CRDs (karpenter-crd chart: Helm never upgrades a chart's crds/) and
                   controller (karpenter chart), `helm upgrade --install` from public ECR at the pinned
                   version, each only when the release is not deployed at that version and values.
4. cluster-changes The plan's ClusterConfig actions (control plane, add-ons, node groups, identity,
                   endpoints, logging, tags), each guarded by a check of the live state (guards.py).
                   They come after Karpenter, as in the plan: a new Karpenter release must support the
                   Kubernetes version the control plane moves to.
5. manifests       `kubectl apply --server-side` of the rendered files that changed since the deployed
                   commit (all of them on the first deploy), each only when `kubectl diff` says the
                   cluster differs; objects removed from rendered/ are deleted, and so is a StorageClass
                   whose immutable fields change, just before the apply that creates it again; the
                   rendered default StorageClass becomes the only default (EKS's gp2 is un-defaulted).
6. readiness       Karpenter's deployment Available, every EC2NodeClass and NodePool Ready, with timeouts.
7. record          HEAD recorded on the cluster as the deployed commit (record.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from generator.deploy import guards, record
from generator.deploy.live import NAMESPACE, Live
from generator.deploy.report import Report, StepResult, note
from generator.deploy.shell import Log, Runner
from generator.deploy.target import DEFAULT_CLASS, Target
from generator.errors import StepFailedError
from generator.layout import CLOUDFORMATION
from generator.plan import SPOT_ROLE, SPOT_SERVICE, storage_class_changes
from generator.plan.model import Action, Plan

KARPENTER = "karpenter"
KARPENTER_CRD = "karpenter-crd"
KARPENTER_CRD_CHART = "oci://public.ecr.aws/karpenter/karpenter-crd"
BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
# The service-linked roles a deploy creates, by service, with the name IAM gives each.
SERVICE_LINKED_ROLES = {SPOT_SERVICE: SPOT_ROLE}
# What IAM answers CreateServiceLinkedRole when the role exists (InvalidInput).
ROLE_TAKEN = "has been taken in this account"
# Stack states in which the stack is complete and holds the template it was last deployed with.
STABLE = (
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
)


@dataclass
class Deployment:
    """Everything the steps share: what HEAD says, the live state, and what changes since the record."""

    target: Target
    runner: Runner
    live: Live
    log: Log
    report: Report
    plan: Plan  # from the deployed commit (or nothing) to HEAD: the manifests to apply, the blockers
    full: Plan  # from nothing to HEAD: the commands that create each part
    cluster_actions: list[Action]  # the ClusterConfig actions, from the cluster's own record
    wait_timeout: int
    # A cluster that exists without a recorded ClusterConfig (an interrupted `eksctl create cluster`):
    # what it lacks of HEAD's ClusterConfig, completed in the cluster step, before Karpenter needs nodes.
    completion: list[Action] = field(default_factory=list)


def action(plan: Plan, phase: str) -> Action:
    found = [a for a in plan.actions if a.phase == phase]
    if not found:
        raise StepFailedError(f"the plan of HEAD has no {phase} action: is rendered/ complete?")
    return found[0]


def prerequisites(d: Deployment, s: StepResult) -> None:
    _stack(d, s)
    for planned in d.full.actions:
        if planned.phase == "karpenter-prerequisites" and planned.command[:3] == [
            "aws",
            "iam",
            "create-service-linked-role",
        ]:
            _service_linked_role(d, s, planned)


def _stack(d: Deployment, s: StepResult) -> None:
    found = [
        a
        for a in d.full.actions
        if a.phase == "karpenter-prerequisites" and a.command[:3] == ["aws", "cloudformation", "deploy"]
    ]
    command = found[0].command if found else action(d.full, "karpenter-prerequisites").command
    stack = d.live.stack()
    status = stack["StackStatus"] if stack else None
    tags = {t["Key"]: t["Value"] for t in (stack or {}).get("Tags") or []}
    wanted = _stack_tags(command)
    if (
        status in STABLE
        and d.live.stack_template() == d.target.text(CLOUDFORMATION)
        and all(tags.get(k) == v for k, v in wanted.items())
    ):
        note(s, d.log, f"stack {d.live.stack_name} is {status} with this template and these tags: nothing to deploy")
        return
    if status and status.endswith("_IN_PROGRESS"):
        raise StepFailedError(
            f"stack {d.live.stack_name} is {status}: another change is running; run the deploy "
            "again once it has finished"
        )
    if status == "ROLLBACK_COMPLETE":
        note(
            s,
            d.log,
            f"stack {d.live.stack_name} failed to create and rolled back; CloudFormation cannot update "
            "it, so it is deleted and created again",
        )
        where = ["--stack-name", d.live.stack_name, "--region", d.target.region]
        d.runner.change(["aws", "cloudformation", "delete-stack", *where])
        d.runner.change(["aws", "cloudformation", "wait", "stack-delete-complete", *where])
    d.runner.change(command)
    d.live.invalidate("stack")


def _stack_tags(command: list[str]) -> dict[str, str]:
    """The tags of an `aws cloudformation deploy`: `--tags=["KEY=VALUE", ...]` (one JSON word) or `--tags KEY=VALUE
    ...` (the last option)."""
    pairs: list[str] = []
    for i, arg in enumerate(command):
        if arg.startswith("--tags="):
            pairs = [str(p) for p in json.loads(arg.split("=", 1)[1])]
        elif arg == "--tags":
            pairs = command[i + 1 :]
    return dict(pair.split("=", 1) for pair in pairs)


def _service_linked_role(d: Deployment, s: StepResult, planned: Action) -> None:
    service = guards.flag(planned.command, "--aws-service-name") or ""
    role = SERVICE_LINKED_ROLES.get(service)
    if role is None:
        raise StepFailedError(
            f"the plan creates the service-linked role of {service}, which this eksgen does not know the name of"
        )
    if d.live.role_exists(role):
        note(s, d.log, f"the service-linked role {role} of {service} exists")
        return
    if not d.runner.change(planned.command, tolerate=(ROLE_TAKEN,)):
        note(s, d.log, f"the service-linked role {role} of {service} exists (IAM says its name is taken)")
    d.live.invalidate("role")


def cluster(d: Deployment, s: StepResult) -> None:
    described = d.live.cluster()
    if described is None:
        d.runner.change(action(d.full, "control-plane").command)
        d.live.invalidate()
        if d.live.cluster() is None:
            raise StepFailedError(f"eksctl reported success, but describe-cluster finds no cluster {d.target.cluster}")
        record.write(d.runner, d.live, cluster=d.target.head)  # it is now what HEAD's ClusterConfig says
    else:
        if described.get("status") != "ACTIVE":
            raise StepFailedError(
                f"cluster {d.target.cluster} is {described.get('status')}: run the deploy again once it is ACTIVE"
            )
        note(s, d.log, f"cluster {d.target.cluster} exists (Kubernetes {described.get('version')}, ACTIVE)")
        if d.completion:
            note(s, d.log, "no deploy recorded its ClusterConfig: completing it as HEAD's ClusterConfig says")
            if _run(d, s, d.completion):
                record.write(d.runner, d.live, cluster=d.target.head)
    d.live.connect()


def karpenter(d: Deployment, s: StepResult) -> None:
    version = d.target.karpenter_version
    releases = d.live.releases()
    if _deployed(releases.get(KARPENTER_CRD), KARPENTER_CRD, version):
        note(s, d.log, f"{KARPENTER_CRD} {version} is deployed")
    else:
        d.runner.change(
            [
                "helm",
                "upgrade",
                "--install",
                KARPENTER_CRD,
                KARPENTER_CRD_CHART,
                "--version",
                version,
                "--namespace",
                NAMESPACE,
                "--wait",
            ]
        )
    controller = action(d.full, "karpenter-controller").command
    wanted = _set_values(controller)
    if _deployed(releases.get(KARPENTER), KARPENTER, version) and d.live.release_values(KARPENTER) == wanted:
        note(s, d.log, f"{KARPENTER} {version} is deployed with these settings")
    else:
        d.runner.change(controller)
    d.live.invalidate("releases", "objects")


def cluster_changes(d: Deployment, s: StepResult) -> None:
    if not d.cluster_actions:
        note(s, d.log, "no ClusterConfig change to apply")
        return
    if _run(d, s, d.cluster_actions):
        record.write(d.runner, d.live, cluster=d.target.head)


def _run(d: Deployment, s: StepResult, actions: list[Action]) -> bool:
    """Run the ClusterConfig actions whose effect is not live yet; whether any ran."""
    ran = False
    for planned in actions:
        reason = guards.skip_reason(planned, d.live)
        if reason:
            note(s, d.log, f"{planned.title}: skipped, {reason}")
            continue
        d.log(f"  {planned.title}")
        d.runner.change(guards.resolve(planned, d.live))
        d.live.invalidate()
        ran = True
    return ran


def manifests(d: Deployment, s: StepResult) -> None:
    planned = [a for a in d.plan.actions if a.phase == "manifests"]
    if not planned:
        note(s, d.log, "no file of rendered/manifests/ changed since the deployed commit")
    for item in planned:
        if item.command[:2] == ["kubectl", "apply"]:
            path = item.command[-1]
            if not d.live.differs(path):
                note(s, d.log, f"{path}: the cluster has it already")
                continue
        elif item.command[:2] == ["kubectl", "delete"]:
            kind, name = item.command[2], item.command[3]
            rendered = d.target.rendered.of_kind("StorageClass").get(name) if kind == "storageclass" else None
            if rendered is not None:  # it stays in rendered/: replaced, as its immutable fields change
                reason = _replaced_already(d, name, rendered)
                if reason:
                    note(s, d.log, reason)
                    continue
            elif not d.live.exists(kind, name):
                note(s, d.log, f"{kind}/{name} is gone already")
                continue
        d.runner.change(item.command)
        d.live.invalidate("objects")
    _only_default_storage_class(d, s)


def _replaced_already(d: Deployment, name: str, rendered: dict) -> str | None:
    """Why a StorageClass that the plan replaces needs no deleting (None: delete it). It is deleted only while
    the cluster's class differs from rendered/ in a field the API server never updates: a re-run after the
    delete, or after the apply that created it again, deletes nothing."""
    live = next(
        (o for o in d.live.objects("storageclasses.storage.k8s.io") or [] if o["metadata"]["name"] == name), None
    )
    if live is None:
        return f"StorageClass/{name} does not exist: the apply creates it"
    if not storage_class_changes(live, rendered):
        return f"StorageClass/{name} has the provisioner, parameters and policies of rendered/ already"
    return None


def _only_default_storage_class(d: Deployment, s: StepResult) -> None:
    ours = d.target.default_storage_class
    if ours is None:
        return
    others = []
    for found in d.live.objects("storageclasses.storage.k8s.io") or []:
        name = found["metadata"]["name"]
        annotations = found["metadata"].get("annotations") or {}
        for key in (DEFAULT_CLASS, BETA_DEFAULT_CLASS):
            if name != ours and str(annotations.get(key, "")).lower() == "true":
                others.append((name, key))
    for name, key in others:
        d.runner.change(["kubectl", "annotate", "storageclass", name, f"{key}=false", "--overwrite"])
    d.live.invalidate("objects")
    if not others:
        note(s, d.log, f"StorageClass {ours} is the only default")


def readiness(d: Deployment, s: StepResult) -> None:
    seconds = d.wait_timeout
    _wait(
        d,
        s,
        [
            "kubectl",
            "wait",
            "--namespace",
            NAMESPACE,
            "deployment/karpenter",
            "--for=condition=Available",
            f"--timeout={seconds}s",
        ],
    )
    objects = [f"ec2nodeclass.karpenter.k8s.aws/{n}" for n in d.target.names("EC2NodeClass")]
    objects += [f"nodepool.karpenter.sh/{n}" for n in d.target.names("NodePool")]
    if objects:
        _wait(d, s, ["kubectl", "wait", *objects, "--for=condition=Ready", f"--timeout={seconds}s"])


def _wait(d: Deployment, s: StepResult, args: list[str]) -> None:
    result = d.runner.read(args, timeout=d.wait_timeout + 60)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise StepFailedError(
            f"not ready within {d.wait_timeout}s ({' '.join(args[2:-2])}): {output}\n"
            "Look at `kubectl describe` of the object and at the controller's log "
            "(kubectl logs --namespace kube-system deployment/karpenter)"
        )
    for line in output.splitlines():
        note(s, d.log, line)


def record_step(d: Deployment, s: StepResult) -> None:
    if record.write(d.runner, d.live, deployed=d.target.head, cluster=d.target.head):
        note(s, d.log, f"{record.DEPLOYED}={d.target.head}")
    else:
        note(s, d.log, f"the cluster records {d.target.short} already")


def _deployed(release: dict | None, chart: str, version: str) -> bool:
    return release is not None and release.get("status") == "deployed" and release.get("chart") == f"{chart}-{version}"


def _set_values(command: list[str]) -> dict:
    """The values of a helm command's --set KEY=VALUE flags, nested as `helm get values` prints them."""
    values: dict = {}
    for i, arg in enumerate(command[:-1]):
        if arg in ("--set", "--set-string"):
            key, _, value = command[i + 1].partition("=")
            node = values
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
    return values
