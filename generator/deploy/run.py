"""`eksgen deploy`: preflight, plan from the recorded state, refuse blockers, then the steps in order."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

from generator import plan as plan_module
from generator import tools
from generator.deploy import preflight, record, steps
from generator.deploy import target as target_module
from generator.deploy.live import Live
from generator.deploy.report import Report, StepResult, reported, run_steps
from generator.deploy.shell import Log, Runner
from generator.deploy.target import Target
from generator.errors import PlanBlockedError, PreflightError
from generator.plan import cluster as cluster_plan
from generator.plan.model import PHASES, Action, Blocker

# The plan's phases that eksctl and the aws CLI apply to the cluster itself (the others: Karpenter's
# stack and controller, and the manifests, have steps of their own).
CLUSTER_PHASES = tuple(p for p in PHASES if p not in ("karpenter-prerequisites", "karpenter-controller", "manifests"))
DEFAULT_WAIT = 600

StepFunction = Callable[[steps.Deployment, StepResult], None]


def deploy(repo: Path, *, log: Log, summary: Path | None = None, wait_timeout: int = DEFAULT_WAIT) -> Report:
    """Make the cluster what rendered/ at HEAD says; the report is also appended to `summary` (markdown)."""
    with reported(Report("deploy"), summary) as report:
        target = target_module.load(repo)
        report.cluster, report.region, report.head = target.cluster, target.region, target.short
        log(f"eksgen deploy: cluster {target.cluster} in {target.region}, HEAD {target.short} ({target.subject})")
        preflight.require_account_id(target)
        with tempfile.TemporaryDirectory(prefix="eksgen-deploy-") as folder:
            kubeconfig = Path(folder) / "kubeconfig"
            runner = Runner(repo, preflight.environment(target, kubeconfig), log)
            report.account = preflight.run(target, runner, log).account
            live = Live(runner, target, kubeconfig)
            deployment = _planned(target, runner, live, log, report, wait_timeout)
            parts: list[tuple[str, str, StepFunction]] = [
                (
                    "prerequisites",
                    f"Karpenter's AWS prerequisites (stack {live.stack_name})",
                    steps.prerequisites,
                ),
                ("cluster", f"EKS cluster {target.cluster}", steps.cluster),
                (
                    "karpenter",
                    f"Karpenter {target.karpenter_version} (CRDs and controller)",
                    steps.karpenter,
                ),
                ("cluster-changes", "ClusterConfig changes", steps.cluster_changes),
                (
                    "manifests",
                    "rendered/manifests/ (NodePool, EC2NodeClass, StorageClass)",
                    steps.manifests,
                ),
                (
                    "readiness",
                    "Karpenter available, EC2NodeClasses and NodePools Ready",
                    steps.readiness,
                ),
                ("record", "the deployed commit, recorded on the cluster", steps.record_step),
            ]
            run_steps(report, runner, log, [(n, t, _bound(f, deployment)) for n, t, f in parts])
        count = sum(len(s.commands) for s in report.steps)
        log(
            f"deployed {target.short} to {target.cluster}: "
            + (f"{count} change{'s' if count != 1 else ''}" if count else "nothing had to change")
        )
    return report


def _bound(function: StepFunction, deployment: steps.Deployment) -> Callable[[StepResult], None]:
    return lambda result: function(deployment, result)


def _planned(
    target: Target, runner: Runner, live: Live, log: Log, report: Report, wait_timeout: int
) -> steps.Deployment:
    """The plans from the recorded state, refused before any change when one has blockers."""
    described = live.cluster()
    recorded = record.read(described)
    _check_history(target, recorded)
    main = plan_module.build(target.repo, recorded.deployed, head_ref=target.head)
    full = main if recorded.deployed is None else plan_module.build(target.repo, None, head_ref=target.head)
    report.base = f"`{recorded.deployed[:12]}`" if recorded.deployed else ""
    report.plan = main.summary
    log(
        f"plan: from {recorded.deployed[:12] if recorded.deployed else 'nothing deployed'} to {target.short}: "
        f"{main.summary}"
    )
    completion: list[Action] = []
    if described is None:
        cluster_actions: list[Action] = []
        blockers = list(full.blockers)
    elif recorded.cluster_base:
        base = recorded.cluster_base
        cluster = main if base == recorded.deployed else plan_module.build(target.repo, base, head_ref=target.head)
        if base != recorded.deployed:
            log(
                f"plan: the cluster's ClusterConfig is at {base[:12]} already (recorded by a deploy that did not "
                "complete); its changes are planned from there"
            )
        cluster_actions = [a for a in cluster.actions if a.phase in CLUSTER_PHASES]
        blockers = list(cluster.blockers)
    else:
        cluster_actions = []
        completion, blockers = _from_live(target, live, log)
    for i, planned in enumerate(completion + cluster_actions, 1):
        log(f"  {i}. {planned.phase}: {planned.title}")
    if blockers:
        raise PlanBlockedError(
            f"the plan from {recorded.deployed[:12] if recorded.deployed else 'nothing deployed'} to {target.short} "
            "cannot be applied; nothing was changed:\n"
            + "\n".join(
                f"  - {b.field}: {b.before!r} -> {b.after!r}: {b.reason}. What to do: {b.manual}" for b in blockers
            )
        )
    return steps.Deployment(
        target=target,
        runner=runner,
        live=live,
        log=log,
        report=report,
        plan=main,
        full=full,
        cluster_actions=cluster_actions,
        wait_timeout=wait_timeout,
        completion=completion,
    )


def _from_live(target: Target, live: Live, log: Log) -> tuple[list[Action], list[Blocker]]:
    """A cluster exists but no deploy recorded its ClusterConfig (an interrupted `eksctl create cluster`, or a
    cluster made by hand): compare HEAD's ClusterConfig with what can be read back, and plan the difference."""
    head = target.cluster_config
    base = copy.deepcopy(head)
    described = live.cluster() or {}
    base.setdefault("metadata", {})["version"] = described.get("version")
    groups = live.nodegroups()
    base["managedNodeGroups"] = [g for g in head.get("managedNodeGroups") or [] if g.get("name") in groups]
    installed = live.addons()
    base["addons"] = [a for a in head.get("addons") or [] if a.get("name") in installed]
    access = base.get("accessConfig") or {}
    if access.get("accessEntries"):
        entries = live.access_entries()
        access["accessEntries"] = [e for e in access["accessEntries"] if e.get("principalARN") in entries]
    identity = base.get("iam") or {}
    if identity.get("podIdentityAssociations"):
        associations = live.pod_identities()
        identity["podIdentityAssociations"] = [
            p
            for p in identity["podIdentityAssociations"]
            if (str(p.get("namespace")), str(p.get("serviceAccountName"))) in associations
        ]
    log(
        "plan: the cluster exists but records no deployed ClusterConfig; its version, node groups, add-ons, access "
        "entries and pod identities are compared with HEAD's"
    )
    extra = sorted(set(groups) - {g.get("name") for g in head.get("managedNodeGroups") or []})
    if extra:
        log(f"plan: node groups not in rendered/ are left alone (no deploy recorded them): {', '.join(extra)}")
    actions, blockers = cluster_plan.changes(base, head)
    return sorted(actions, key=lambda a: PHASES.index(a.phase)), blockers


def _check_history(target: Target, recorded: record.Record) -> None:
    git = tools.git()
    for label, commit in (("deployed", recorded.deployed), ("cluster", recorded.cluster)):
        if commit and not tools.succeeds([git, "cat-file", "-e", f"{commit}^{{commit}}"], cwd=target.repo):
            raise PreflightError(
                f"the cluster records {label} commit {commit}, which is not in this clone's history: check out "
                "with the full history (actions/checkout with fetch-depth: 0); nothing was changed"
            )
    deployed = recorded.deployed
    if (
        deployed
        and deployed != target.head
        and tools.succeeds([git, "merge-base", "--is-ancestor", target.head, deployed], cwd=target.repo)
    ):
        raise PreflightError(
            f"HEAD {target.short} is older than the deployed commit {deployed[:12]}: deploying it would take the "
            "cluster back. Deploy the newest commit of main (re-run its workflow), or revert the change on main; "
            "nothing was changed"
        )
