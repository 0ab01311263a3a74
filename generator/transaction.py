"""Changing values.yaml, rendered/ and other repository files together: all of them or none.

A change is staged completely in `.eksgen-txn/` inside the repository (ignored by git), marked
committed with one rename, and only then moved into place, one rename per file and one for the
whole rendered/ tree. A process killed before the mark leaves the old state; killed after it, the
next eksgen command that opens the repository finishes the moves (`recover`). Every step is
idempotent, so a recovery that is itself killed is finished by the next one.

Changes to one repository are serialized by an exclusive lock on the repository directory, so
concurrent `eksgen set` runs apply one after the other and none is lost.

Written files keep what the user had: the mode of the file they replace, and a symlink stays a
symlink (the file it points to is replaced).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from generator.errors import EksgenError
from generator.layout import RENDERED

STAGING = Path(".eksgen-txn")
_MANIFEST = "manifest.json"  # its presence is the commit mark


@contextlib.contextmanager
def locked(repo: Path) -> Iterator[None]:
    """Hold the repository's change lock (waits for another eksgen changing it), after recovery."""
    try:
        fd = os.open(repo, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise EksgenError(f"{repo}: cannot open the repository ({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _recover(repo)
        yield
    finally:
        os.close(fd)  # releases the lock


def recover(repo: Path) -> None:
    """Finish or undo a change a killed process left behind (no-op when there is none)."""
    if (repo / STAGING).exists():
        with locked(repo):
            pass


def commit(repo: Path, files: dict[Path, str], rendered: dict[str, str] | None = None) -> None:
    """Replace `files` (paths relative to the repository) and, when given, the whole rendered/ tree.

    Call it inside `locked(repo)`."""
    staging = repo / STAGING
    staging.mkdir()
    moves: list[list[str]] = []
    try:
        for index, (rel, text) in enumerate(sorted(files.items())):
            target = _real_target(repo / rel)
            staged = staging / f"file-{index}"
            if target.parent.resolve() != (repo / rel).parent.resolve():  # through a symlink: stage beside it
                staged = target.parent / f".eksgen-txn-{target.name}"
            _write_file(staged, text, like=target)
            moves.append([str(staged), str(target)])
        if rendered is not None:
            tree = staging / "rendered"
            for rendered_rel, text in rendered.items():
                path = tree / Path(rendered_rel).relative_to(RENDERED)
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_file(path, text, like=None)
        mark = staging / f"{_MANIFEST}.tmp"
        mark.write_text(json.dumps({"moves": moves, "rendered": rendered is not None}), encoding="utf-8")
        _fsync_dir(staging)
        mark.rename(staging / _MANIFEST)  # the commit: from here on the change completes
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for leftover, _ in moves:
            Path(leftover).unlink(missing_ok=True)
        raise
    _apply(repo)


def write_file(path: Path, text: str) -> None:
    """One file, replaced atomically (through a symlink, keeping its mode); never truncated in place."""
    target = _real_target(path)
    temp = target.parent / f".eksgen-{target.name}.{os.getpid()}"
    try:
        _write_file(temp, text, like=target)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _recover(repo: Path) -> None:
    staging = repo / STAGING
    if not staging.exists():
        return
    if (staging / _MANIFEST).is_file():
        _apply(repo)
        return
    manifest = staging / f"{_MANIFEST}.tmp"  # not committed: nothing was moved yet; undo the staging
    if manifest.is_file():
        with contextlib.suppress(ValueError, OSError):
            for staged, _ in json.loads(manifest.read_text(encoding="utf-8")).get("moves", []):
                if Path(staged).parent != staging:
                    Path(staged).unlink(missing_ok=True)
    shutil.rmtree(staging)


def _apply(repo: Path) -> None:
    """Move a committed change into place; each step can run again after a kill."""
    staging = repo / STAGING
    plan = json.loads((staging / _MANIFEST).read_text(encoding="utf-8"))
    for staged, target in plan["moves"]:
        if Path(staged).exists():
            os.replace(staged, target)
    if plan["rendered"]:
        new, old, current = staging / "rendered", staging / "rendered-old", repo / RENDERED
        if new.exists():
            if current.exists() and not old.exists():
                current.rename(old)
            new.rename(current)
        shutil.rmtree(old, ignore_errors=True)
    (staging / _MANIFEST).unlink()
    shutil.rmtree(staging)


def _real_target(path: Path) -> Path:
    """The file a write replaces: the one a symlink points to, so the link stays."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _write_file(path: Path, text: str, like: Path | None) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:  # a full disk names no file; the error boundary shows this one
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(like or path)) from None
        raise
    if like is not None and like.exists():
        os.chmod(path, stat.S_IMODE(like.stat().st_mode))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
