"""The plan as the pull-request comment a reviewer reads first.

Every string that comes from the repository (cluster, node group and tag names, values, file paths, git refs,
the rendered diff) goes through `escape`, so that none of it can hide the rest of the comment (`<!--`), add
links, images or headings, break a table row (`|`, a newline) or leave its code span or code block. GitHub
renders comments as GitHub Flavored Markdown (https://github.github.com/gfm/): backslash escapes do not work
in code spans or HTML blocks, while character references work everywhere but in code spans and code blocks;
code spans end at the next backtick run of their own length, fenced code blocks at the next fence line at
least as long as theirs.
"""

from __future__ import annotations

import shlex

from generator.markdown_text import escape
from generator.plan.model import Plan

MARKER = "<!-- eksgen-plan -->"
_BADGE = {"no-op": "no-op", "in-place": "in place", "disruptive": "DISRUPTIVE", "blocked": "BLOCKED"}
# Characters with a meaning in markdown or HTML anywhere in a line, written as character references.
# ('>' needs no escape once '<' has one; '#', '-', '+', '=' and digits mean something only at the start of a
# line, and no escaped string has a line break.)


# GitHub refuses a comment body over 65,536 characters ("Body is too long (maximum is 65536 characters)",
# REST API: create an issue comment); the diffs share what the plan's other sections leave of it.
DIFF_BUDGET = 50_000


def render(plan: Plan) -> str:
    out = [
        MARKER,
        f"## eksgen plan for {escape(plan.cluster, 'code')}: {_BADGE[plan.kind]}",
        "",
        f"**{escape(plan.summary)}**",
        "",
        f"Base {escape(plan.base, 'code')} -> {escape(plan.head)}.",
        "",
    ]
    if plan.blockers:
        out += ["### Blocking", "", "| field | from | to | why | what to do |", "|---|---|---|---|---|"]
        out += [
            f"| {escape(b.field, 'code')} | {_cell(b.before)} | {_cell(b.after)} | {escape(b.reason)} | "
            f"{escape(b.manual)} |"
            for b in plan.blockers
        ]
        out.append("")
    out += ["### Cluster actions", ""]
    if plan.actions:
        out += ["In this order:", "", "| # | phase | action | command |", "|---|---|---|---|"]
        for i, action in enumerate(plan.actions, 1):
            title = escape(action.title) + (" **(disruptive)**" if action.disruptive else "")
            if action.detail:
                title += f"<br>{escape(action.detail)}"
            out.append(f"| {i} | {escape(action.phase)} | {title} | {escape(shlex.join(action.command), 'code')} |")
    else:
        out.append("None.")
    out += ["", "### Karpenter impact", ""]
    k = plan.karpenter
    if k.impacts:
        out += [
            f"- {escape(i.object, 'code')} {escape(i.change)}: **{escape(i.effect)}**, {escape(i.detail)}"
            for i in k.impacts
        ]
    else:
        out.append("- No NodePool or EC2NodeClass changes.")
    for entry in k.budgets:
        budgets = "; ".join(", ".join(f"{key} {value}" for key, value in b.items()) for b in entry["budgets"])
        out.append(
            f"- Replacement of {escape('NodePool/' + str(entry['nodePool']), 'code')} is paced by its "
            f"disruption budgets: {escape(budgets)}."
        )
    if k.version:
        out.append(
            f"- Karpenter {escape(k.version['from'])} -> {escape(k.version['to'])}: {escape(k.version['crds'])}."
        )
    out += ["", "### Rendered diff", ""]
    if not plan.files:
        out.append("No change in `rendered/`.")
    budget = DIFF_BUDGET
    for f in plan.files:
        fence = escape(f.diff, "block")
        if len(f.diff) > budget:  # the rest of the plan always fits; the diffs fill what is left
            out.append(
                f"- {escape(f.path, 'code')} {escape(f.status)} (+{f.added} -{f.removed}): its diff is left out, "
                "so that this comment stays within GitHub's 65,536 characters; `eksgen plan` shows it."
            )
            continue
        budget -= len(f.diff)
        out += [
            f"<details><summary><code>{escape(f.path)}</code> {escape(f.status)} (+{f.added} -{f.removed})</summary>",
            "",
            fence + "diff",
            f.diff.rstrip("\n"),
            fence,
            "",
            "</details>",
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def _cell(value: object) -> str:
    return escape(str(value), "code") if value is not None else "(none)"
