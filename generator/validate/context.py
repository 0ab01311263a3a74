"""What the checks share: the repository, where schemas come from, and parsed files (once).

Schemas are local files. Their root directory (`--schemas DIR`, `$EKSGEN_SCHEMAS`, or by default
the upstream files shipped inside the package, see generator/schemas/PROVENANCE.json) has the layout

    eksctl/v<eksctl version>/schema.json
    karpenter/v<karpenter version>/crds/*.yaml

Karpenter CRDs may instead come from the upstream repository at the pinned tag (`--crds
upstream`, online only; cached). Kubernetes schemas come from the kubernetes-validate package.
A missing schema is an error, never a skipped check.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from generator import repofiles, resources, tools, transaction, versions
from generator.errors import EksgenError, ToolTimeoutError
from generator.layout import RENDERED, VALUES
from generator.render import load_values
from generator.repofiles import FAST_LOADER

UPSTREAM = "upstream"
_UPSTREAM_LIST = "https://api.github.com/repos/aws/karpenter-provider-aws/contents/pkg/apis/crds?ref=v{version}"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    message: str
    severity: str = "error"  # or "warning"
    rule: str | None = None  # policy rule id, CEL rule, ... when there is one

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Document:
    """One YAML document of a rendered file, with line numbers for any path inside it."""

    file: str  # relative to the repository
    index: int  # position in the file
    node: CommentedMap

    @cached_property
    def data(self) -> dict:
        data = plain(self.node)
        return data if isinstance(data, dict) else {}

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def api_version(self) -> str:
        return str(self.data.get("apiVersion", ""))

    @property
    def name(self) -> str:
        return str((self.data.get("metadata") or {}).get("name", ""))

    def line(self, path: list | tuple = ()) -> int | None:
        """1-based line of the node at `path` (or its nearest ancestor that exists)."""
        node, line = self.node, (self.node.lc.line or 0) + 1
        for part in path:
            try:
                if isinstance(node, CommentedMap) and part in node:
                    line = node.lc.key(part)[0] + 1
                elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                    line = node.lc.item(part)[0] + 1
                else:
                    break
            except (KeyError, IndexError, TypeError):  # added in memory (eksgen set): no line yet
                break
            node = node[part]
        return line

    def finding(self, path: list | tuple, message: str, **kwargs) -> Finding:
        where = dotted(path)
        subject = f"{self.kind}/{self.name}"
        text = f"{subject} {where}: {message}" if where else f"{subject}: {message}"
        return Finding(self.file, self.line(path), text, **kwargs)


@dataclass
class Context:
    repo: Path
    schemas: Path | None = None  # root of local schema files; None: $EKSGEN_SCHEMAS or the packaged ones
    crds: str | None = None  # a directory of CRD files, or "upstream"; None: <schemas>/karpenter
    notes: dict[str, list[str]] = field(default_factory=dict)  # per check: what was checked
    # Checks run in threads: the lock makes the CRDs resolve, download and parse once.
    _crd_dirs: dict[str, Path] = field(default_factory=dict, repr=False)
    _crds: list[dict] | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        if self.repo.is_dir():
            transaction.recover(self.repo)  # a change a killed eksgen left half-applied is finished first

    def note(self, check: str, text: str) -> None:
        self.notes.setdefault(check, []).append(text)

    # ---- values and rendered files -------------------------------------------------------
    @cached_property
    def values(self) -> dict:
        return load_values(self.repo)

    @cached_property
    def documents(self) -> list[Document]:
        docs: list[Document] = []
        root = self.repo / RENDERED
        if not root.is_dir():
            raise EksgenError(f"{root}: not found; run ./eks-accelerator.sh render")
        loader = YAML(typ="rt")
        # The checks read the ClusterConfig and the Kubernetes objects, not rendered/cloudformation.
        for path in sorted([*root.glob("eksctl/*.yaml"), *root.glob("manifests/*.yaml")]):
            rel = str(path.relative_to(self.repo))
            try:
                loaded = list(loader.load_all(repofiles.without_aliases(repofiles.read_text(self.repo, path), rel)))
            except YAMLError as exc:
                raise EksgenError(f"{rel}: not valid YAML: {exc}") from None
            docs += [Document(rel, i, d) for i, d in enumerate(loaded) if isinstance(d, CommentedMap)]
        return docs

    def manifest_files(self) -> list[str]:
        """rendered/manifests/*.yaml, relative to the repository; an error when there is none."""
        paths = sorted((self.repo / RENDERED / "manifests").rglob("*.yaml"))
        for path in paths:  # the tools are given only regular files of the repository
            repofiles.check(self.repo, path)
        files = [str(p.relative_to(self.repo)) for p in paths]
        if not files:
            raise EksgenError("rendered/manifests: no manifests to validate; run ./eks-accelerator.sh render")
        return files

    @property
    def cluster_config(self) -> Document | None:
        return next((d for d in self.documents if d.kind == "ClusterConfig"), None)

    @property
    def manifests(self) -> list[Document]:
        return [d for d in self.documents if d.kind != "ClusterConfig"]

    @property
    def eks_version(self) -> str:
        return str(self.values.get("eksVersion", ""))

    @property
    def karpenter_version(self) -> str:
        return str((self.values.get("karpenter") or {}).get("version", ""))

    # ---- schema files --------------------------------------------------------------------
    @cached_property
    def schema_root(self) -> Path:
        return resources.schema_root(self.schemas)

    @cached_property
    def eksctl_schema(self) -> dict:
        path = self.schema_root / "eksctl" / f"v{versions.EKSCTL_VERSION}" / "schema.json"
        if not path.is_file():
            raise EksgenError(f"eksctl schema not found at {path} (`eksctl utils schema` prints it)")
        return json.loads(path.read_text(encoding="utf-8"))

    def karpenter_crd_dir(self, version: str | None = None) -> Path:
        """The directory of the CRD files of a Karpenter release (default: the repo's)."""
        version = version or self.karpenter_version
        with self._lock:
            if version not in self._crd_dirs:
                self._crd_dirs[version] = self._find_crd_dir(version)
            return self._crd_dirs[version]

    def _find_crd_dir(self, version: str) -> Path:
        if self.crds == UPSTREAM:
            return _fetch_upstream_crds(version)
        if self.crds:
            candidates = [Path(self.crds) / f"v{version}" / "crds", Path(self.crds)]
        else:
            candidates = [self.schema_root / "karpenter" / f"v{version}" / "crds"]
        for candidate in candidates:
            if candidate.is_dir() and any(candidate.glob("*.yaml")):
                return candidate
        raise EksgenError(f"Karpenter v{version} CRDs not found at {candidates[0]}")

    @property
    def karpenter_crds(self) -> list[dict]:
        """The repo's Karpenter CRDs, parsed once (with libyaml: large, and no line numbers needed)."""
        with self._lock:
            if self._crds is None:
                self._crds = self._load_crds()
            return self._crds

    def _load_crds(self) -> list[dict]:
        crds = []
        for path in sorted(self.karpenter_crd_dir().glob("*.yaml")):
            crd = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)
            if isinstance(crd, dict) and crd.get("kind") == "CustomResourceDefinition":
                crds.append(crd)
        if not crds:
            raise EksgenError(f"no CustomResourceDefinition in {self.karpenter_crd_dir()}")
        return crds


def _fetch_upstream_crds(version: str) -> Path:
    """Karpenter's CRDs at the release tag, downloaded once into the schema cache."""
    from generator.validate.schemacache import cached_dir

    def download(target: Path) -> None:
        try:
            listing_url = os.environ.get("EKSGEN_CRDS_UPSTREAM_URL", _UPSTREAM_LIST)  # a mirror, or tests
            with urllib.request.urlopen(listing_url.format(version=version), timeout=20) as response:
                listing = json.load(response)
            for entry in listing:
                if entry["name"].endswith(".yaml"):
                    with urllib.request.urlopen(entry["download_url"], timeout=20) as response:
                        (target / entry["name"]).write_bytes(response.read())
        except (OSError, ValueError, KeyError) as exc:
            raise EksgenError(f"cannot download Karpenter v{version} CRDs ({exc}); offline, use --crds DIR") from None

    return cached_dir(f"karpenter-upstream/v{version}", download)


def dotted(path: list | tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def plain(node: object) -> object:
    """ruamel's round-trip types as plain JSON types."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


__all__ = ["Context", "Document", "Finding", "VALUES", "dotted", "plain"]


class ToolReportError(Exception):
    """A validator that did not finish or printed no JSON report; `finding` says which and why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def json_report(name: str, command: list[str], repo: Path, timeout: float) -> tuple[Any, int, str]:
    """Run a validator that prints a JSON report (kubeconform, kubectl-validate) in the repository, so it
    names files as the repository does; its report, exit code and output, or a ToolReportError."""
    try:
        done = tools.capture(command, cwd=repo, timeout=timeout)
    except ToolTimeoutError:
        raise ToolReportError(
            Finding(str(RENDERED / "manifests"), None, f"{name} did not finish within {timeout:.0f}s")
        ) from None
    output = (done.stderr or done.stdout).strip()
    try:
        return json.loads(done.stdout), done.returncode, output
    except json.JSONDecodeError:
        message = f"{name} failed: {output or f'exit status {done.returncode}'}"
        raise ToolReportError(Finding(str(RENDERED / "manifests"), None, message)) from None
