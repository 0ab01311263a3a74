"""`eksgen update`: bring a cluster repository to this eksgen, keeping what its owners changed.

Three trees meet (see merge.py): the base, eksgen's own output of the version the repository records,
read from its history (the root commit for eksgen 0.1.0, else the newest commit with the trailer named
in .eksgen.yaml); ours, HEAD; theirs, what `eksgen new` makes now from the recorded answers (built
with repotemplate.build, with the cluster's current Kubernetes and Karpenter versions). values.yaml is
migrated by code (migrations.py), rendered/ is rendered from it, and .eksgen.yaml and the toolchain
image (Dockerfile, wheels) are eksgen's own, regenerated.

The result is the branch eksgen-update-VERSION with one merge commit: its first parent is HEAD, its
second a commit of theirs on top of the base (the trailer marks it, so the next update finds it).
The work happens in a `git worktree` beside the repository, so the checkout is never touched; on a
conflict that worktree stays, with the merge in progress and the markers in the files.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

import generator
from generator import render, repofiles, repotemplate, toolchain, transaction
from generator.answers import Answers
from generator.errors import AnswerError, EksgenError
from generator.gitfiles import Blob
from generator.layout import CHART
from generator.update import gitrepo, merge, migrations
from generator.yamlfmt import values_round_trip

RECORD = ".eksgen.yaml"
VALUES = "values.yaml"
# eksgen's own files: what `eksgen new` makes now, never merged.
REGENERATED = (RECORD, "toolchain/Dockerfile")
REGENERATED_DIRS = ("toolchain/wheels/",)


# What an update from a version must tell beyond its file changes.
NOTICES = {
    "0.1.0": "eksctl refused every ClusterConfig eksgen 0.1.0 rendered, so no cluster was created from this "
    "repository's main: `eksgen plan --base main` lists what a running cluster could not take (zones, subnets, "
    "boundaries), while the deploy plans from the commit deployed on the cluster (none) and creates it",
}


class UpdateConflict(EksgenError):
    """The merge left conflicts (listed); nothing was committed."""


@dataclass
class Outcome:
    repo: Path
    source: str
    target: str
    changes: list[merge.FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    branch: str | None = None
    commit: str | None = None
    worktree: Path | None = None  # left behind for the user to resolve conflicts in
    dry_run: bool = False

    @property
    def conflicts(self) -> list[str]:
        return [c.path for c in self.changes if c.action == merge.CONFLICT]

    @property
    def status(self) -> str:
        if not self.changes:
            return "up-to-date"
        if self.conflicts:
            return "conflict"
        return "would-update" if self.dry_run else "updated"

    def lines(self) -> list[str]:
        if not self.changes:
            return [f"{self.repo}: already up to date with eksgen {self.target}; nothing to do"]
        head = "would change" if self.dry_run else "changes"
        out = [f"{self.repo}: eksgen {self.source} -> {self.target}, {head}:"]
        width = max(len(c.action) for c in self.changes)
        out += [f"  {c.action:<{width}}  {c.path}" + (f"  ({c.note})" if c.note else "") for c in self.changes]
        out += [f"  values.yaml: {note}" for note in self.notes]
        if self.source in NOTICES:
            out.append(f"note: {NOTICES[self.source]}")
        if self.dry_run:
            out.append("dry run: nothing was written")
        elif self.conflicts:
            out += [
                f"{len(self.conflicts)} conflict(s); nothing was committed. Resolve them in the worktree "
                f"{self.worktree} (branch {self.branch}, merge in progress), then run eksgen render and "
                "eksgen validate there, and git add --all && git commit (the message is prepared)",
            ]
        else:
            out += [
                f"committed {self.commit} on branch {self.branch}; your checkout was not touched.",
                f"Next: git push -u origin {self.branch}, open a pull request (eksgen plan --base main says what "
                "merging it does to the cluster), and merge it with a merge commit, not a squash: the next update "
                "starts from its second parent",
            ]
        return out


def version_key(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        raise EksgenError(f"{RECORD}: eksgen version {version!r} is not MAJOR.MINOR.PATCH") from None


def update(repo: Path, dry_run: bool = False) -> Outcome:
    """Update one repository (see the module's doc); conflicts are in the Outcome, not raised."""
    repo = Path(repo)
    gitrepo.toplevel(repo)
    changed = gitrepo.dirty(repo)
    if changed:
        listing = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
        raise EksgenError(
            f"{repo} has uncommitted changes ({listing}); commit or stash them first: the update starts from HEAD"
        )
    head = gitrepo.head(repo)
    ours = gitrepo.tree(repo, head)
    record = _read_record(ours.get(RECORD))
    source, target = record["version"], generator.__version__
    if version_key(source) > version_key(target):
        raise EksgenError(
            f"{repo} was written by eksgen {source}, newer than this eksgen {target}; update eksgen itself first"
        )
    base_commit = gitrepo.find_base(repo, record.get("trailer"))
    base = gitrepo.tree(repo, base_commit)
    base_record = _read_record(base.get(RECORD))
    if base_record["version"] != source:
        raise EksgenError(
            f"the base commit {base_commit[:12]} holds eksgen {base_record['version']}'s output, but {RECORD} at HEAD "
            f"says eksgen {source}; {RECORD} is eksgen's and should not be edited by hand"
        )
    branch = f"eksgen-update-{target}"
    worktree = repo.resolve().parent / f"{repo.resolve().name}-{branch}"

    values_text = _text(ours.get(VALUES), VALUES)
    answers = _answers(record, _migrated(values_text, source, target, CommentedMap(), None)[0])
    outcome = Outcome(repo, source, target, dry_run=dry_run, branch=branch)
    with tempfile.TemporaryDirectory(prefix="eksgen-update-") as tmp:
        project = repotemplate.build(answers, Path(tmp), toolchain.wheel_for_image(None))
        theirs = _read_directory(project)
        new_values, outcome.notes = _migrated(values_text, source, target, _load(theirs[VALUES]), theirs)
        outcome.changes = _changes(base, ours, theirs, new_values, target, Path(tmp))
        if not outcome.changes or dry_run:
            return outcome
        if gitrepo.branch_exists(repo, branch):
            raise EksgenError(f"branch {branch} already exists in {repo}; merge or delete it (git branch -D {branch})")
        if worktree.exists() or worktree.is_symlink():
            raise EksgenError(f"{worktree} exists; eksgen update works there. Remove it (git worktree remove) first")
        pristine = gitrepo.commit_directory(
            repo,
            project,
            base_commit,
            f"eksgen {target}'s own output for this repository (the base of the next eksgen update)\n\n"
            f"{repotemplate.VERSION_TRAILER}: {target}",
        )
    _apply(repo, outcome, pristine, worktree)
    return outcome


def _read_record(blob: Blob | None) -> dict[str, Any]:
    """version, name, answers and (from eksgen 0.2.0 on) the base commit's trailer, from .eksgen.yaml."""
    if blob is None:
        raise EksgenError(f"{RECORD} is missing: this is not a repository eksgen generated, or it was removed")
    # a repository's files at HEAD are read as every command reads them: bounded, UTF-8, no aliases
    data = repofiles.load_yaml(repofiles.decode(blob.data, str(RECORD)), str(RECORD))
    tool = data.get("generator") if isinstance(data, dict) else None
    if not isinstance(tool, dict) or tool.get("name") != "eksgen" or not isinstance(tool.get("version"), str):
        raise EksgenError(f"{RECORD}: no generator: {{name: eksgen, version: ...}}; eksgen cannot tell what wrote it")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("answers"), dict):
        raise EksgenError(f"{RECORD}: the cluster's name and answers are missing")
    trailer = tool.get("baseCommitTrailer")
    return {"version": tool["version"], "name": data["name"], "answers": data["answers"], "trailer": trailer}


