"""values.yaml from one eksgen version to the next: code, one step per version, over ruamel's round trip.

values.yaml is the user's: an update never replaces it with eksgen's new output. Each step renames,
moves, adds or removes keys in the ruamel CommentedMap, so every comment and value the user wrote
stays; a key a step adds takes its doc comment from the new template's values.yaml. After the steps,
two rules that follow the calendar rather than a version run on every update: a Kubernetes minor EKS
no longer runs moves one minor forward, and a Karpenter release eksgen no longer offers (or that does
not support that minor) moves to the newest one that does. The result must pass the new chart's
values.schema.json; what no rule can decide for the user (a cluster name eksctl refuses, say) stops
the update with the key and the reason.

Comments in ruamel: the lines between two keys belong to the entry before them (`ca.items[key][2]`,
the text after the value: the rest of its own line, a newline, then the next key's doc lines); after
a nested block they belong to the block's last entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jsonschema
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from generator import versions
from generator.errors import EksgenError


class MigrationError(EksgenError):
    """values.yaml cannot be migrated without a decision only the user can make."""


@dataclass(frozen=True)
class Step:
    source: str  # the eksgen version whose values.yaml it reads
    target: str  # the version whose values.yaml it writes
    run: Callable[[CommentedMap, CommentedMap], list[str]]  # (user's document, new template's) -> notes


# ---- comment surgery ------------------------------------------------------------------------------------
def _tail(node: object, key: object) -> tuple[object, object]:
    """The (container, key) whose trailing comment follows the entry `node[key]` in the file."""
    value = node[key]  # type: ignore[index]
    if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
        return _tail(value, list(value)[-1])
    if isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
        return _tail(value, len(value) - 1)
    return node, key


def _trailing(node: object, key: object) -> str:
    container, at = _tail(node, key)
    entry = container.ca.items.get(at)  # type: ignore[attr-defined]
    return entry[2].value if entry and len(entry) > 2 and entry[2] is not None else "\n"


def _set_trailing(node: object, key: object, text: str) -> None:
    container, at = _tail(node, key)
    entry = container.ca.items.setdefault(at, [None, None, None, None])  # type: ignore[attr-defined]
    if entry[2] is None:
        entry[2] = CommentToken(text, CommentMark(0), None)
    else:
        entry[2].value = text


def _split(text: str) -> tuple[str, str]:
    """Trailing comment text -> (the rest of the entry's own line, the lines after it)."""
    own, _, after = text.partition("\n")
    return own, after


def doc_lines(text: str, dotted: str) -> str:
    """From trailing comment text, the doc of key `dotted`: from its `# -- dotted` line to the end."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.lstrip().startswith(f"# -- {dotted} "):
            return "".join(lines[index:])
    return ""


def remove_key(mapping: CommentedMap, key: str) -> None:
    """Delete `key` with its doc comment; the doc of the key after it stays where it was."""
    keys = list(mapping)
    index = keys.index(key)
    _own, after = _split(_trailing(mapping, key))
    if index > 0:
        own, _doc = _split(_trailing(mapping, keys[index - 1]))
        _set_trailing(mapping, keys[index - 1], own + "\n" + after)
    del mapping[key]


def add_comment_before(mapping: CommentedMap, key: str, lines: str) -> None:
    """Put comment `lines` (whole lines, indented) right above `key`'s own doc."""
    keys = list(mapping)
    index = keys.index(key)
    if index == 0 or not lines:
        return
    own, after = _split(_trailing(mapping, keys[index - 1]))
    _set_trailing(mapping, keys[index - 1], own + "\n" + lines + after)


def insert_key(mapping: CommentedMap, key: str, value: object, template: CommentedMap, dotted: str) -> None:
    """Add `key` where the new template has it (after the key that precedes it there, when the user still has
    that one; else last), with the doc comment the template gives it."""
    order = list(template)
    before = [k for k in order[: order.index(key)] if k in mapping] if key in order else []
    previous = before[-1] if before else (list(mapping)[-1] if mapping else None)
    position = list(mapping).index(previous) + 1 if previous is not None else 0
    template_keys = list(template)
    doc = ""
    if key in template_keys and template_keys.index(key) > 0:
        doc = doc_lines(_split(_trailing(template, template_keys[template_keys.index(key) - 1]))[1], dotted)
    mapping.insert(position, key, value)
    if previous is None:
        return
    own, after = _split(_trailing(mapping, previous))
    _set_trailing(mapping, previous, own + "\n" + doc)
    _set_trailing(mapping, key, "\n" + after)


# ---- the steps --------------------------------------------------------------------------------------------
# CloudWatch Logs retention periods eksgen 0.1.0 allowed and eksctl refuses (eksctl@v0.230.0:pkg/apis/
# eksctl.io/v1alpha5/cloudwatch.go, LogRetentionInDaysValues): each becomes the next longer one eksctl takes,
# so logs are never kept shorter than the user asked.
_RETENTION_EKSCTL = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)


