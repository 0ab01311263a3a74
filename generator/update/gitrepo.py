"""The git side of `eksgen update`: reading trees at commits, finding the base, writing the pristine commit.

User strings never reach git as options: paths go after `--` or through the `-z` plumbing, refs are
full commit ids or names eksgen builds itself.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from generator import gitfiles, tools
from generator.errors import EksgenError, ToolFailedError
from generator.gitfiles import Blob

# The identity of eksgen's commits when git has none configured (as `eksgen new`'s first commit).
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "eksgen",
    "GIT_AUTHOR_EMAIL": "eksgen@localhost",
    "GIT_COMMITTER_NAME": "eksgen",
    "GIT_COMMITTER_EMAIL": "eksgen@localhost",
}


def git(repo: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> bytes:
    """Run git in `repo`; its standard output. A failure is a ToolFailedError naming the command."""
    result = subprocess.run([tools.git(), *args], cwd=repo, env=env, capture_output=True, check=False)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).decode("utf-8", "replace").strip()
        raise ToolFailedError(f"git {args[0]} failed in {repo}: {detail}")
    return result.stdout


def text(repo: Path, *args: str) -> str:
    return git(repo, *args).decode("utf-8").strip()


def identity_env(repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not tools.succeeds([tools.git(), "var", "GIT_AUTHOR_IDENT"], cwd=repo):
        env |= FALLBACK_IDENTITY
    return env


def toplevel(repo: Path) -> Path:
    """The repository's top directory; an EksgenError when `repo` is not inside a git work tree."""
    result = subprocess.run(
        [tools.git(), "rev-parse", "--show-toplevel"], cwd=repo, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise EksgenError(f"{repo} is not a git repository; eksgen update works on a cluster repository's git history")
    top = Path(result.stdout.strip())
    if top.resolve() != repo.resolve():
        raise EksgenError(f"{repo} is inside the git repository {top}; give the cluster repository's top directory")
    if subprocess.run(
        [tools.git(), "rev-parse", "--verify", "--quiet", "HEAD"], cwd=repo, capture_output=True
    ).returncode:
        raise EksgenError(f"{repo} has no commits; eksgen update needs the commit eksgen made")
    return top


def dirty(repo: Path) -> list[str]:
    """Files that differ from HEAD: changed, staged, untracked (ignored files do not count)."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all").decode("utf-8", "replace")
    entries, names = out.split("\0"), []
    index = 0
    while index < len(entries):
        entry = entries[index]
        if entry:
            names.append(entry[3:])
            if entry[0] in "RC":  # a rename's source follows as its own entry
                index += 1
        index += 1
    return names


def head(repo: Path) -> str:
    return text(repo, "rev-parse", "--verify", "HEAD^{commit}")


def branch_exists(repo: Path, branch: str) -> bool:
    return not subprocess.run(
        [tools.git(), "show-ref", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=repo, capture_output=True
    ).returncode


def find_base(repo: Path, trailer: str | None) -> str:
    """The commit whose tree is eksgen's own output of the version the repository records.

    With `trailer` ("Eksgen-Version: 0.2.0", from .eksgen.yaml): the newest commit reachable from HEAD
    whose message carries it (`git log --topo-order` lists children before parents). Without it (a
    repository of eksgen 0.1.0, which recorded nothing): the root commit, `eksgen new`'s first commit.
    """
    if trailer is None:
        roots = text(repo, "rev-list", "--max-parents=0", "HEAD").split()
        if len(roots) != 1:
            raise EksgenError(
                f"{repo} has {len(roots)} root commits; eksgen 0.1.0 repositories start from one, eksgen's first"
            )
        return roots[0]
    key, _, value = trailer.partition(":")
    log = text(
        repo,
        "log",
        "--topo-order",
        f"--format=%H%x1f%(trailers:key={key.strip()},valueonly,separator=%x1f)%x1e",
        "HEAD",
    )
    for record in log.split("\x1e"):
        commit, _, values = record.strip().partition("\x1f")
        if value.strip() in [v.strip() for v in values.split("\x1f")]:
            return commit
    raise EksgenError(
        f".eksgen.yaml says eksgen wrote this repository in a commit with the trailer {trailer!r}, and no commit "
        "HEAD reaches has it. Was the last update's pull request squashed or rebased? An update must be merged with "
        "a merge commit so that its second parent, eksgen's own output, stays in the history"
    )


def tree(repo: Path, commit: str) -> dict[str, Blob]:
    """Every file of `commit`: path -> mode and bytes (submodules are left out)."""
    return gitfiles.blobs(repo, [e for e in gitfiles.entries(repo, commit) if e.kind == "blob"])


def commit_directory(repo: Path, directory: Path, parent: str, message: str) -> str:
    """A commit of `directory`'s files (its .gitignore applies) with one parent, made without touching
    the repository's index, working tree or refs; its id."""
    with tempfile.TemporaryDirectory(prefix="eksgen-index-") as tmp:
        env = identity_env(repo) | {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git_dir = text(repo, "rev-parse", "--absolute-git-dir")
        base = ["--git-dir", git_dir, "--work-tree", str(directory)]
        git(directory, *base, "add", "--all", "--", ".", env=env)
        tree_id = git(directory, *base, "write-tree", env=env).decode().strip()
        return git(repo, "commit-tree", tree_id, "-p", parent, "-m", message, env=env).decode().strip()


def write_files(root: Path, files: dict[str, Blob | None]) -> None:
    """Write (or, for None, delete) files under `root`, with their modes; symlinks as symlinks."""
    for rel, blob in sorted(files.items()):
        path = root / rel
        if path.is_symlink() or path.exists():
            path.unlink()
        if blob is None:
            parent = path.parent
            while parent != root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if blob.mode == "120000":
            path.symlink_to(blob.data.decode("utf-8"))
            continue
        path.write_bytes(blob.data)
        path.chmod(0o755 if blob.mode == "100755" else 0o644)
