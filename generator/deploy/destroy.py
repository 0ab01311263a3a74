"""`eksgen destroy --confirm NAME`: delete the cluster and everything the deploys created for it.

In order, each step skipped when its part is gone already, so that a failed destroy is finished by
running it again:
1. Karpenter's nodes: delete every NodePool, wait until Karpenter has deleted its NodeClaims and EC2
   has no running instance of them (they hold subnets and security groups of eksctl's VPC), then
   delete the EC2NodeClasses (Karpenter removes the instance profiles it made).
2. Karpenter: uninstall the controller, then its CRDs.
3. The cluster: `eksctl delete cluster --wait` (node groups, add-ons, pod identity roles, the VPC);
   the deployed-commit record is a tag of the cluster and goes with it.
4. Karpenter's prerequisites stack (roles, policies, interruption queue, rules), waited for.
CloudWatch keeps the control-plane log group /aws/eks/<cluster>/cluster for its retention period: it
holds the audit log of the deleted cluster, and the deploy role may not delete logs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from generator.deploy import preflight
from generator.deploy import target as target_module
from generator.deploy.live import NAMESPACE, Live
from generator.deploy.report import Report, StepResult, note, reported, run_steps
from generator.deploy.shell import Log, Runner
from generator.deploy.steps import KARPENTER, KARPENTER_CRD
from generator.errors import ConfirmationError, StepFailedError

NODEPOOLS = "nodepools.karpenter.sh"
NODECLAIMS = "nodeclaims.karpenter.sh"
NODECLASSES = "ec2nodeclasses.karpenter.k8s.aws"
DEFAULT_WAIT = 1800


def destroy(
    repo: Path,
    confirm: str | None,
    *,
    log: Log,
    summary: Path | None = None,
    wait_timeout: int = DEFAULT_WAIT,
    poll_seconds: float = 15.0,
) -> Report:
    with reported(Report("destroy"), summary) as report:
        target = target_module.load(repo, require_clean=False)
        report.cluster, report.region = target.cluster, target.region
        if confirm != target.cluster:
            raise ConfirmationError(
                "--confirm",
                confirm or "",
                f"must be the exact name of the cluster, {target.cluster!r}: destroy deletes the cluster, its node "
                "groups, Karpenter's nodes and its AWS prerequisites; nothing was read or changed",
            )
        log(f"eksgen destroy: cluster {target.cluster} in {target.region}")
        with tempfile.TemporaryDirectory(prefix="eksgen-destroy-") as folder:
            kubeconfig = Path(folder) / "kubeconfig"
            runner = Runner(repo, preflight.environment(target, kubeconfig), log)
            report.account = preflight.run(target, runner, log).account
            live = Live(runner, target, kubeconfig)
            parts = [
                (
                    "nodes",
                    "Karpenter's NodePools, nodes and EC2NodeClasses",
                    lambda s: _nodes(live, runner, log, s, wait_timeout, poll_seconds),
                ),
                ("karpenter", "Karpenter (controller and CRDs)", lambda s: _karpenter(live, runner, log, s)),
                ("cluster", f"EKS cluster {target.cluster} (eksctl)", lambda s: _cluster(live, runner, log, s)),
                (
                    "prerequisites",
                    f"Karpenter's AWS prerequisites (stack {live.stack_name})",
                    lambda s: _stack(live, runner, log, s),
                ),
            ]
            run_steps(report, runner, log, parts)
        log(
            f"destroyed {target.cluster}; CloudWatch keeps the control-plane logs (/aws/eks/{target.cluster}/cluster) "
            "for their retention period"
        )
    return report


def _nodes(live: Live, runner: Runner, log: Log, s: StepResult, wait_timeout: int, poll_seconds: float) -> None:
    if live.cluster() is None:
        note(s, log, "the cluster does not exist")
        instances = live.karpenter_instances()
        if instances:
            raise StepFailedError(
                f"the cluster is gone but Karpenter's instances remain: {', '.join(instances)}; "
                "terminate them in EC2, then run destroy again"
            )
        return
    live.connect()
    pools = live.objects(NODEPOOLS)
    if pools is None:
        note(s, log, "Karpenter's CRDs are not installed: no NodePool")
    elif pools:
        runner.change(["kubectl", "delete", NODEPOOLS, "--all", "--wait=true", f"--timeout={wait_timeout}s"])
        live.invalidate("objects")
    if pools is not None:
        wait = runner.read(
            ["kubectl", "wait", NODECLAIMS, "--all", "--for=delete", f"--timeout={wait_timeout}s"],
            timeout=wait_timeout + 60,
        )
        if wait.returncode != 0:
            raise StepFailedError(
                f"Karpenter did not delete its NodeClaims within {wait_timeout}s: "
                f"{(wait.stderr or wait.stdout).strip()}"
            )
    deadline = time.monotonic() + wait_timeout
    while instances := live.karpenter_instances():
        log(f"  waiting for Karpenter's instances to terminate: {', '.join(instances)}")  # said before giving up
        if time.monotonic() > deadline:
            raise StepFailedError(
                f"Karpenter's instances still run after {wait_timeout}s: {', '.join(instances)}; "
                "they would keep eksctl from deleting the VPC"
            )
        time.sleep(poll_seconds)
    note(s, log, "no instance of Karpenter runs")
    classes = live.objects(NODECLASSES)
    if classes:
        runner.change(["kubectl", "delete", NODECLASSES, "--all", "--wait=true", f"--timeout={wait_timeout}s"])
        live.invalidate("objects")


def _karpenter(live: Live, runner: Runner, log: Log, s: StepResult) -> None:
    if live.cluster() is None:
        note(s, log, "the cluster does not exist")
        return
    releases = live.releases()
    for release in (KARPENTER, KARPENTER_CRD):
        if release in releases:
            runner.change(["helm", "uninstall", release, "--namespace", NAMESPACE, "--wait"])
        else:
            note(s, log, f"release {release} is not installed")
    live.invalidate("releases", "objects")


def _cluster(live: Live, runner: Runner, log: Log, s: StepResult) -> None:
    if live.cluster() is None:
        note(s, log, "the cluster does not exist")
        return
    runner.change(
        ["eksctl", "delete", "cluster", "--name", live.target.cluster, "--region", live.target.region, "--wait"]
    )
    live.invalidate()
    if live.cluster() is not None:
        raise StepFailedError(f"eksctl reported success, but cluster {live.target.cluster} still exists")
    note(s, log, "the deployed-commit record was a tag of the cluster and is gone with it")


def _stack(live: Live, runner: Runner, log: Log, s: StepResult) -> None:
    stack = live.stack()
    if stack is None:
        note(s, log, f"stack {live.stack_name} does not exist")
        return
    where = ["--stack-name", live.stack_name, "--region", live.target.region]
    runner.change(["aws", "cloudformation", "delete-stack", *where])
    runner.change(["aws", "cloudformation", "wait", "stack-delete-complete", *where])
    live.invalidate("stack")
