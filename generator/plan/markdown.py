"""The plan as the pull-request comment a reviewer reads first."""

from __future__ import annotations

import shlex

from generator.plan.model import Plan

MARKER = "<!-- eksgen-plan -->"
_BADGE = {"no-op": "no-op", "in-place": "in place", "disruptive": "DISRUPTIVE", "blocked": "BLOCKED"}


def render(plan: Plan) -> str:
    out = [MARKER, f"## eksgen plan for `{plan.cluster}`: {_BADGE[plan.kind]}", "",
           f"**{plan.summary}**", "", f"Base `{plan.base}` -> {plan.head}.", ""]
    if plan.blockers:
        out += ["### Blocking", "", "| field | from | to | why | what to do |", "|---|---|---|---|---|"]
        out += [f"| `{b.field}` | {_cell(b.before)} | {_cell(b.after)} | {b.reason} | {b.manual} |"
                for b in plan.blockers]
        out.append("")
    out += ["### Cluster actions", ""]
    if plan.actions:
        out += ["In this order:", "", "| # | phase | action | command |", "|---|---|---|---|"]
        for i, action in enumerate(plan.actions, 1):
            title = action.title + (" **(disruptive)**" if action.disruptive else "")
            if action.detail:
                title += f"<br>{_escape(action.detail)}"
            out.append(f"| {i} | {action.phase} | {_escape(title)} | `{_escape(shlex.join(action.command))}` |")
    else:
        out.append("None.")
    out += ["", "### Karpenter impact", ""]
    k = plan.karpenter
    if k.impacts:
        out += [f"- `{i.object}` {i.change}: **{i.effect}**, {i.detail}" for i in k.impacts]
    else:
        out.append("- No NodePool or EC2NodeClass changes.")
    for entry in k.budgets:
        budgets = "; ".join(", ".join(f"{key} {value}" for key, value in b.items()) for b in entry["budgets"])
        out.append(f"- Replacement of `NodePool/{entry['nodePool']}` is paced by its disruption budgets: {budgets}.")
    if k.version:
        out.append(f"- Karpenter {k.version['from']} -> {k.version['to']}: {k.version['crds']}.")
    out += ["", "### Rendered diff", ""]
    if not plan.files:
        out.append("No change in `rendered/`.")
    for f in plan.files:
        out += [f"<details><summary><code>{f.path}</code> {f.status} (+{f.added} -{f.removed})</summary>", "",
                "```diff", f.diff.rstrip("\n"), "```", "", "</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _cell(value: object) -> str:
    return f"`{_escape(str(value))}`" if value is not None else "(none)"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
