"""CustomResourceDefinitions as the strict JSON schemas kubeconform reads, one per served version.

The API server validates custom resources with the CRD's OpenAPI v3 schema plus its structural
rules; kubeconform only knows JSON Schema. This module translates the parts that matter offline:
unknown fields are rejected unless the schema preserves them (the server would prune them
silently, which hides typos), int-or-string and nullable become JSON Schema types, and the
object's apiVersion and kind are pinned. CEL rules (x-kubernetes-validations) are the `apiserver`
check's business (kubectl-validate) and are dropped here.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.errors import EksgenError

# Bump when the translation changes: it is part of the cache key of converted schemas.
CONVERTER_VERSION = "1"

# kubeconform compiles with draft-07 semantics when told so; draft 4 (its default) has no `const`.
DRAFT = "http://json-schema.org/draft-07/schema#"

# Keywords that are documentation or Kubernetes-only; JSON Schema has no use for them.
_DROPPED = {"description", "example", "externalDocs", "nullable", "title"}

# Formats whose JSON Schema meaning differs from Kubernetes': "duration" is ISO 8601 ("P1D") for
# JSON Schema but a Go duration ("720h") for the API server, so asserting it rejects valid input.
_UNSAFE_FORMATS = {"duration"}

# Sub-schema keywords: a schema, a list of schemas, or a map of name -> schema.
_SCHEMA_KEYS = {"items", "additionalProperties", "not"}
_SCHEMA_LIST_KEYS = {"allOf", "anyOf", "oneOf"}
_SCHEMA_MAP_KEYS = {"properties", "patternProperties"}

# Kubernetes fills in and checks metadata itself; we type the fields a manifest author writes.
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "generateName": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
    },
}


# kubeconform's -schema-location file template for a directory written by write_crd_schemas.
SCHEMA_TEMPLATE = "{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"


def schema_file_name(kind: str, version: str) -> str:
    """The name SCHEMA_TEMPLATE expands to (kubeconform lowercases the kind)."""
    return f"{kind.lower()}_{version}.json"


def crd_schemas(crd: dict) -> dict[str, dict]:
    """File name -> strict JSON schema, for every served version of one CRD that has a schema."""
    spec = crd.get("spec") or {}
    group, kind = spec.get("group", ""), (spec.get("names") or {}).get("kind", "")
    if not group or not kind:
        name = (crd.get("metadata") or {}).get("name", "?")
        raise EksgenError(f"CustomResourceDefinition {name}: no spec.group or spec.names.kind")
    schemas = {}
    for version in spec.get("versions") or []:
        openapi = (version.get("schema") or {}).get("openAPIV3Schema")
        if not version.get("served", True) or not isinstance(openapi, dict):
            continue  # unserved versions cannot be applied; no schema means none to check
        schemas[schema_file_name(kind, version["name"])] = resource_schema(openapi, group, version["name"], kind)
    return schemas


def resource_schema(openapi: dict, group: str, version: str, kind: str) -> dict:
    """The top-level schema of one version: the converted body with apiVersion, kind, metadata pinned."""
    schema = convert(openapi)
    schema.setdefault("type", "object")
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "const": f"{group}/{version}"}
    properties["kind"] = {"type": "string", "const": kind}
    properties["metadata"] = METADATA
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind"})
    if not openapi.get("x-kubernetes-preserve-unknown-fields"):
        schema["additionalProperties"] = False
    return {"$schema": DRAFT, **schema}


def convert(node: dict) -> dict:
    """One OpenAPI v3 (structural) schema node as strict JSON Schema."""
    out: dict = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-kubernetes-"):
            continue
        if key == "format" and value in _UNSAFE_FORMATS:
            continue
        if key in _SCHEMA_KEYS and isinstance(value, dict):
            out[key] = convert(value)
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [convert(v) for v in value]
        elif key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
            out[key] = {name: convert(v) for name, v in value.items()}
        else:
            out[key] = value

    if node.get("x-kubernetes-int-or-string"):
        # The CRD spells it anyOf integer/string (or nothing); either is accepted, nothing else.
        out.pop("type", None)
        out.pop("anyOf", None)
        out["oneOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("x-kubernetes-embedded-resource") and "properties" in out:
        # An embedded object (a Pod template, say) carries its own apiVersion, kind and metadata.
        for name, schema in (("apiVersion", {"type": "string"}), ("kind", {"type": "string"}), ("metadata", METADATA)):
            out["properties"].setdefault(name, schema)
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False  # kubeconform -strict: an unknown field is an error
    if node.get("nullable"):
        _allow_null(out)
    return out


def _allow_null(schema: dict) -> None:
    if "oneOf" in schema and "type" not in schema:
        schema["oneOf"] = [*schema["oneOf"], {"type": "null"}]
    elif isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]


def write_crd_schemas(crds: list[dict], target_dir: Path) -> list[Path]:
    """Write every served version of every CRD as `{kind}_{version}.json` into target_dir."""
    target_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for crd in crds:
        for name, schema in crd_schemas(crd).items():
            path = target_dir / name
            if path in written:  # the file template has no group, so a kind must be unique per version
                raise EksgenError(f"two CustomResourceDefinitions define {name.removesuffix('.json')}")
            path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            written.append(path)
    return written
