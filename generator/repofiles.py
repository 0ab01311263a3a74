"""Reading what a repository holds, as data a pull request may have crafted.

rendered/ is written by eksgen, but a pull request can commit anything there: a symlink out of
the repository, a FIFO or a device that never ends, a huge file, or a few hundred bytes of YAML
aliases that expand to gigabytes. Reads go through here: regular files inside the repository
only, bounded in size, and YAML that uses no aliases (helm never writes any).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from generator.errors import EksgenError

MAX_BYTES = 4 * 1024 * 1024  # a rendered file is a few kilobytes; a ClusterConfig with every option fits


def read_text(repo: Path, path: Path) -> str:
    """The text of a regular file inside `repo` (not through a symlink), at most MAX_BYTES of UTF-8."""
    check(repo, path)
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    return decode(data, _relative(repo, path))


def check(repo: Path, path: Path) -> None:
    """That `path` is a regular file of at most MAX_BYTES, not a symlink: what another program may
    safely be given to read (a FIFO or a device would never end)."""
    rel = _relative(repo, path)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise EksgenError(f"{rel}: cannot read it ({exc.strerror})") from None
    if stat.S_ISLNK(info.st_mode):
        raise EksgenError(f"{rel}: is a symlink; eksgen reads only the repository's own files there")
    if not stat.S_ISREG(info.st_mode):
        raise EksgenError(f"{rel}: is not a regular file")
    if info.st_size > MAX_BYTES:
        raise EksgenError(f"{rel}: is {info.st_size} bytes; rendered files are at most {MAX_BYTES}")


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise EksgenError(f"{name}: is larger than {MAX_BYTES} bytes; rendered files are far smaller")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EksgenError(f"{name}: is not UTF-8 text (byte {exc.start})") from None


def without_aliases(text: str, name: str) -> str:
    """The text, after checking that no YAML alias (`*name`) is in it: aliases make a few bytes
    into gigabytes once expanded, and nothing eksgen renders uses them."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise EksgenError(f"{name}: uses a YAML alias (*{event.anchor}); rendered files have none")
    except yaml.YAMLError as exc:
        raise EksgenError(f"{name}: not valid YAML: {exc}") from None
    return text


def _relative(repo: Path, path: Path) -> str:
    try:
        return str(path.relative_to(repo))
    except ValueError:
        return str(path)
