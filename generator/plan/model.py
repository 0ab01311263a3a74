"""What a plan is made of: ordered actions, blockers, Karpenter impact, and a summary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from generator.layout import CLUSTER_CONFIG

# The safe order of a deploy: Karpenter's AWS prerequisites and controller first (a new release
# must support the target Kubernetes version), then the control plane, its add-ons, and only
# then the nodes; removals of node groups come after their replacements exist.
PHASES = (
    "karpenter-prerequisites",
    "karpenter-controller",
    "control-plane",
    "addons",
    "node-groups",
    "node-group-removals",
    "identity-and-access",
    "endpoints",
    "logging",
    "tags",
    "manifests",
)


@dataclass(frozen=True)
class Action:
    phase: str
    title: str
    command: list[str]
    disruptive: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Blocker:
    field: str
    before: object
    after: object
    reason: str
    manual: str


@dataclass(frozen=True)
class Impact:
    object: str  # "NodePool/default"
    change: str  # what changed
    effect: str  # "drift", "in-place", "new", "removed"
    detail: str


@dataclass
class FileDiff:
    path: str
    status: str  # added, removed, modified
    diff: str
    added: int
    removed: int


@dataclass
class KarpenterChange:
    impacts: list[Impact] = field(default_factory=list)
    budgets: list[dict] = field(default_factory=list)
    version: dict | None = None  # {"from", "to", "crds": ...}

    @property
    def replaces_nodes(self) -> bool:
        return any(i.effect in ("drift", "removed") for i in self.impacts)


@dataclass
class Plan:
    base: str
    head: str
    cluster: str
    files: list[FileDiff]
    actions: list[Action]
    blockers: list[Blocker]
    karpenter: KarpenterChange

    @property
    def kind(self) -> str:
        if self.blockers:
            return "blocked"
        if any(a.disruptive for a in self.actions) or self.karpenter.replaces_nodes:
            return "disruptive"
        if self.actions or self.files:
            return "in-place"
        return "no-op"

    @property
    def summary(self) -> str:
        if self.kind == "no-op":
            return "no-op: nothing in rendered/ changes"
        if self.kind == "blocked":
            fields = ", ".join(b.field for b in self.blockers)
            return f"blocked: {fields} cannot be applied to the running cluster (see Blocking)"
        count = f"{len(self.actions)} action{'s' if len(self.actions) != 1 else ''}"
        if self.kind == "in-place":
            return f"in place: {count}; no node is replaced"
        parts = [count]
        disruptive = [a.title for a in self.actions if a.disruptive]
        if disruptive:
            parts.append("disrupts: " + "; ".join(disruptive))
        if self.karpenter.replaces_nodes:
            parts.append(
                "Karpenter replaces nodes: "
                + "; ".join(
                    f"{i.object} ({i.change})" for i in self.karpenter.impacts if i.effect in ("drift", "removed")
                )
            )
        return "disruptive: " + "; ".join(parts)

    def to_json(self) -> dict:
        return {
            "version": 1,
            "base": self.base,
            "head": self.head,
            "cluster": self.cluster,
            "summary": {"kind": self.kind, "text": self.summary},
            "actions": [{"order": i + 1, **asdict(a)} for i, a in enumerate(self.actions)],
            "blockers": [asdict(b) for b in self.blockers],
            "karpenter": {
                "impacts": [asdict(i) for i in self.karpenter.impacts],
                "budgets": self.karpenter.budgets,
                "version": self.karpenter.version,
                "replacesNodes": self.karpenter.replaces_nodes,
            },
            "files": [asdict(f) for f in self.files],
        }


# The eksctl option that points a command at the rendered ClusterConfig.
CFG = ["--config-file", CLUSTER_CONFIG]


def meta(config: dict, key: str) -> Any:  # JSON: its type is what the ClusterConfig holds
    return (config.get("metadata") or {}).get(key)


def get(config: dict, path: str) -> Any:
    node: object = config
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node
