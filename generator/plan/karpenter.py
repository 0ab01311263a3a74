"""How NodePool and EC2NodeClass changes reach the running nodes.

Karpenter replaces ("drifts") nodes whose NodePool template or EC2NodeClass no longer matches
what launched them; NodePool behaviour (limits, weight, disruption settings) and node lifetime
settings apply in place, without touching running nodes.
"""

from __future__ import annotations

from pathlib import Path

from generator.plan.model import Impact, KarpenterChange
from generator.plan.state import State

# NodePool fields that apply in place (Karpenter's "behavioral" fields and those it leaves out
# of the drift hash).
_POOL_IN_PLACE = (
    "spec.limits",
    "spec.weight",
    "spec.disruption",
    "spec.template.spec.expireAfter",
    "spec.template.spec.terminationGracePeriod",
    "metadata",
)


def impact(base: State, head: State, crd_root: Path) -> KarpenterChange:
    change = KarpenterChange()
    pools_before, pools_after = base.of_kind("NodePool"), head.of_kind("NodePool")
    classes_before, classes_after = base.of_kind("EC2NodeClass"), head.of_kind("EC2NodeClass")

    for name, pool in pools_after.items():
        old = pools_before.get(name)
        if old is None:
            change.impacts.append(
                Impact(
                    f"NodePool/{name}", "new NodePool", "new", "Karpenter can launch nodes for it once it is applied"
                )
            )
            continue
        for path in _diff(old, pool):
            if any(path == p or path.startswith(p + ".") for p in _POOL_IN_PLACE):
                change.impacts.append(Impact(f"NodePool/{name}", path, "in-place", "applies without replacing nodes"))
            elif path.startswith("spec.template.spec.requirements"):
                change.impacts.append(
                    Impact(
                        f"NodePool/{name}",
                        "requirements",
                        "drift",
                        "nodes that no longer satisfy the new requirements are replaced",
                    )
                )
            else:
                change.impacts.append(
                    Impact(f"NodePool/{name}", path, "drift", "every node of the NodePool is replaced")
                )
    for name in pools_before:
        if name not in pools_after:
            change.impacts.append(
                Impact(
                    f"NodePool/{name}",
                    "NodePool deleted",
                    "removed",
                    "Karpenter drains and terminates all of its nodes",
                )
            )

    for name, node_class in classes_after.items():
        old = classes_before.get(name)
        if old is None:
            change.impacts.append(
                Impact(f"EC2NodeClass/{name}", "new EC2NodeClass", "new", "used by nodes launched from now on")
            )
            continue
        users = ", ".join(f"NodePool/{p}" for p, pool in pools_after.items() if _class_of(pool) == name) or "none"
        for path in _diff(old, node_class):
            if path.startswith("metadata"):
                continue
            change.impacts.append(
                Impact(
                    f"EC2NodeClass/{name}",
                    path,
                    "drift",
                    f"nodes launched with the old settings are replaced (NodePools: {users})",
                )
            )
    for name in classes_before:
        if name not in classes_after:
            change.impacts.append(
                Impact(
                    f"EC2NodeClass/{name}",
                    "EC2NodeClass deleted",
                    "removed",
                    "NodePools that use it cannot launch nodes; its nodes are terminated",
                )
            )

    before_k8s, after_k8s = str(base.values.get("eksVersion", "")), str(head.values.get("eksVersion", ""))
    if base.documents and before_k8s != after_k8s:
        for name, node_class in classes_after.items():
            if any("alias" in t for t in (node_class.get("spec") or {}).get("amiSelectorTerms") or []):
                change.impacts.append(
                    Impact(
                        f"EC2NodeClass/{name}",
                        f"Kubernetes {before_k8s} -> {after_k8s}",
                        "drift",
                        "the AMI alias resolves to the image of the new Kubernetes version: every node is replaced "
                        "after the control plane upgrade",
                    )
                )

    if change.replaces_nodes:
        for name, pool in pools_after.items():
            budgets = ((pool.get("spec") or {}).get("disruption") or {}).get("budgets") or [{"nodes": "10%"}]
            change.budgets.append({"nodePool": name, "budgets": budgets})

    before_v = str((base.values.get("karpenter") or {}).get("version", ""))
    after_v = str((head.values.get("karpenter") or {}).get("version", ""))
    if base.documents and before_v != after_v:
        change.version = {"from": before_v, "to": after_v, "crds": _crd_changes(crd_root, before_v, after_v)}
    return change


def _class_of(pool: dict) -> str:
    return str(
        (((pool.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeClassRef", {}).get("name", "")
    )


def _diff(before: object, after: object, prefix: str = "") -> list[str]:
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            out += _diff(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [prefix]


def _crd_changes(root: Path, before: str, after: str) -> str:
    """Which CRD files differ between two releases, from the local schema directory."""
    old, new = root / "karpenter" / f"v{before}" / "crds", root / "karpenter" / f"v{after}" / "crds"
    if not old.is_dir() or not new.is_dir():
        return f"unknown: CRDs of v{before} or v{after} not under {root}"
    names = sorted({p.name for p in old.glob("*.yaml")} | {p.name for p in new.glob("*.yaml")})
    changed = []
    for name in names:
        a, b = old / name, new / name
        if not a.exists():
            changed.append(f"{name} added")
        elif not b.exists():
            changed.append(f"{name} removed")
        elif a.read_bytes() != b.read_bytes():
            changed.append(f"{name} changed")
    return "CRDs change: " + ", ".join(changed) if changed else "CRDs unchanged"