def _text(blob: Blob | None, path: str) -> str:
    if blob is None:
        raise EksgenError(f"{path} is missing at HEAD; this is not a cluster repository eksgen can update")
    return repofiles.decode(blob.data, path)


def _load(blob: Blob) -> CommentedMap:
    document = repofiles.load_yaml(repofiles.decode(blob.data, str(VALUES)), str(VALUES), values_round_trip())
    return document if isinstance(document, CommentedMap) else CommentedMap()


def _migrated(
    text: str, source: str, target: str, template: CommentedMap, theirs: dict[str, Blob] | None
) -> tuple[str, list[str]]:
    """values.yaml migrated (line endings kept) and the notes; without `theirs`, only the versions matter
    (the schema check waits for the new chart)."""
    document = repofiles.load_yaml(text, f"{VALUES} at HEAD", values_round_trip())
    if not isinstance(document, CommentedMap):
        raise EksgenError(f"{VALUES} at HEAD is not a mapping of keys to values")
    schema: dict = {}
    if theirs is not None:
        schema = json.loads(theirs[str(CHART / "values.schema.json")].data)
    notes = migrations.migrate(document, source, target, template, schema)
    buffer = io.StringIO()
    values_round_trip().dump(document, buffer)
    out = buffer.getvalue()
    if "\r\n" in text:
        out = out.replace("\r\n", "\n").replace("\n", "\r\n")
    return out, notes


def _answers(record: dict, values_text: str) -> Answers:
    """The recorded answers, with the Kubernetes and Karpenter versions the cluster has after migration
    (the toolchain's kubectl and the README follow the cluster, as `eksgen set` keeps them)."""
    values = repofiles.load_yaml(values_text, f"{VALUES} at HEAD")
    raw = dict(record["answers"])
    raw["k8s-version"] = str(values.get("eksVersion"))
    raw["karpenter-version"] = str((values.get("karpenter") or {}).get("version"))
    try:
        return Answers.from_raw(record["name"], raw)
    except AnswerError as exc:
        raise EksgenError(
            f"{RECORD}: the recorded answers are not valid for eksgen {generator.__version__}: "
            f"{exc.format_message()}; eksctl would refuse such a cluster, so it cannot be updated in place"
        ) from None


