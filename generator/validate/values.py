"""The `values` check: values.yaml against the chart's values.schema.json, with line numbers."""

from __future__ import annotations

import json

import jsonschema
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from generator import repofiles
from generator.layout import CHART, VALUES
from generator.validate.context import Context, Document, Finding, dotted, plain

SCHEMA = CHART / "values.schema.json"


def run(ctx: Context) -> list[Finding]:
    try:
        node = repofiles.load_file(ctx.repo / VALUES, ctx.repo, YAML(typ="rt"))
    except repofiles.UnreadableFile as exc:
        return [Finding(str(VALUES), exc.line, exc.cause)]
    try:
        schema = json.loads(repofiles.read_text(ctx.repo, ctx.repo / SCHEMA, symlinks=True))
    except (repofiles.UnreadableFile, json.JSONDecodeError) as exc:
        return [Finding(str(SCHEMA), None, f"cannot read the schema: {exc}")]
    document = Document(str(VALUES), 0, node)
    validator = jsonschema.Draft7Validator(schema)
    findings = []
    for error in sorted(validator.iter_errors(plain(node)), key=lambda e: list(e.absolute_path)):
        findings.extend(_describe(document, error))
    return findings


def schema_errors(node: CommentedMap, schema: dict) -> list[tuple[str, str]]:
    """(dotted path, message) for every way `node` breaks the values schema."""
    document = Document(str(VALUES), 0, node)
    validator = jsonschema.Draft7Validator(schema)
    out = []
    for error in sorted(validator.iter_errors(plain(node)), key=lambda e: list(e.absolute_path)):
        for finding in _describe(document, error):
            path, _, message = finding.message.partition(": ")
            out.append((path, message))
    return out


def _describe(document: Document, error: jsonschema.ValidationError) -> list[Finding]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}) if isinstance(error.schema, dict) else {})
        return [
            Finding(
                document.file,
                document.line(path + [key]),
                f"{dotted(path + [key])}: unknown key (allowed here: {', '.join(sorted(allowed))})",
            )
            for key in error.instance
            if key not in allowed
        ]
    return [Finding(document.file, document.line(path), f"{dotted(path) or '(top)'}: {error.message}")]
