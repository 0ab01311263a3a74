"""`helm template` on the chart and values.yaml, split into rendered/ by kind.

rendered/eksctl/cluster.yaml holds the eksctl ClusterConfig; rendered/manifests/<kind>.yaml holds
the Kubernetes objects; rendered/cloudformation/karpenter.yaml holds the CloudFormation template of
Karpenter's AWS prerequisites (the document with AWSTemplateFormatVersion). The bytes are helm's own
output, split on document boundaries, so a pull request's diff of rendered/ is exactly what changed.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator import repofiles, tools, transaction
from generator.errors import EksgenError
from generator.layout import CHART, CLOUDFORMATION, CLUSTER_CONFIG, RENDERED, VALUES, manifest
from generator.repofiles import FAST_LOADER

RELEASE = "eks-complete"
# Karpenter's prerequisites (IAM, SQS, EventBridge) as one CloudFormation template.
_DOCUMENT_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Drift:
    path: str  # relative to the repository
    reason: str  # "missing", "changed" or "unexpected"


def values_text(repo: Path) -> str:
    """values.yaml as written (CRLF stays CRLF), read as every command reads it."""
    path = repo / VALUES
    if not os.path.lexists(path):
        raise EksgenError(f"{path}: not found; is {repo} a cluster repository?")
    return repofiles.read_text(repo, path, symlinks=True)


def load_values(repo: Path) -> dict:
    return checked_values(repofiles.load_yaml(values_text(repo), str(VALUES)), repo / VALUES)


def checked_values(data: object, path: Path) -> dict:
    if not isinstance(data, dict):
        raise EksgenError(f"{path}: must be a mapping of keys to values")
    return data


def render(repo: Path, values_text: str | None = None) -> dict[str, str]:
    """The files rendered/ should hold, keyed by path relative to the repository; from
    values.yaml, or from `values_text` (an edit not yet written)."""
    if values_text is None:
        return _helm_template(repo, VALUES, load_values(repo))
    with tempfile.TemporaryDirectory(prefix="eksgen-values-") as tmp:
        path = Path(tmp) / "values.yaml"
        path.write_text(values_text, encoding="utf-8")
        return _helm_template(repo, path, checked_values(repofiles.load_yaml(values_text, str(VALUES)), path))


def _helm_template(repo: Path, values_file: Path, values: dict) -> dict[str, str]:
    _regular_chart(repo)
    kube_version = str(values.get("eksVersion", ""))
    args = [tools.helm(), "template", RELEASE, str(CHART), "--values", str(values_file)]
    if re.fullmatch(r"\d+\.\d+", kube_version):
        args += ["--kube-version", f"v{kube_version}.0"]
    output = tools.run(args, cwd=repo).stdout
    return split_documents(output)


def _regular_chart(repo: Path) -> None:
    """The chart as regular files of the repository: helm follows a symlinked template wherever it points
    and renders what it finds into rendered/ (and so into a pull request's plan)."""
    chart = repo / CHART
    if chart.is_symlink() or not chart.is_dir():
        raise repofiles.UnreadableFile(str(CHART), "must be a directory of the repository, not a symlink")
    for path in sorted(chart.rglob("*")):
        if path.is_symlink() or not (path.is_dir() or path.is_file()):
            what = "a symlink" if path.is_symlink() else "not a regular file"
            raise repofiles.UnreadableFile(str(path.relative_to(repo)), f"is {what}; the chart is read as files only")


def split_documents(output: str) -> dict[str, str]:
    files: dict[str, list[str]] = {}
    for document in _DOCUMENT_SEPARATOR.split(output):
        body = document.strip("\n")
        data = yaml.load(body, Loader=FAST_LOADER) if body else None  # only to read its kind
        if not data:
            continue
        if "AWSTemplateFormatVersion" in data:  # a CloudFormation template, deployed as one stack
            if CLOUDFORMATION in files:
                raise EksgenError(f"helm rendered more than one CloudFormation template for {CLOUDFORMATION}")
            files[CLOUDFORMATION] = [body + "\n"]
            continue
        kind = str(data.get("kind", "")).lower()
        if not kind:
            raise EksgenError(f"helm rendered a document without a kind:\n{body}")
        path = CLUSTER_CONFIG if kind == "clusterconfig" else manifest(kind)
        files.setdefault(path, []).append(body + "\n")
    return {path: "---\n" + "---\n".join(parts) for path, parts in sorted(files.items())}


def write(repo: Path, files: dict[str, str]) -> None:
    """Replace rendered/ with exactly `files`, all at once (generator/transaction.py)."""
    with transaction.locked(repo):
        transaction.commit(repo, {}, rendered=files)


def drift(repo: Path, files: dict[str, str]) -> list[Drift]:
    """How rendered/ on disk differs from `files`."""
    found: list[Drift] = []
    root = repo / RENDERED
    on_disk = {str(p.relative_to(repo)): p for p in sorted(root.rglob("*")) if p.is_file()} if root.is_dir() else {}
    for rel, text in files.items():
        path = on_disk.get(rel)
        if path is None:
            found.append(Drift(rel, "missing"))
        elif path.read_bytes() != text.encode("utf-8"):
            found.append(Drift(rel, "changed"))
    found += [Drift(rel, "unexpected") for rel in on_disk if rel not in files]
    return found
