"""`eksgen update DIR DIR...`: a fleet of cluster repositories updated in parallel, one summary table.

Each repository is updated exactly as `eksgen update --repo DIR` updates it, in a worker process of its
own (generator/parallel.py); a failure or a conflict in one never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import EksgenError
from generator.parallel import INTERRUPTED, Interrupted, internal_error, parallel_map, processes, worker_count
from generator.tables import cell, details, table
from generator.update import Outcome, update

__all__ = ["Interrupted", "ManyReport", "RepoUpdate", "update_many"]


@dataclass(frozen=True)
class RepoUpdate:
    repo: Path
    seconds: float
    outcome: Outcome | None = None
    error: str | None = None
    skipped: bool = False

    @property
    def result(self) -> str:
        if self.skipped:
            return "skipped"
        return "FAILED" if self.outcome is None else self.outcome.status

    @property
    def failed(self) -> bool:
        return self.result in ("FAILED", "conflict")

    @property
    def detail(self) -> str:
        if self.error:
            return cell(self.error)
        if self.outcome is None or not self.outcome.changes:
            return "-"
        o = self.outcome
        what = f"{o.source} -> {o.target}, {len(o.changes)} files"
        if o.conflicts:
            return f"{what}; conflicts in {', '.join(o.conflicts)}; resolve in {o.worktree}"
        return f"{what}; branch {o.branch}" if o.commit else what


@dataclass(frozen=True)
class ManyReport:
    results: list[RepoUpdate]
    seconds: float
    jobs: int
    interrupted: bool = False

    @property
    def failed(self) -> list[Path]:
        return [r.repo for r in self.results if r.failed]

    def lines(self) -> list[str]:
        rows = ([str(r.repo), r.result, f"{r.seconds:.2f}", r.detail] for r in self.results)
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.result] = counts.get(r.result, 0) + 1
        summary = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
        return [
            *table(("REPOSITORY", "RESULT", "SECONDS", "DETAIL"), rows, right=(2,)),
            f"{len(self.results)} repositories: {summary}; {self.seconds:.2f}s wall time, {processes(self.jobs)}",
            *details((str(r.repo), r.error) for r in self.results),
        ]


@dataclass(frozen=True)
class _Job:
    repo: Path
    dry_run: bool


def update_many(repos: Sequence[Path], *, dry_run: bool = False, jobs: int | None = None) -> ManyReport:
    """Update each repository, `jobs` processes at once (default: CPU count); results in `repos` order."""
    started = time.perf_counter()
    work = [_Job(Path(r), dry_run) for r in repos]
    workers = worker_count(jobs, len(work))
    done = parallel_map(_update_one, work, workers)
    results = [
        RepoUpdate(job.repo, 0.0, error=INTERRUPTED, skipped=True) if result is None else result
        for job, result in zip(work, done, strict=True)
    ]
    return ManyReport(results, time.perf_counter() - started, workers, interrupted=None in done)


def _update_one(job: _Job) -> RepoUpdate:
    started = time.perf_counter()
    try:
        outcome = update(job.repo, dry_run=job.dry_run)
    except EksgenError as exc:
        return RepoUpdate(job.repo, time.perf_counter() - started, error=exc.format_message())
    except Exception as exc:  # a bug: report it for this repository, keep updating the others
        return RepoUpdate(job.repo, time.perf_counter() - started, error=internal_error(exc))
    return RepoUpdate(job.repo, time.perf_counter() - started, outcome)
