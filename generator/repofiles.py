"""Reading what eksgen is given, as data someone may have crafted: one reader for every file.

rendered/ is written by eksgen, but a pull request can commit anything there: a symlink out of
the repository, a FIFO or a device that never ends, a huge file, or a few hundred bytes of YAML
aliases that expand to gigabytes. values.yaml and .eksgen.yaml come from the same pull requests,
and a `--config` or `--fleet` file from whoever runs eksgen. Every such read goes through here:
regular files only (a repository's own, not through a symlink; a file named on the command line
may be reached through one), bounded in size, UTF-8, and YAML that uses no aliases (eksgen and
helm never write any). Each failure is an `UnreadableFile` that names the file and the cause.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent

from generator.errors import EksgenError

MAX_BYTES = 4 * 1024 * 1024  # a rendered file is a few kilobytes; a ClusterConfig with every option fits
MAX_DEPTH = 64  # values.yaml nests 5 deep; "[[[[..." would otherwise end in a RecursionError


class UnreadableFile(EksgenError):
    """A file eksgen cannot read as data: `name` is the file as shown, `cause` the reason."""

    def __init__(self, name: str, cause: str, line: int | None = None) -> None:
        self.name = name
        self.cause = cause
        self.line = line  # 1-based, for a YAML error
        super().__init__(f"{name}: {cause}")


# libyaml when PyYAML has it: parsing is most of the Python time of reading rendered/. PyYAML reads
# YAML 1.1, as the Go readers of rendered/ (eksctl, kubectl: sigs.k8s.io/yaml) do.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(repo: Path, path: Path, symlinks: bool = False) -> str:
    """The text of a regular file inside `repo`, at most MAX_BYTES of UTF-8. Not through a symlink;
    with `symlinks`, through one that ends inside the repository (values.yaml may be one)."""
    name = _relative(repo, path)
    if not symlinks:
        return _read(path, name, follow=False)
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(Path(os.path.realpath(repo))):
        raise UnreadableFile(name, "is a symlink out of the repository; eksgen reads only the repository's own files")
    return _read(real, name, follow=True)


def read_given(path: Path) -> str:
    """The text of a file named on the command line (--config, --fleet): a symlink is followed, but
    only to a regular file; at most MAX_BYTES of UTF-8."""
    return _read(path, str(path), follow=True)


def load_yaml(text: str, name: str, loader: YAML | None = None) -> Any:
    """One YAML document, alias-free and at most MAX_DEPTH deep; `loader` (default: ruamel's safe
    loader, YAML 1.2) may be a round-trip YAML that keeps comments and layout."""
    loader = loader or YAML(typ="safe", pure=True)
    loader.Composer = _NoAliasComposer
    loader.max_depth = MAX_DEPTH
    try:
        return loader.load(text)
    except _AliasFound as found:
        raise UnreadableFile(name, f"uses a YAML alias (*{found.anchor}); eksgen reads YAML without aliases") from None
    except (MaxDepthExceededError, RecursionError):
        raise UnreadableFile(name, f"nests deeper than {MAX_DEPTH} levels") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UnreadableFile(name, f"not valid YAML: {exc}", mark.line + 1 if mark else None) from None


def load_file(path: Path, repo: Path | None = None, loader: YAML | None = None) -> Any:
    """A YAML file: inside `repo` when given (a symlink only to another file of it), else a file named
    on the command line."""
    if repo is None:
        return load_yaml(read_given(path), str(path), loader)
    return load_yaml(read_text(repo, path, symlinks=True), _relative(repo, path), loader)


def check(repo: Path, path: Path) -> None:
    """That `path` is a regular file of at most MAX_BYTES, not a symlink: what another program may
    safely be given to read (a FIFO or a device would never end)."""
    name = _relative(repo, path)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise UnreadableFile(name, f"cannot read it ({exc.strerror})") from None
    _check_info(info, name)


def decode(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise UnreadableFile(name, f"is larger than {MAX_BYTES} bytes; eksgen reads far smaller files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(name, f"is not UTF-8 text (byte {exc.start})") from None


def without_aliases(text: str, name: str) -> str:
    """The text, after checking that no YAML alias (`*name`) is in it and that it nests at most MAX_DEPTH
    deep: aliases make a few bytes into gigabytes once expanded, and nothing eksgen renders uses them."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=FAST_LOADER):
            if isinstance(event, yaml.AliasEvent):
                raise UnreadableFile(name, f"uses a YAML alias (*{event.anchor}); rendered files have none")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:  # "[[[[..." would end in a RecursionError once loaded
                    raise UnreadableFile(name, f"nests deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise UnreadableFile(name, f"not valid YAML: {exc}") from None
    return text


class _AliasFound(Exception):
    def __init__(self, anchor: str) -> None:
        self.anchor = anchor


class _NoAliasComposer(Composer):
    """ruamel's composer, stopping at the first alias instead of sharing (and later expanding) a node."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            raise _AliasFound(self.parser.peek_event().anchor)
        return super().compose_node(parent, index)


def _read(path: Path, name: str, follow: bool) -> str:
    # Checked before opening (a FIFO's open would wait for a writer) and again on the open file (the
    # path may have changed in between); O_NONBLOCK keeps even that open from waiting.
    try:
        _check_info(os.stat(path) if follow else os.lstat(path), name)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | (0 if follow else os.O_NOFOLLOW)
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(name, _os_cause(exc, path)) from None
    with os.fdopen(fd, "rb") as handle:
        _check_info(os.fstat(fd), name)
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise UnreadableFile(name, _os_cause(exc, path)) from None
    return decode(data, name)


def _os_cause(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOENT:
        return "is a symlink to nothing (dangling)" if os.path.islink(path) else "not found"
    if exc.errno == errno.ELOOP:
        return "is a symlink; eksgen reads only the repository's own files there"
    return f"cannot read it ({exc.strerror})"


def _check_info(info: os.stat_result, name: str) -> None:
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        raise UnreadableFile(name, "is a symlink; eksgen reads only the repository's own files there")
    if not stat.S_ISREG(mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a file"
        )
        raise UnreadableFile(name, f"is {kind}, not a regular file")
    if info.st_size > MAX_BYTES:
        raise UnreadableFile(name, f"is {info.st_size} bytes; eksgen reads files of at most {MAX_BYTES}")


def _relative(repo: Path, path: Path) -> str:
    try:
        return str(path.relative_to(repo))
    except ValueError:
        return str(path)
