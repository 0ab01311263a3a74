"""`eksgen set KEY=VALUE…`: edit values.yaml in place, keeping its comments, key order and layout.

Each edit is checked against the chart's values.schema.json and rendered with helm before
anything is written; then values.yaml and rendered/ are replaced together. A bad key or value
leaves both byte for byte as they were.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from generator import render, repofiles, rules, transaction, versions
from generator.errors import AnswerError
from generator.layout import VALUES
from generator.validate.context import dotted
from generator.validate.values import read_schema, schema_errors
from generator.yamlfmt import values_round_trip

MAX_VALUE = 64 * 1024  # characters of one VALUE; values.yaml's longest strings are a few hundred
_SEGMENT = re.compile(r"([A-Za-z0-9_-]+)((?:\[\d+\])*)")


@dataclass(frozen=True)
class Assignment:
    text: str  # as typed, for messages
    path: tuple[str | int, ...]
    raw: str  # the value as typed


def parse_assignment(text: str) -> Assignment:
    key, sep, raw = text.partition("=")
    path: list[str | int] = []
    for segment in key.split("."):
        match = _SEGMENT.fullmatch(segment)
        if not sep or not match:
            raise AnswerError(
                "KEY",
                key or text,
                "must be KEY=VALUE with a dotted key such as karpenter.nodePool.limits.cpu or addons[0].version",
            )
        path.append(match.group(1))
        path.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return Assignment(text, tuple(path), raw)


def set_values(repo: Path, assignments: list[str]) -> list[str]:
    """Apply the assignments; return the changed keys. Raises before writing anything.

    values.yaml, rendered/ and the toolchain Dockerfile change together or not at all, and runs on
    the same repository wait for each other, so no edit is lost (generator/transaction.py)."""
    with transaction.locked(repo):
        return _set_values(repo, assignments)


def _set_values(repo: Path, assignments: list[str]) -> list[str]:
    values_path = repo / VALUES
    yaml = values_round_trip()
    original = render.values_text(repo)
    document = repofiles.load_yaml(original, str(VALUES), yaml)
    render.checked_values(document, values_path)
    schema = read_schema(repo)
    changed = []
    for text in assignments:
        assignment = parse_assignment(text)
        value = _typed(assignment, _schema_at(schema, assignment.path))
        _assign(document, assignment, value)
        changed.append(dotted(list(assignment.path)))
    errors = schema_errors(document, schema)
    if errors:
        raise AnswerError("KEY=VALUE", " ".join(assignments), "; ".join(f"{path}: {msg}" for path, msg in errors))
    rules.check_values(document)  # what `eksgen new` refuses, `set` refuses too (private CIDR, AWS's tag rules)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    updated = buffer.getvalue()
    files = render.render(repo, values_text=updated)  # helm must accept it too
    if "\r\n" in original:  # keep the user's line endings
        updated = updated.replace("\r\n", "\n").replace("\n", "\r\n")
    changes = {VALUES: updated}
    dockerfile = _toolchain_for(repo, str(document.get("eksVersion", "")))
    if dockerfile is not None:
        changes[TOOLCHAIN_DOCKERFILE] = dockerfile
    transaction.commit(repo, changes, rendered=files)
    return changed


TOOLCHAIN_DOCKERFILE = Path("toolchain", "Dockerfile")
_KUBECTL_ARG = re.compile(r"^ARG KUBECTL_VERSION=v(\S+)$", re.MULTILINE)


def _toolchain_for(repo: Path, minor: str) -> str | None:
    """The toolchain Dockerfile with kubectl at the pin of `minor`, or None when it has it already.

    kubectl supports one minor of skew either side (the deploy's preflight refuses more), so the
    image's kubectl follows the cluster's minor whenever eksVersion changes."""
    path = repo / TOOLCHAIN_DOCKERFILE
    release = versions.KUBERNETES.get(minor)
    if release is None or not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    match = _KUBECTL_ARG.search(text)
    if match is None or match.group(1) == release.kubectl:
        return None
    return text[: match.start(1)] + release.kubectl + text[match.end(1) :]


def _schema_at(schema: dict, path: tuple[str | int, ...]) -> dict:
    node: dict = schema
    for part in path:
        node = _resolve(schema, node)
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            extra = node.get("additionalProperties")
            node = node.get("properties", {}).get(part) or (extra if isinstance(extra, dict) else {})
    return _resolve(schema, node)


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref", "")
    if ref.startswith("#/definitions/"):
        return schema["definitions"][ref.removeprefix("#/definitions/")]
    return node


def _typed(assignment: Assignment, schema: dict) -> object:
    """The value as YAML reads it, but kept as typed where the schema wants a string
    (so limits.cpu=2000 and eksVersion=1.32 stay the strings "2000" and "1.32")."""
    key = dotted(list(assignment.path))
    if len(assignment.raw) > MAX_VALUE:
        raise AnswerError(key, assignment.raw[:40] + "...", f"is {len(assignment.raw)} characters; at most {MAX_VALUE}")
    try:
        for event in YAML(typ="safe", pure=True).parse(assignment.raw):
            if getattr(event, "anchor", None) is not None:  # &a or *a: quote the value to mean the text
                raise AnswerError(key, assignment.raw, "YAML anchors and aliases are not values; quote it for text")
        value = repofiles.load_yaml(assignment.raw, key) if assignment.raw.strip() else ""
    except YAMLError as exc:
        raise AnswerError(key, assignment.raw, f"not a YAML value: {exc}") from None
    except repofiles.UnreadableFile as exc:
        raise AnswerError(key, assignment.raw, exc.cause.replace("not valid YAML", "not a YAML value")) from None
    if schema.get("type") == "string" and not isinstance(value, str) and not isinstance(value, (list, dict)):
        return assignment.raw
    return value


def _styled(value: object) -> object:
    """Strings double-quoted (YAML 1.1 readers must not see `yes` as a boolean), collections
    in flow style as the generator writes them."""
    if isinstance(value, str):
        return DoubleQuotedScalarString(value)
    if isinstance(value, list):
        seq = CommentedSeq(_styled(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict):
        mapping = CommentedMap((DoubleQuotedScalarString(str(k)), _styled(v)) for k, v in value.items())
        mapping.fa.set_flow_style()
        return mapping
    return value


def _assign(document: object, assignment: Assignment, value: object) -> None:
    node = document
    where = ""
    for part in assignment.path[:-1]:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise AnswerError("KEY", where, "no such list item in values.yaml")
            node = node[part]
        else:
            if not isinstance(node, CommentedMap):  # the round trip loads every mapping as one
                raise AnswerError("KEY", where, "is not a mapping in values.yaml")
            if part not in node:
                _put(node, part, CommentedMap())
            node = node[part]
    last = assignment.path[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last > len(node):
            raise AnswerError("KEY", ".".join(map(str, assignment.path)), "no such list item in values.yaml")
        if last == len(node):
            node.append(_styled(value))
        else:
            node[last] = _styled(value)
    else:
        if not isinstance(node, CommentedMap):
            raise AnswerError("KEY", ".".join(map(str, assignment.path)), "its parent is not a mapping")
        _put(node, last, _styled(value))


def _yaml11_safe(key: str) -> str:
    """A new key as written: quoted when a YAML 1.1 reader (helm, PyYAML) would read it as something
    else than this string (yes, on, no, off, null, 0123, 1e3, ...), so that no key turns into another."""
    try:
        plain = pyyaml.safe_load(key)
    except pyyaml.YAMLError:
        plain = None
    return key if plain == key else DoubleQuotedScalarString(key)


def _put(mapping: CommentedMap, key: str, value: object) -> None:
    """Set a key; a new last key takes over the comment or blank line that followed the old
    last key, so it lands inside its block rather than after the gap."""
    if key not in mapping:
        key = _yaml11_safe(key)
    if key in mapping or not mapping:
        mapping[key] = value
        return
    last = list(mapping)[-1]
    trailing = mapping.ca.items.pop(last, None)
    mapping[key] = value
    if trailing is not None:
        mapping.ca.items[key] = trailing
