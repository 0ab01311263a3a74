"""The `values` check: values.yaml against the chart's values.schema.json, with line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import referencing.exceptions
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from generator import repofiles
from generator.layout import CHART, VALUES
from generator.validate.context import Context, Document, Finding, dotted, plain

SCHEMA = CHART / "values.schema.json"


def read_schema(repo: Path) -> dict:
    """The repository's values schema, which a pull request may change: read bounded, and refused with
    its name when it is not a JSON object a validator can use (nesting too deep for the parser, say)."""
    try:
        schema = json.loads(repofiles.read_text(repo, repo / SCHEMA, symlinks=True))
    except (json.JSONDecodeError, RecursionError) as exc:
        cause = "nests too deeply" if isinstance(exc, RecursionError) else f"not valid JSON: {exc}"
        raise repofiles.UnreadableFile(str(SCHEMA), cause) from None
    if not isinstance(schema, dict):
        raise repofiles.UnreadableFile(str(SCHEMA), "is not a JSON object")
    return schema


def _errors(schema: dict, instance: object) -> list[jsonschema.ValidationError]:
    """Every way `instance` breaks `schema`, or an error naming the schema when the schema itself cannot be
    used: a reference that leads nowhere or to itself, a schema jsonschema refuses."""
    try:
        jsonschema.Draft7Validator.check_schema(schema)
        return sorted(jsonschema.Draft7Validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    except jsonschema.SchemaError as exc:
        raise repofiles.UnreadableFile(str(SCHEMA), f"is not a valid JSON schema: {exc.message}") from None
    except (RecursionError, referencing.exceptions.Unresolvable) as exc:
        cause = (
            "refers to itself without end"
            if isinstance(exc, RecursionError)
            else f"has a reference that leads nowhere ({exc})"
        )
        raise repofiles.UnreadableFile(str(SCHEMA), cause) from None


def run(ctx: Context) -> list[Finding]:
    try:
        node = repofiles.load_file(ctx.repo / VALUES, ctx.repo, YAML(typ="rt"))
    except repofiles.UnreadableFile as exc:
        return [Finding(str(VALUES), exc.line, exc.cause)]
    try:
        errors = _errors(read_schema(ctx.repo), plain(node))
    except repofiles.UnreadableFile as exc:
        return [Finding(str(SCHEMA), None, f"cannot use the schema: {exc.cause}")]
    document = Document(str(VALUES), 0, node)
    return [finding for error in errors for finding in _describe(document, error)]


def schema_errors(node: CommentedMap, schema: dict) -> list[tuple[str, str]]:
    """(dotted path, message) for every way `node` breaks the values schema."""
    document = Document(str(VALUES), 0, node)
    out = []
    for error in _errors(schema, plain(node)):
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
