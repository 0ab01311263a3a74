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

import re
import shlex

from generator.plan.model import Plan

MARKER = "<!-- eksgen-plan -->"
_BADGE = {"no-op": "no-op", "in-place": "in place", "disruptive": "DISRUPTIVE", "blocked": "BLOCKED"}
# Characters with a meaning in markdown or HTML anywhere in a line, written as character references.
# ('>' needs no escape once '<' has one; '#', '-', '+', '=' and digits mean something only at the start of a
# line, and no escaped string has a line break.)
_SIGNIFICANT = {c: f"&#{ord(c)};" for c in "&<\\`*_[]~|!"}
_BACKTICKS = re.compile("`+")


def render(plan: Plan) -> str:
    out = [MARKER, f"## eksgen plan for {escape(plan.cluster, 'code')}: {_BADGE[plan.kind]}", "",
           f"**{escape(plan.summary)}**", "", f"Base {escape(plan.base, 'code')} -> {escape(plan.head)}.", ""]
    if plan.blockers:
        out += ["### Blocking", "", "| field | from | to | why | what to do |", "|---|---|---|---|---|"]
        out += [f"| {escape(b.field, 'code')} | {_cell(b.before)} | {_cell(b.after)} | {escape(b.reason)} | "
                f"{escape(b.manual)} |" for b in plan.blockers]
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
        out += [f"- {escape(i.object, 'code')} {escape(i.change)}: **{escape(i.effect)}**, {escape(i.detail)}"
                for i in k.impacts]
    else:
        out.append("- No NodePool or EC2NodeClass changes.")
    for entry in k.budgets:
        budgets = "; ".join(", ".join(f"{key} {value}" for key, value in b.items()) for b in entry["budgets"])
        out.append(f"- Replacement of {escape('NodePool/' + str(entry['nodePool']), 'code')} is paced by its "
                   f"disruption budgets: {escape(budgets)}.")
    if k.version:
        out.append(f"- Karpenter {escape(k.version['from'])} -> {escape(k.version['to'])}: "
                   f"{escape(k.version['crds'])}.")
    out += ["", "### Rendered diff", ""]
    if not plan.files:
        out.append("No change in `rendered/`.")
    for f in plan.files:
        fence = escape(f.diff, "block")
        out += [f"<details><summary><code>{escape(f.path)}</code> {escape(f.status)} (+{f.added} -{f.removed})"
                "</summary>", "", fence + "diff", f.diff.rstrip("\n"), fence, "", "</details>", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _cell(value: object) -> str:
    return escape(str(value), "code") if value is not None else "(none)"


def escape(value: object, how: str = "text") -> str:
    """A repository's string, safe to put in the comment.

    - "text" (the default): for running text, table cells and HTML blocks. Control and other invisible
      characters are shown as Python escapes (`\\n`, `\\x1b`, `\\u202e`), so nothing starts a new line;
      `& < \\ ` * _ [ ] ~ | !` become character references, so nothing is a tag, comment, link, image, code
      span, emphasis or table column.
    - "code": the same string as code. A backtick code span when that is safe (no backtick, no '|', which
      would end a table cell even inside a code span, no space at either end, which a span drops); otherwise
      `<code>` with the "text" escapes, which are decoded there as in text.
    - "block": not the text but the fence for a fenced code block holding it: a backtick run longer than any
      in the text (at least three), so that no line of the text closes the block.
    """
    text = str(value)
    if how == "block":
        return "`" * max(3, 1 + max((len(run) for run in _BACKTICKS.findall(text)), default=0))
    visible = "".join(c if c.isprintable() else _python_escape(c) for c in text)
    if how == "code":
        if visible and not any(c in visible for c in "`|") and visible == visible.strip(" "):
            return f"`{visible}`"
        return f"<code>{escape(visible)}</code>"
    if how != "text":
        raise ValueError(f"unknown escape {how!r}")
    return "".join(_SIGNIFICANT.get(c, c) for c in visible)


def _python_escape(char: str) -> str:
    """A character as Python writes it in a string literal: \\n, \\t, \\x1b, \\u202e, \\U000e0001."""
    return repr(char)[1:-1]