def _read_directory(root: Path) -> dict[str, Blob]:
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".git" or rel.startswith(".git/"):
            continue
        if path.is_symlink():
            files[rel] = Blob("120000", os.readlink(path).encode())
        elif path.is_file():
            files[rel] = Blob("100755" if os.access(path, os.X_OK) else "100644", path.read_bytes())
    return files


def _changes(
    base: dict[str, Blob], ours: dict[str, Blob], theirs: dict[str, Blob], values: str, target: str, scratch: Path
) -> list[merge.FileChange]:
    changes: list[merge.FileChange] = []
    label = f"eksgen {target}"
    for path in sorted(set(base) | set(ours) | set(theirs)):
        if path == VALUES or path.startswith("rendered/"):
            continue
        b, o, t = base.get(path), ours.get(path), theirs.get(path)
        if t is not None and (path in REGENERATED or path.startswith(REGENERATED_DIRS)):
            if o != t:
                note = "eksgen's own file; your edits to it were replaced" if o is not None and o != b else ""
                changes.append(merge.FileChange(path, merge.ADDED if o is None else merge.REGENERATED, t, note))
            continue
        change = merge.three_way(path, b, o, t, label)
        if change is not None:
            changes.append(change)
    old_values = ours[VALUES]
    if values.encode() != old_values.data:
        changes.append(merge.FileChange(VALUES, merge.MIGRATED, Blob(old_values.mode, values.encode())))
    changes += _rendered(ours, changes, values, scratch)
    return sorted(changes, key=lambda c: c.path)


def _rendered(ours: dict[str, Blob], changes: list[merge.FileChange], values: str, scratch: Path) -> list:
    """rendered/ from the migrated values.yaml and the merged chart (not when the chart has conflicts)."""
    chart = CHART.as_posix() + "/"
    if any(c.action == merge.CONFLICT and c.path.startswith(chart) for c in changes):
        return []
    result = {p: b for p, b in ours.items() if p.startswith(chart)}
    for change in changes:
        if change.path.startswith(chart) and change.writes:
            if change.new is None:
                result.pop(change.path, None)
            else:
                result[change.path] = change.new
    where = scratch / "merged"
    gitrepo.write_files(where, dict(result))
    files = render.render(where, values_text=values)
    shutil.rmtree(where)
    out = []
    old = {p: b for p, b in ours.items() if p.startswith("rendered/")}
    for path in sorted(set(old) | set(files)):
        new = Blob("100644", files[path].encode()) if path in files else None
        if new is None:
            out.append(merge.FileChange(path, merge.REMOVED, None, "no longer rendered"))
        elif path not in old or old[path].data != new.data:
            out.append(merge.FileChange(path, merge.RENDERED, new, "from values.yaml"))
    return out


def _apply(repo: Path, outcome: Outcome, pristine: str, worktree: Path) -> None:
    """The branch, the merge of the pristine commit, the files, and the commit (not with conflicts)."""
    branch = outcome.branch or ""
    with transaction.locked(repo):  # no `eksgen set` in this repository meanwhile
        gitrepo.git(repo, "worktree", "add", "--quiet", "-b", branch, str(worktree), "HEAD")
    try:
        env = gitrepo.identity_env(worktree)
        merging = ["merge", "--quiet", "--no-commit", "--no-ff", "--no-verify", "-s", "ours", pristine]
        gitrepo.git(worktree, "-c", "commit.gpgsign=false", *merging)
        written = {c.path: c.new for c in outcome.changes if c.new is not None or c.action == merge.REMOVED}
        gitrepo.write_files(worktree, written)
        message = _message(outcome)
        if outcome.conflicts:
            Path(gitrepo.text(worktree, "rev-parse", "--path-format=absolute", "--git-path", "MERGE_MSG")).write_text(
                message, encoding="utf-8"
            )
            outcome.worktree = worktree
            return
        gitrepo.git(worktree, "add", "--all", "--", ".")
        gitrepo.git(worktree, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify", "-m", message, env=env)
        outcome.commit = gitrepo.text(worktree, "rev-parse", "HEAD")
        gitrepo.git(repo, "worktree", "remove", str(worktree))
    except BaseException:
        gitrepo.git(repo, "worktree", "remove", "--force", str(worktree), check=False)
        gitrepo.git(repo, "branch", "-D", branch, check=False)
        raise


def _message(outcome: Outcome) -> str:
    body = [f"- {c.action}: {c.path}" + (f" ({c.note})" if c.note else "") for c in outcome.changes]
    body += [f"- values.yaml: {note}" for note in outcome.notes]
    return (
        f"eksgen update: {outcome.source} \u2192 {outcome.target}\n\n"
        + "\n".join(body)
        + f"\n\nEksgen-Update: {outcome.source} -> {outcome.target}\n"
    )
