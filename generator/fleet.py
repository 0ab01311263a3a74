"""`eksgen new --fleet FILE`: many cluster repositories from one fleet file, generated in parallel.

A fleet file is YAML; its keys are the long option names a `--config` file uses:

    defaults:                  # optional: answers every cluster starts from
      region: eu-west-1
      tags: {team: platform, cost-center: "0100"}
    clusters:                  # required: one entry per cluster repository
      - name: prod-eu          # required, unique: the NAME of `eksgen new NAME`
        k8s-version: "1.33"
        tags: {cost-center: "0200"}
      - name: staging-eu
        vpc-cidr: 10.20.0.0/16

A cluster's own answers override the defaults; `tags` merge key by key, the cluster's value
winning. `null` stands for "not given", so eksgen's own default applies. Each cluster's repository
is made by `scaffold.generate`, exactly as `eksgen new NAME --config <its merged answers>` makes it.

The shape of the file is checked strictly before anything is written (unknown or misplaced keys,
a missing or repeated name): one `AnswerError` lists every problem. A bad answer of one cluster
(an unknown region, say) only fails that cluster; the others are still generated.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from generator import toolchain, tools
from generator.answers import DEFAULTS, Answers
from generator.errors import AnswerError, EksgenError

TOP_LEVEL_KEYS = ("defaults", "clusters")
ANSWER_KEYS = tuple(DEFAULTS)  # the long option names, as in a --config file

INTERRUPTED = "interrupted before it started"

T = TypeVar("T")
R = TypeVar("R")


class Interrupted(EksgenError):
    """Ctrl-C or SIGTERM stopped a fleet run; what was finished is complete (exit 130, as for `eksgen new`)."""

    exit_code = 130


@dataclass(frozen=True)
class FleetEntry:
    name: str
    answers: dict[str, object]  # the cluster's own answers, without its name


@dataclass(frozen=True)
class Fleet:
    path: Path
    defaults: dict[str, object]
    clusters: list[FleetEntry]

    def answers_for(self, entry: FleetEntry) -> dict[str, object]:
        """The raw answers of one cluster: its own over the defaults, tags merged per key."""
        merged = {**self.defaults, **entry.answers}
        if "tags" in self.defaults or "tags" in entry.answers:
            merged["tags"] = {**(self.defaults.get("tags") or {}), **(entry.answers.get("tags") or {})}
        return merged


@dataclass(frozen=True)
class ClusterResult:
    name: str
    seconds: float
    path: Path | None = None  # the repository, when it was created
    error: str | None = None  # why not, when it was not
    skipped: bool = False  # an interrupt came first

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def result(self) -> str:
        return "skipped" if self.skipped else "created" if self.ok else "FAILED"


def load(path: Path) -> Fleet:
    """Read and check a fleet file; an `AnswerError` (exit 2) lists every problem with its shape."""
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AnswerError("--fleet", str(path), f"cannot be read: {exc.strerror}") from None
    except YAMLError as exc:
        raise AnswerError("--fleet", str(path), f"not valid YAML: {exc}") from None
    return parse(path, data)


def parse(path: Path, data: object) -> Fleet:
    """Check the shape of loaded fleet data (see the module docstring)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise AnswerError("--fleet", str(path), "must be a mapping with a 'clusters' list (and optional 'defaults')")
    problems += [
        f"unknown top-level key {key!r}; the keys are {', '.join(TOP_LEVEL_KEYS)}"
        for key in data
        if key not in TOP_LEVEL_KEYS
    ]

    defaults = data.get("defaults")
    if defaults is None:
        defaults = {}
    elif not isinstance(defaults, dict):
        problems.append("defaults: must be a mapping of option names to answers")
        defaults = {}
    else:
        if "name" in defaults:
            problems.append("defaults: 'name' cannot be a default; each cluster names itself")
        problems += _answer_key_problems("defaults", defaults)

    clusters = data.get("clusters")
    entries: list[FleetEntry] = []
    if not isinstance(clusters, list) or not clusters:
        problems.append("clusters: must be a non-empty list of clusters, each a mapping with a name")
        clusters = []
    seen: dict[str, int] = {}
    for index, cluster in enumerate(clusters):
        where = f"clusters[{index}]"
        if not isinstance(cluster, dict):
            problems.append(f"{where}: must be a mapping with a name and answers")
            continue
        name = cluster.get("name")
        if name is None:
            problems.append(f"{where}: missing name")
            continue
        if not isinstance(name, str):
            problems.append(f"{where}: name {name!r} must be a string (quote it in YAML)")
            continue
        where = f"{where} ({name})"
        if name in seen:
            problems.append(f"{where}: duplicate name; clusters[{seen[name]}] has it too")
        seen.setdefault(name, index)
        answers = {k: v for k, v in cluster.items() if k != "name"}
        problems += _answer_key_problems(where, answers)
        entries.append(FleetEntry(name, answers))

    if problems:
        rule = (
            problems[0]
            if len(problems) == 1
            else (f"{len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems))
        )
        raise AnswerError("--fleet", str(path), rule)
    return Fleet(path, dict(defaults), entries)


def _answer_key_problems(where: str, answers: dict) -> list[str]:
    problems = [
        f"{where}: unknown key {key!r}; the keys are name, {', '.join(ANSWER_KEYS)}"
        for key in answers
        if key not in ANSWER_KEYS
    ]
    tags = answers.get("tags")
    if tags is not None and not isinstance(tags, dict):
        problems.append(f"{where}: tags must be a map of KEY to VALUE")
    return problems


def generate(
    fleet: Fleet, output_dir: Path, jobs: int | None = None, toolchain_wheel: Path | None = None
) -> FleetReport:
    """Generate every cluster of the fleet into `output_dir/NAME`; results in fleet order.

    Answers are checked here first: a cluster with a bad answer fails with the `AnswerError`
    message and is not generated. The rest are generated by `scaffold.generate`, `jobs` at once
    (one process each; default: the CPU count). helm and git are checked once, up front, so a
    missing tool fails the whole run before anything is written.
    """
    started = time.perf_counter()
    results: dict[str, ClusterResult] = {}
    work: list[tuple[Answers, Path, Path | None]] = []
    wheel = toolchain.wheel_for_image(toolchain_wheel)  # built once, for every repository
    for entry in fleet.clusters:
        try:
            work.append((Answers.from_raw(entry.name, fleet.answers_for(entry)), output_dir, wheel))
        except AnswerError as exc:
            results[entry.name] = ClusterResult(entry.name, 0.0, error=exc.format_message())
    if work:
        tools.git()
        tools.helm()
    workers = worker_count(jobs, len(work))
    done = parallel_map(_generate_one, work, workers)
    for (answers, _, _), result in zip(work, done, strict=True):
        results[answers.name] = (
            ClusterResult(answers.name, 0.0, error=INTERRUPTED, skipped=True) if result is None else result
        )
    return FleetReport(
        [results[entry.name] for entry in fleet.clusters],
        time.perf_counter() - started,
        workers,
        interrupted=None in done,
    )


def _generate_one(job: tuple[Answers, Path, Path | None]) -> ClusterResult:
    from generator import scaffold  # cookiecutter: imported only where repositories are made

    answers, output_dir, wheel = job
    started = time.perf_counter()
    try:
        path = scaffold.generate(answers, output_dir, wheel)
    except EksgenError as exc:
        return ClusterResult(answers.name, time.perf_counter() - started, error=exc.format_message())
    except Exception as exc:  # a bug: report it for this cluster, keep generating the others
        return ClusterResult(answers.name, time.perf_counter() - started, error=internal_error(exc))
    return ClusterResult(answers.name, time.perf_counter() - started, path=path)


@dataclass(frozen=True)
class FleetReport:
    results: list[ClusterResult]
    seconds: float  # wall time of the whole fleet
    jobs: int  # worker processes used (1: the work ran in this process)
    interrupted: bool = False  # some clusters were not generated because of an interrupt

    @property
    def failed(self) -> list[str]:
        """The clusters that were tried and failed."""
        return [r.name for r in self.results if r.result == "FAILED"]

    def lines(self) -> list[str]:
        """The table `eksgen new --fleet` prints: one row per cluster, the totals, then long errors in full."""
        rows = ([r.name, r.result, f"{r.seconds:.2f}", str(r.path) if r.ok else cell(r.error)] for r in self.results)
        counts = {word: sum(r.result == word for r in self.results) for word in ("created", "FAILED", "skipped")}
        return [
            *table(("CLUSTER", "RESULT", "SECONDS", "PATH OR ERROR"), rows, right=(2,)),
            f"{len(self.results)} clusters: {counts['created']} created, {counts['FAILED']} failed"
            + (f", {counts['skipped']} skipped (interrupted)" if self.interrupted else "")
            + f"; {self.seconds:.2f}s wall time, {len(self.results) / max(self.seconds, 1e-9):.1f} clusters/s, "
            f"{_processes(self.jobs)}",
            *details((r.name, r.error) for r in self.results),
        ]


def internal_error(exc: Exception) -> str:
    return f"internal error ({type(exc).__name__}: {exc}); this is a bug"


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, items: int) -> int:
    """How many worker processes `parallel_map` uses for `items` items (1: none, in this process)."""
    return max(1, min(jobs or default_jobs(), items))


