"""The `kubeconform` check: every rendered manifest against the schema of its kind, offline.

Built-in kinds are checked against the cluster's Kubernetes minor (kubernetes-validate's strict
schemas), custom resources against the repo's pinned Karpenter CRDs converted to strict JSON
schema. kubeconform runs with -strict and never with -ignore-missing-schemas: a kind without a
schema is an error, because a skipped resource would look exactly like a valid one.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT202012

from generator import tools
from generator.layout import RENDERED
from generator.validate import schemacache
from generator.validate.context import Context, Document, Finding, ToolReportError, json_report

MANIFESTS = RENDERED / "manifests"
TIMEOUT = 60  # seconds; a few small files take well under one
# How kubeconform (its jsonschema library) names an unknown field of the object it points at.
_UNKNOWN_FIELD = re.compile(r"additionalProperties '([^']+)'")
# A cause that names only the schema it failed (a $ref), not the reason.
_ONLY_WHERE = "doesn't validate with"


def run(ctx: Context) -> list[Finding]:
    binary = tools.find("kubeconform")
    files = ctx.manifest_files()

    kubernetes_dir = schemacache.kubernetes_schemas(ctx.eks_version)
    crd_files = sorted(ctx.karpenter_crd_dir().glob("*.yaml"))
    custom_dir = schemacache.crd_schemas(crd_files, lambda: ctx.karpenter_crds)
    command = [
        binary,
        "-strict",
        "-summary",
        "-output",
        "json",
        "-schema-location",
        str(kubernetes_dir / schemacache.KUBERNETES_TEMPLATE),
        "-schema-location",
        str(custom_dir / schemacache.CRD_TEMPLATE),
        *files,
    ]
    try:
        report, code, output = json_report("kubeconform", command, ctx.repo, TIMEOUT)
    except ToolReportError as exc:
        return [exc.finding]

    ctx.note("kubeconform", _summary(ctx, report.get("summary") or {}, len(files), custom_dir))
    dirs = (kubernetes_dir, custom_dir)
    findings = [f for resource in report.get("resources") or [] for f in _findings(ctx, resource, dirs)]
    if code != 0 and not findings:
        findings.append(Finding(str(MANIFESTS), None, f"kubeconform exited {code}: {output}"))
    # kubeconform validates files in parallel; report in file order whatever finished first.
    return sorted(findings, key=lambda f: (f.file, f.line or 0))


def _summary(ctx: Context, counts: dict, files: int, custom_dir: Path) -> str:
    checked = sum(int(counts.get(k, 0)) for k in ("valid", "invalid", "errors", "skipped"))
    return (
        f"{checked} resources in {files} files ({counts.get('valid', 0)} valid) against Kubernetes "
        f"{ctx.eks_version} schemas ({schemacache.PACKAGE} {schemacache.package_version()}) and "
        f"{len(list(custom_dir.glob('*.json')))} CRD schemas of Karpenter v{ctx.karpenter_version}"
    )


def _findings(ctx: Context, resource: dict, dirs: tuple[Path, Path]) -> list[Finding]:
    """kubeconform's verdict on one resource: a finding per validation error where it has them."""
    if resource.get("status") not in ("statusInvalid", "statusError"):
        return []
    file, summary = str(resource.get("filename", "")), str(resource.get("msg", ""))
    document = _document(ctx, file, str(resource.get("kind", "")), str(resource.get("name", "")))
    if summary.startswith("could not find schema"):
        summary += (
            f" {resource.get('version', '')}: neither a Kubernetes {ctx.eks_version} kind nor a kind "
            f"of the Karpenter v{ctx.karpenter_version} CRDs"
        )
    errors = resource.get("validationErrors") or []
    if document is None:
        return [Finding(file, None, str(e.get("msg") or summary)) for e in errors] or [Finding(file, None, summary)]
    if not errors:
        return [document.finding([], summary)]
    findings = []
    for error in errors:
        pointer, message = str(error.get("path", "")), str(error.get("msg", ""))
        if not message or message.startswith(_ONLY_WHERE):
            # kubeconform passes on only the top causes; the leaves are what a user can fix.
            explained = explain(_schema_file(dirs, document), document.data, pointer)
            findings += [document.finding(path, text) for path, text in explained]
            if explained:
                continue
            message = summary
        findings.append(document.finding(field_path(document.data, pointer, message), message))
    return findings


def _document(ctx: Context, file: str, kind: str, name: str) -> Document | None:
    in_file = [d for d in ctx.documents if d.file == file]
    matches = [d for d in in_file if d.kind == kind and d.name == name]
    found = matches or [d for d in in_file if d.kind == kind] or in_file
    return found[0] if found else None


def field_path(data: object, pointer: str, message: str) -> list[str | int]:
    """The path a JSON pointer ("/spec/template/0") names in data; list indexes become ints.

    For an unknown field, kubeconform points at the enclosing object and names the field in the
    message ("additionalProperties 'expireAfter' not allowed"); the path then ends at that field.
    """
    path: list[str | int] = []
    node = data
    for raw in pointer.split("/")[1:]:
        part: str | int = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and str(part).isdigit():
            part = int(part)
            node = node[part] if part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        path.append(part)
    unknown = _UNKNOWN_FIELD.match(message)
    if unknown and isinstance(node, dict) and unknown.group(1) in node:
        path.append(unknown.group(1))
    return path


# ---- the detail kubeconform leaves out -----------------------------------------------------
def _schema_file(dirs: tuple[Path, Path], document: Document) -> Path | None:
    """The file kubeconform's templates pick for the document, first directory first."""
    group, _, version = document.api_version.rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    kubernetes_dir, custom_dir = dirs
    for candidate in (
        kubernetes_dir / f"{document.kind.lower()}{suffix.lower()}.json",
        custom_dir / f"{document.kind.lower()}_{version}.json",
    ):
        if candidate.is_file():
            return candidate
    return None


def explain(schema_file: Path | None, instance: Any, pointer: str) -> list[tuple[list, str]]:
    """(path, message) of each error at or under `pointer`, found again with Python's jsonschema.

    An unknown field is worded as kubeconform words it, other errors as jsonschema does.
    """
    if schema_file is None:
        return []
    schema = {**json.loads(schema_file.read_text(encoding="utf-8")), "$id": schema_file.as_uri()}
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator = validator_class(schema, registry=referencing.Registry(retrieve=_retrieve))  # type: ignore[call-arg]  # attrs alias
    prefix = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    found: list[tuple[list, str]] = []
    for error in validator.iter_errors(instance):
        path = list(error.absolute_path)
        if [str(p) for p in path[: len(prefix)]] != prefix:
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}) if isinstance(error.schema, dict) else {})
            found += [
                (path + [key], f"additionalProperties '{key}' not allowed")
                for key in error.instance
                if key not in allowed
            ]
        else:
            found.append((path, error.message))
    return found


def _retrieve(uri: str) -> referencing.Resource:
    """Sibling schema files ("_definitions.json") referenced by a file: URI; never the network."""
    if urllib.parse.urlparse(uri).scheme != "file":
        raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs field
    path = Path(urllib.request.url2pathname(urllib.parse.urlparse(uri).path))
    return referencing.Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), DRAFT202012)
