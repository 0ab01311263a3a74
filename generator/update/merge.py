"""Three-way, file by file: the base (eksgen's old output), ours (the repository at HEAD) and theirs
(eksgen's new output for the same answers).

- the user never changed it (ours = base): the new version's file, or its removal;
- the new version did not change it (theirs = base), or both made the same change: ours stays;
- both changed it: `git merge-file`, which merges the two sets of changes against the base and leaves
  conflict markers where they touch the same lines. Its exit status is the number of conflicts, negative
  on error (https://git-scm.com/docs/git-merge-file, "EXIT STATUS"); with -p it writes the result to
  standard output and changes no file. A binary file changed on both sides is a conflict with ours kept;
- the new version dropped a file the user changed: kept, and reported;
- the user deleted a file: it stays deleted, and a change the new version made to it is reported.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator import tools
from generator.errors import ToolFailedError
from generator.gitfiles import Blob

# What each action means, as `--dry-run` prints it.
ADDED, UPDATED, MERGED, CONFLICT, REMOVED = "added", "updated", "merged", "conflict", "removed"
KEPT_CHANGED, KEPT_DELETED = "kept-user-changed", "kept-user-deleted"
MIGRATED, REGENERATED, RENDERED = "migrated", "regenerated", "rendered"


@dataclass(frozen=True)
class FileChange:
    path: str
    action: str
    new: Blob | None  # what the file becomes (None: removed, or left as ours for a kept-* action)
    note: str = ""

    @property
    def writes(self) -> bool:
        """Whether the update changes the file (kept-* actions only report)."""
        return self.action not in (KEPT_CHANGED, KEPT_DELETED)


def three_way(path: str, base: Blob | None, ours: Blob | None, theirs: Blob | None, label: str) -> FileChange | None:
    """The change to one file, or None when it stays as it is."""
    if _same(ours, theirs):
        return None
    if _same(theirs, base):  # eksgen did not change it; the user's version stays
        return None
    if _same(ours, base):  # the user did not change it; eksgen's new version wins
        if theirs is None:
            return FileChange(path, REMOVED, None, "the new eksgen no longer has it; you never changed it")
        return FileChange(path, ADDED if ours is None else UPDATED, theirs)
    if theirs is None:
        return FileChange(path, KEPT_CHANGED, None, "the new eksgen no longer has it, but you changed it: kept")
    if ours is None:
        return FileChange(path, KEPT_DELETED, None, "you deleted it and the new eksgen changed it: left deleted")
    mode = theirs.mode if ours.mode == (base.mode if base else ours.mode) else ours.mode
    if any(b"\0" in blob.data for blob in (base, ours, theirs) if blob is not None) or "120000" in (
        ours.mode,
        theirs.mode,
    ):
        return FileChange(path, CONFLICT, None, "binary or symlink changed by you and by eksgen: yours kept, merge it")
    merged, conflicts = merge_file(ours.data, base.data if base else b"", theirs.data, label)
    if conflicts:
        return FileChange(path, CONFLICT, Blob(mode, merged), f"{conflicts} conflict(s) marked in the file")
    return FileChange(path, MERGED, Blob(mode, merged), "your changes and eksgen's merged")


def merge_file(ours: bytes, base: bytes, theirs: bytes, label: str) -> tuple[bytes, int]:
    """`git merge-file -p`: the merged bytes and the number of conflicts."""
    with tempfile.TemporaryDirectory(prefix="eksgen-merge-") as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(str(path))
        result = subprocess.run(
            [tools.git(), "merge-file", "-p", "-L", "yours", "-L", "eksgen base", "-L", label, "--", *paths],
            capture_output=True,
            check=False,
        )
    if result.returncode < 0 or result.returncode > 127:
        raise ToolFailedError(f"git merge-file failed: {result.stderr.decode('utf-8', 'replace').strip()}")
    return result.stdout, result.returncode


def _same(a: Blob | None, b: Blob | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.data == b.data and a.mode == b.mode
