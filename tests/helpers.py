"""Helpers for tests: load YAML files, and JSON-schema validators for eksctl and Karpenter."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
from ruamel.yaml import YAML

import generator
from generator import versions

GENERATED_FILES = [
    ".eksgen.yaml",
    ".github/CODEOWNERS",
    ".github/actionlint.yaml",
    ".github/pull_request_template.md",
    ".github/workflows/deploy.yml",
    ".github/workflows/destroy.yml",
    ".github/workflows/validate.yml",
    ".gitignore",
    "README.md",
    "charts/eks-complete/.helmignore",
    "charts/eks-complete/Chart.yaml",
    "charts/eks-complete/karpenter-releases.json",
    "charts/eks-complete/templates/_helpers.tpl",
    "charts/eks-complete/templates/cluster-config.yaml",
    "charts/eks-complete/templates/ec2nodeclass.yaml",
    "charts/eks-complete/templates/karpenter-cloudformation.yaml",
    "charts/eks-complete/templates/nodepool.yaml",
    "charts/eks-complete/templates/storageclass.yaml",
    "charts/eks-complete/values.schema.json",
    "eks-accelerator.sh",
    "rendered/cloudformation/karpenter.yaml",
    "rendered/eksctl/cluster.yaml",
    "rendered/manifests/ec2nodeclass.yaml",
    "rendered/manifests/nodepool.yaml",
    "rendered/manifests/storageclass.yaml",
    "toolchain/Dockerfile",
    "toolchain/wheels/README.md",
    f"toolchain/wheels/eksgen-{generator.__version__}-py3-none-any.whl",  # eksgen runs from its source tree
    "values.yaml",
]


def load_yaml(path: Path) -> object:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def load_all_yaml(path: Path) -> list:
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text(encoding="utf-8")) if d]


def tree(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts
    )


def eksctl_validator(schemas: Path) -> jsonschema.Draft7Validator:
    schema = json.loads((schemas / "eksctl" / f"v{versions.EKSCTL_VERSION}" / "schema.json").read_text())
    return jsonschema.Draft7Validator(schema)


def crd_validator(crd_file: Path) -> jsonschema.Draft7Validator:
    """The CRD's served v1 schema as strict JSON schema (unknown fields rejected, as kubeconform -strict)."""
    crd = load_yaml(crd_file)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema = _strict(version["schema"]["openAPIV3Schema"])
    # metadata is checked by the API server, not the CRD schema.
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


def _strict(node: object) -> object:
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        if out.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-int-or-string"):
            out.pop("type", None)
        if node.get("nullable"):
            out.pop("nullable", None)
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def errors(validator: jsonschema.Draft7Validator, instance: object) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def assert_golden(path: Path, text: str) -> None:
    """`text` is the golden file at `path`; UPDATE_GOLDEN=1 writes it. A missing golden file fails."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; UPDATE_GOLDEN=1 writes it"
    assert text == path.read_text(encoding="utf-8"), f"output changed; UPDATE_GOLDEN=1 to accept ({path})"