def parallel_map(function: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R | None]:
    """`function` over `items`, results in order, in `jobs` worker processes.

    With one job or one item the work runs in this process: a pool would only add start-up time.
    `function` must be a module-level function and must not raise for a failed item (return a
    result that says so), so that one failure never stops the others.

    An interrupt (Ctrl-C, or SIGTERM) stops the run: work not yet started is dropped and its result
    is None; work already started in a worker finishes first (workers ignore Ctrl-C; an item takes
    about a second), so what the interrupt stopped is never half-done. In this process, the item in
    hand is interrupted (scaffold.generate cleans up after itself) and its result is None too.
    """
    results: list[R | None] = [None] * len(items)
    with _terminate_as_interrupt():
        if jobs <= 1 or len(items) <= 1:
            try:
                for index, item in enumerate(items):
                    results[index] = function(item)
            except KeyboardInterrupt:
                pass  # scaffold.generate has cleaned up after itself
            return results
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(items)), initializer=_worker_started, initargs=(os.getpid(),)
        )
        try:
            futures = [pool.submit(function, item) for item in items]
            try:
                for index, future in enumerate(futures):
                    results[index] = future.result()
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                for index, future in enumerate(futures):
                    if not future.cancelled() and future.exception() is None:
                        results[index] = future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def _worker_started(parent: int) -> None:
    """In each worker: the parent alone decides what an interrupt stops; and no worker outlives it."""
    # A process group of its own: a terminal's Ctrl-C (SIGINT to the foreground group) reaches
    # the parent only. Ignoring SIGINT is not enough, because git installs its own handler to
    # remove its lock files and would die in the middle of its item.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by the fork
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGKILL, the OOM killer) would wait for work forever."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # scaffold.generate turns it into a clean-up; otherwise it ends us
    time.sleep(10)
    os._exit(1)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C in this process while the work runs (main thread only); as
    scaffold.generate does around one repository."""

    def _raise(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    """Rows as aligned text columns (the last one is not padded); `right`: columns aligned right.

    Every cell goes through `printable`: a name or path with a newline or a terminal escape cannot add rows
    or move the cursor."""
    cells = [[printable(c) for c in headers], *([printable(c) for c in row] for row in rows)]
    right = set(right)
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(
            [*(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(row[:-1])), row[-1]]
        ).rstrip()
        for row in cells
    ]


def printable(text: str) -> str:
    """`text` with each character a terminal would act on or not show written as Python writes it in a string
    literal (\\n, \\r, \\t, \\x1b, \\x9b, \\u202e, \\u2028): every user string the tables and `details` print
    passes through here. Other characters, the backslash included, are left as they are."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cell(message: str | None, width: int = 160) -> str:
    """A message as one table cell: its first line, cut at `width` characters; `details` has the rest.
    Lines end at '\\n' only: other line breaks (\\r, \\u2028, ...) are characters that `printable` shows."""
    lines = (message or "").strip().split("\n")
    first = lines[0].strip()
    if len(first) > width:
        return first[: width - 3] + "..."
    return first + (" ..." if len(lines) > 1 else "")


def details(messages: Iterable[tuple[str, str | None]], width: int = 160) -> list[str]:
    """The messages `cell` shortened, in full under the table, each under its subject."""
    lines: list[str] = []
    for subject, message in messages:
        if message and cell(message, width) != message.strip():
            lines += ["", f"{printable(subject)}:", *(f"  {printable(line)}" for line in message.strip().split("\n"))]
    return lines


def _processes(jobs: int) -> str:
    return "in this process" if jobs <= 1 else f"{jobs} worker processes"
