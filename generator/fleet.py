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

import time
from dataclasses import dataclass
from pathlib import Path

from generator import repofiles, toolchain, tools
from generator.answers import DEFAULTS, Answers
from generator.errors import AnswerError, EksgenError
from generator.parallel import INTERRUPTED, internal_error, parallel_map, processes, worker_count
from generator.tables import cell, details, table

TOP_LEVEL_KEYS = ("defaults", "clusters")
ANSWER_KEYS = tuple(DEFAULTS)  # the long option names, as in a --config file


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
            default_tags, own_tags = self.defaults.get("tags"), entry.answers.get("tags")
            merged["tags"] = {
                **(default_tags if isinstance(default_tags, dict) else {}),
                **(own_tags if isinstance(own_tags, dict) else {}),
            }
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
        data = repofiles.load_file(path)
    except repofiles.UnreadableFile as exc:  # a bad parameter: exit 2, naming the option and the file
        raise AnswerError("--fleet", str(path), exc.cause) from None
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
            f"{processes(self.jobs)}",
            *details((r.name, r.error) for r in self.results),
        ]