def _step_0_1_0(document: CommentedMap, template: CommentedMap) -> list[str]:
    notes = []
    vpc = document.get("vpc")
    if isinstance(vpc, CommentedMap):
        removed = [k for k in ("privateSubnets", "publicSubnets") if k in vpc]
        for key in removed:
            remove_key(vpc, key)
        if removed and "natGateway" in vpc and isinstance(template.get("vpc"), CommentedMap):
            new_vpc = template["vpc"]
            keys = list(new_vpc)
            if "natGateway" in keys and keys.index("natGateway") > 0:
                between = _split(_trailing(new_vpc, keys[keys.index("natGateway") - 1]))[1]
                note = between[: len(between) - len(doc_lines(between, "vpc.natGateway"))]
                add_comment_before(vpc, "natGateway", note)
        if removed:
            notes.append(
                f"removed {', '.join('vpc.' + k for k in removed)}: eksctl now plans the zones and subnets from "
                "vpc.cidr (eksctl refused the fixed zones eksgen 0.1.0 wrote)"
            )
    logging = document.get("logging")
    if isinstance(logging, CommentedMap):
        days = logging.get("retentionInDays")
        if isinstance(days, int) and days not in _RETENTION_EKSCTL and days <= _RETENTION_EKSCTL[-1]:
            longer = min(d for d in _RETENTION_EKSCTL if d >= days)
            logging["retentionInDays"] = longer
            notes.append(f"logging.retentionInDays {days} -> {longer}: eksctl does not accept {days} (next longer)")
    return notes


STEPS: tuple[Step, ...] = (Step("0.1.0", "0.2.0", _step_0_1_0),)


def chain(source: str, target: str) -> list[Step]:
    """The steps from `source` to `target`, in order; a MigrationError when there is no such chain."""
    steps: list[Step] = []
    at = source
    while at != target:
        step = next((s for s in STEPS if s.source == at), None)
        if step is None:
            raise MigrationError(f"eksgen {target} has no migration of values.yaml from eksgen {at}")
        steps.append(step)
        at = step.target
    return steps


# ---- rules of the calendar ----------------------------------------------------------------------------
def follow_support(document: CommentedMap) -> list[str]:
    """eksVersion and karpenter.version within what this eksgen offers today, moved forward only."""
    notes = []
    minor = str(document.get("eksVersion", ""))
    release = versions.KUBERNETES.get(minor)
    if release is None or release.support_on(versions.today()) == "ended":
        try:
            major, number = versions.minor_key(minor)
        except ValueError:
            raise MigrationError(f"values.yaml eksVersion {minor!r} is not a Kubernetes minor") from None
        step = f"{major}.{number + 1}"
        offered = versions.KUBERNETES.get(step)
        if offered is None or offered.support_on(versions.today()) == "ended":
            raise MigrationError(
                f"values.yaml eksVersion {minor}: eksgen offers Kubernetes {', '.join(versions.KUBERNETES)}, and EKS "
                f"upgrades one minor at a time, so {minor} cannot move there in one step; upgrade the cluster with the "
                "eksgen that generated it first"
            )
        document["eksVersion"] = type(document["eksVersion"])(step) if isinstance(document["eksVersion"], str) else step
        ended = f" (its extended support ended on {release.end_of_extended_support})" if release else ""
        notes.append(
            f"eksVersion {minor} -> {step}: EKS no longer runs Kubernetes {minor}{ended}; one minor forward, the "
            "step EKS upgrades by"
        )
        minor = step
    karpenter = document.get("karpenter")
    if isinstance(karpenter, CommentedMap):
        current = str(karpenter.get("version", ""))
        pinned = versions.KARPENTER.get(current)
        if pinned is None or not pinned.supports(minor):
            supported = versions.karpenter_versions_for(minor)
            if not supported:
                raise MigrationError(f"no Karpenter release eksgen offers supports Kubernetes {minor}")
            newest = supported[-1]
            value = karpenter["version"]
            karpenter["version"] = type(value)(newest) if isinstance(value, str) else newest
            why = "eksgen no longer offers it" if pinned is None else f"it does not support Kubernetes {minor}"
            notes.append(f"karpenter.version {current} -> {newest}: {why}")
    return notes


def migrate(document: CommentedMap, source: str, target: str, template: CommentedMap, schema: dict) -> list[str]:
    """Migrate the user's values document in place from eksgen `source` to `target`; return what changed.

    `template` is the new version's values.yaml (for doc comments), `schema` its chart's values.schema.json."""
    notes: list[str] = []
    for step in chain(source, target):
        notes += step.run(document, template)
    notes += follow_support(document)
    validator = jsonschema.Draft7Validator(schema)
    problems = [
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in sorted(validator.iter_errors(_plain(document)), key=lambda e: list(map(str, e.absolute_path)))
    ]
    if problems:
        raise MigrationError(
            f"values.yaml migrated to eksgen {target} still breaks its values.schema.json, and only you can choose "
            f"the new value: {'; '.join(problems)}. Fix it on your branch (eksctl refuses these values too) and "
            "run eksgen update again"
        )
    return notes


def _plain(node: object) -> object:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node
