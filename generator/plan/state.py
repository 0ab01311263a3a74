"""The rendered state of a cluster repository at a git ref or in the working tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ruamel.yaml.error import YAMLError

from generator import gitfiles, repofiles, tools
from generator.errors import EksgenError
from generator.layout import RENDERED, VALUES


@dataclass
class State:
    label: str  # "main", "working tree", ...
    files: dict[str, str]  # rendered/ files by path
    values: dict
    documents: dict[tuple[str, str], dict] = field(default_factory=dict)  # (kind, name) -> object

    @property
    def cluster(self) -> dict:
        return self.documents.get(("ClusterConfig", _cluster_name(self)), {}) or next(
            (d for (kind, _), d in self.documents.items() if kind == "ClusterConfig"), {}
        )

    def of_kind(self, kind: str) -> dict[str, dict]:
        return {name: doc for (k, name), doc in self.documents.items() if k == kind}


def _cluster_name(state: State) -> str:
    return str(state.values.get("clusterName", ""))


def empty() -> State:
    """The state before the first deploy: no cluster, nothing rendered."""
    return State("(nothing deployed)", {}, {})


def from_worktree(repo: Path) -> State:
    root = repo / RENDERED
    paths = sorted(p for p in root.rglob("*") if not p.is_dir() or p.is_symlink()) if root.is_dir() else []
    files = {str(p.relative_to(repo)): repofiles.read_text(repo, p) for p in paths}  # never out of the repo
    values_text = repofiles.read_text(repo, repo / VALUES, symlinks=True) if (repo / VALUES).exists() else "{}"
    return _state("working tree", files, values_text)


def from_git(repo: Path, ref: str) -> State:
    git = tools.git()
    if not tools.succeeds([git, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo):
        raise EksgenError(f"--base {ref!r}: not a commit in {repo}")
    blobs = _blobs(git, repo, ref, [str(RENDERED), str(VALUES)])
    values_text = blobs.pop(str(VALUES), "{}")
    return _state(ref, blobs, values_text)


def _blobs(git: str, repo: Path, ref: str, paths: list[str]) -> dict[str, str]:
    """The files under `paths` at `ref`, held to the rules of the working tree's files (a pull request may
    have committed anything): regular files only, at most repofiles.MAX_BYTES each (refused before they
    are read), UTF-8."""
    wanted = []
    for entry in gitfiles.entries(repo, ref, tuple(paths)):
        name = f"{ref}: {entry.path}"
        if entry.kind != "blob" or entry.mode not in ("100644", "100755"):
            raise repofiles.UnreadableFile(name, "is not a regular file (a symlink or a submodule)")
        if (entry.size or 0) > repofiles.MAX_BYTES:
            raise repofiles.UnreadableFile(name, f"is larger than {repofiles.MAX_BYTES} bytes")
        wanted.append(entry)
    return {path: repofiles.decode(blob.data, f"{ref}: {path}") for path, blob in gitfiles.blobs(repo, wanted).items()}


def _state(label: str, files: dict[str, str], values_text: str) -> State:
    try:
        values = repofiles.load_yaml(values_text, f"{label}: {VALUES}") or {}
        documents = {}
        for path, text in files.items():
            # YAML 1.1 with libyaml, as eksctl and kubectl read rendered/ (sigs.k8s.io/yaml)
            for doc in yaml.load_all(repofiles.without_aliases(text, path), Loader=repofiles.FAST_LOADER):
                if isinstance(doc, dict) and doc.get("kind"):
                    name = str((doc.get("metadata") or {}).get("name", ""))
                    documents[(str(doc["kind"]), name)] = doc
    except (YAMLError, yaml.YAMLError) as exc:
        raise EksgenError(f"{label}: rendered/ or values.yaml is not valid YAML: {exc}") from None
    return State(label, files, values if isinstance(values, dict) else {}, documents)
