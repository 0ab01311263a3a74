"""The files of a commit, read straight from git's object store: one `git ls-tree` for the listing
(with each file's mode and size, so a caller can refuse a file before it is read) and one
`git cat-file --batch` for the contents. Paths go after `--`; refs are the caller's checked names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator import tools


@dataclass(frozen=True)
class Entry:
    path: str
    mode: str  # git's file mode: 100644, 100755 (files), 120000 (symlinks), 160000 (submodules)
    kind: str  # blob, or commit for a submodule
    oid: str
    size: int | None  # bytes, for a blob


@dataclass(frozen=True)
class Blob:
    mode: str
    data: bytes


def entries(repo: Path, ref: str, paths: tuple[str, ...] = ()) -> list[Entry]:
    """Every entry of `ref`'s tree (under `paths`, when given), recursively."""
    args = [tools.git(), "ls-tree", "-r", "-z", "-l", "--full-tree", ref, "--", *paths]
    found = []
    for record in filter(None, tools.run(args, cwd=repo).stdout.split("\0")):
        meta, _, path = record.partition("\t")
        mode, kind, oid, size = meta.split()
        found.append(Entry(path, mode, kind, oid, int(size) if size.isdigit() else None))
    return found


def blobs(repo: Path, wanted: list[Entry]) -> dict[str, Blob]:
    """The contents of these blob entries, by path, read in one `git cat-file --batch`."""
    if not wanted:
        return {}
    batch = tools.run_bytes(
        [tools.git(), "cat-file", "--batch"], "".join(f"{e.oid}\n" for e in wanted).encode(), cwd=repo
    )
    files, at = {}, 0
    for entry in wanted:
        header_end = batch.index(b"\n", at)
        length = int(batch[at:header_end].split()[2])
        files[entry.path] = Blob(entry.mode, batch[header_end + 1 : header_end + 1 + length])
        at = header_end + 1 + length + 1  # the object, then a newline
    return files
