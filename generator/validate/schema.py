"""The `values` check: values.yaml against the chart's values.schema.json, with line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from generator.render import CHART, VALUES
from generator.validate import Finding

SCHEMA = CHART / "values.schema.json"


def run(repo: Path) -> list[Finding]:
    try:
        document = YAML(typ="rt").load((repo / VALUES).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [Finding(str(VALUES), None, "not found")]
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [Finding(str(VALUES), mark.line + 1 if mark else None, f"not valid YAML: {exc}")]
    try:
        schema = json.loads((repo / SCHEMA).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        return [Finding(str(SCHEMA), None, f"cannot read the schema: {exc}")]
    validator = jsonschema.Draft7Validator(schema)
    findings = []
    for error in sorted(validator.iter_errors(_plain(document)), key=lambda e: list(e.path)):
        findings.extend(_describe(document, error))
    return findings


def _describe(document: object, error: jsonschema.ValidationError) -> list[Finding]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        return [
            Finding(
                str(VALUES),
                _line(document, path + [key]),
                f"{_dotted(path + [key])}: unknown key (allowed here: {', '.join(sorted(allowed))})",
            )
            for key in extras
        ]
    return [Finding(str(VALUES), _line(document, path), f"{_dotted(path) or '(top)'}: {error.message}")]


def _dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line(document: object, path: list) -> int | None:
    """1-based line of the node at `path` (or of its nearest ancestor)."""
    node, line = document, None
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _plain(node: object) -> object:
    """ruamel's round-trip types as plain JSON types, for jsonschema."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)
