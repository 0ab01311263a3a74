"""`eksgen status`: the live cluster next to what the repository says, and every difference."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generator import plan as plan_module
from generator import tools
from generator.deploy import preflight, record
from generator.deploy import target as target_module
from generator.deploy.live import Live
from generator.deploy.shell import Log, Runner
from generator.deploy.steps import KARPENTER, KARPENTER_CRD, STABLE
from generator.layout import CLOUDFORMATION, MANIFESTS


@dataclass
class Status:
    cluster: str
    region: str
    account: str
    head: str
    exists: bool = False
    version: str | None = None
    state: str | None = None  # ACTIVE, UPDATING, ...
    deployed: str | None = None
    node_groups: list[dict] = field(default_factory=list)
    addons: list[str] = field(default_factory=list)
    karpenter: str | None = None  # "1.14.1 (deployed)"
    node_pools: list[dict] = field(default_factory=list)
    stack: str | None = None
    differences: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.differences

    def to_json(self) -> dict:
        return {**asdict(self), "inSync": self.in_sync}

    def lines(self) -> list[str]:
        if not self.exists:
            out = [f"cluster {self.cluster} ({self.region}, account {self.account}): does not exist"]
        else:
            out = [
                f"cluster {self.cluster} ({self.region}, account {self.account}): {self.state}, "
                f"Kubernetes {self.version}",
                f"deployed commit: {self.deployed[:12] if self.deployed else '(none recorded)'}; "
                f"HEAD: {self.head[:12]}",
            ]
            for group in self.node_groups:
                out.append(
                    f"node group {group['name']}: Kubernetes {group['version']}, {group['status']}, "
                    f"min {group['min']} desired {group['desired']} max {group['max']}"
                )
            out.append(f"add-ons: {', '.join(self.addons) or 'none'}")
            out.append(f"Karpenter: {self.karpenter or 'not installed'}")
            for pool in self.node_pools:
                out.append(f"NodePool {pool['name']}: {'Ready' if pool['ready'] else 'not Ready'}")
        out.append(f"Karpenter's prerequisites stack: {self.stack or 'does not exist'}")
        if self.differences:
            out.append("live state and rendered/ differ:")
            out += [f"  - {d}" for d in self.differences]
        else:
            out.append("live state matches rendered/ at HEAD")
        return out


def status(repo: Path, *, log: Log) -> Status:
    """Read the live state (changing nothing) and compare it with rendered/ at HEAD."""
    target = target_module.load(repo, require_clean=False)
    with tempfile.TemporaryDirectory(prefix="eksgen-status-") as folder:
        kubeconfig = Path(folder) / "kubeconfig"
        runner = Runner(repo, preflight.environment(target, kubeconfig), log)
        preflight.check_tools(target, runner)
        ident = preflight.identity(runner)
        preflight.check_account(target, ident)
        live = Live(runner, target, kubeconfig)
        result = Status(target.cluster, target.region, ident.account, target.head)
        _stack(target, live, result)
        described = live.cluster()
        if described is None:
            result.differences.insert(0, "the cluster does not exist: nothing is deployed")
            return result
        result.exists, result.version, result.state = True, described.get("version"), described.get("status")
        _cluster(target, live, result, described)
        live.connect()
        _karpenter(target, live, result)
        _manifests(target, live, result)
        return result


def _stack(target: target_module.Target, live: Live, result: Status) -> None:
    stack = live.stack()
    if stack is None:
        result.differences.append(f"stack {live.stack_name} does not exist")
        return
    result.stack = f"{live.stack_name} {stack['StackStatus']}"
    if stack["StackStatus"] not in STABLE:
        result.differences.append(f"stack {live.stack_name} is {stack['StackStatus']}")
    elif live.stack_template() != target.text(CLOUDFORMATION):
        result.differences.append(f"stack {live.stack_name} holds another template than {CLOUDFORMATION}")


def _cluster(target: target_module.Target, live: Live, result: Status, described: dict) -> None:
    recorded = record.read(described)
    result.deployed = recorded.deployed
    if recorded.deployed != target.head:
        if recorded.deployed and tools.succeeds(
            [tools.git(), "cat-file", "-e", f"{recorded.deployed}^{{commit}}"], cwd=target.repo
        ):
            pending = plan_module.build(target.repo, recorded.deployed, head_ref=target.head)
            result.differences.append(
                f"HEAD {target.short} is not deployed (deployed: {recorded.deployed[:12]}): {pending.summary}"
            )
        else:
            result.differences.append(
                f"HEAD {target.short} is not deployed (deployed: {recorded.deployed or 'none recorded'})"
            )
    config = target.cluster_config
    wanted_version = str((config.get("metadata") or {}).get("version"))
    if described.get("version") != wanted_version:
        result.differences.append(
            f"control plane is Kubernetes {described.get('version')}, rendered/ says {wanted_version}"
        )
    groups = live.nodegroups()
    wanted_groups = {g.get("name"): g for g in config.get("managedNodeGroups") or []}
    for name, group in sorted(groups.items()):
        scaling = group.get("scalingConfig") or {}
        result.node_groups.append(
            {
                "name": name,
                "version": group.get("version"),
                "status": group.get("status"),
                "min": scaling.get("minSize"),
                "desired": scaling.get("desiredSize"),
                "max": scaling.get("maxSize"),
            }
        )
        wanted = wanted_groups.get(name)
        if wanted is None:
            result.differences.append(f"node group {name} is not in rendered/")
            continue
        if group.get("version") != wanted_version:
            result.differences.append(
                f"node group {name} is Kubernetes {group.get('version')}, rendered/ says {wanted_version}"
            )
        sizes = (scaling.get("minSize"), scaling.get("desiredSize"), scaling.get("maxSize"))
        wanted_sizes = (wanted.get("minSize"), wanted.get("desiredCapacity"), wanted.get("maxSize"))
        if sizes != wanted_sizes:
            result.differences.append(f"node group {name} has min/desired/max {sizes}, rendered/ says {wanted_sizes}")
    for name in sorted(set(wanted_groups) - set(groups)):
        result.differences.append(f"node group {name} does not exist")
    installed = live.addons()
    result.addons = sorted(installed)
    wanted_addons = {a.get("name") for a in config.get("addons") or []}
    for name in sorted(wanted_addons - installed):
        result.differences.append(f"add-on {name} is not installed")
    for name in sorted(installed - wanted_addons):
        result.differences.append(f"add-on {name} is installed but not in rendered/")


def _karpenter(target: target_module.Target, live: Live, result: Status) -> None:
    releases = live.releases()
    controller = releases.get(KARPENTER)
    if controller:
        result.karpenter = f"{controller.get('app_version')} ({controller.get('status')})"
    for name in (KARPENTER_CRD, KARPENTER):
        release = releases.get(name)
        wanted = f"{name}-{target.karpenter_version}"
        if release is None:
            result.differences.append(f"Helm release {name} is not installed")
        elif (release.get("chart"), release.get("status")) != (wanted, "deployed"):
            result.differences.append(
                f"Helm release {name} is {release.get('chart')} ({release.get('status')}), values.yaml says {wanted}"
            )


def _manifests(target: target_module.Target, live: Live, result: Status) -> None:
    pools = live.objects("nodepools.karpenter.sh")
    for pool in pools or []:
        conditions = (pool.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        result.node_pools.append({"name": pool["metadata"]["name"], "ready": ready})
        if not ready:
            result.differences.append(f"NodePool {pool['metadata']['name']} is not Ready")
    if pools is None:
        return  # without Karpenter's CRDs, kubectl cannot compare its objects; the release above says why
    for path in sorted(p for p in target.rendered.files if p.startswith(MANIFESTS)):
        if live.differs(path):
            result.differences.append(f"{path} differs from the cluster (kubectl diff)")
