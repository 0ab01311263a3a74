"""The schema directories kubeconform reads, prepared once per input and kept in the user's cache.

Two kinds, each in a directory named by everything its content depends on, so a warm run only
checks that the directory exists:

    kubernetes/<kubernetes-validate version>/v<minor>-strict/   built-in kinds, refs made relative
    crds/<hash of the CRD files and the converter>/              Karpenter's CRDs as JSON schema

A directory is filled under a temporary name and renamed into place, so an interrupted or
concurrent run never leaves a half-written one that later runs would trust.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from generator.errors import EksgenError
from generator.validate import crdschema

PACKAGE = "kubernetes-validate"
# kubeconform's -schema-location file template for a kubernetes-validate schema directory.
KUBERNETES_TEMPLATE = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
CRD_TEMPLATE = crdschema.SCHEMA_TEMPLATE


def cache_root() -> Path:
    if os.environ.get("EKSGEN_CACHE"):
        return Path(os.environ["EKSGEN_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eksgen"


def cached_dir(key: str, fill: Callable[[Path], object]) -> Path:
    """<cache>/<key>, created by `fill(empty_dir)` unless a previous run already did."""
    target = cache_root() / key
    if target.is_dir():
        return target
    staging = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        fill(staging)
        staging.rename(target)
    except OSError as exc:
        if target.is_dir():
            return target  # a concurrent run renamed its copy first; both are the same content
        raise EksgenError(f"cannot write the schema cache {target}: {exc} (set EKSGEN_CACHE to move it)") from None
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


# ---- Kubernetes built-in kinds -----------------------------------------------------------
def kubernetes_schemas(minor: str) -> Path:
    """The strict schemas of a Kubernetes minor ("1.31"), as a directory kubeconform can read."""
    if not re.fullmatch(r"\d+\.\d+", minor):
        raise EksgenError(f"eksVersion {minor!r} in values.yaml is not a Kubernetes minor version like 1.31")
    version = package_version()
    return cached_dir(f"kubernetes/{version}/v{minor}-strict", lambda target: _copy_rewritten(minor, version, target))


def package_version() -> str:
    """The installed kubernetes-validate release, whose schemas we use."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise EksgenError(f"the Python package {PACKAGE} is not installed; `make setup` installs it") from None


def _copy_rewritten(minor: str, version: str, target: Path) -> None:
    source = _package_schemas() / f"v{minor}.0-local-strict"
    if not source.is_dir():
        known = sorted(p.name.split("-")[0] for p in source.parent.glob("v*-local-strict"))
        raise EksgenError(f"{PACKAGE} {version} has no schemas for Kubernetes {minor} (it has {', '.join(known)})")
    for path in source.glob("*.json"):
        schema = rewrite_refs(json.loads(path.read_text(encoding="utf-8")))
        (target / path.name).write_text(json.dumps(schema), encoding="utf-8")


def _package_schemas() -> Path:
    # Located without importing the package, which would pull in its own validator stack.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise EksgenError(f"the Python package {PACKAGE} is not installed; `make setup` installs it")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def rewrite_refs(schema: dict) -> dict:
    """A kubernetes-validate schema whose refs resolve to sibling files of wherever it is written.

    Its refs are absolute paths under its `$id` ("https://kubernetes.io/api/..."); kubeconform
    would fetch those over the network. Without the `$id`, a ref relative to the file itself
    ("_definitions.json#/$defs/...") resolves on disk.
    """
    return {key: _rewrite(value) for key, value in schema.items() if key != "$id"}


def _rewrite(node: object) -> object:
    if isinstance(node, dict):
        out = {key: _rewrite(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("/"):  # not a property named "$ref"
            path, hash_sign, fragment = ref.partition("#")
            out["$ref"] = posixpath.basename(path) + hash_sign + fragment
        return out
    if isinstance(node, list):
        return [_rewrite(value) for value in node]
    return node


# ---- custom resources --------------------------------------------------------------------
def crd_schemas(crd_files: list[Path], load: Callable[[], list[dict]]) -> Path:
    """The converted schemas of the CRDs in crd_files; `load()` parses them, only on a cache miss."""
    digest = hashlib.sha256(f"converter {crdschema.CONVERTER_VERSION}\0".encode())
    for path in sorted(crd_files):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return cached_dir(f"crds/{digest.hexdigest()[:24]}", lambda target: crdschema.write_crd_schemas(load(), target))
