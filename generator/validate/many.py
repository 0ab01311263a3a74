"""`eksgen validate REPO REPO...`: many cluster repositories validated in parallel, one summary.

Each repository is validated exactly as `eksgen validate REPO` validates it (the same checks, run
concurrently inside it) in a worker process of its own, `jobs` at once. The schema cache is safe
to fill from several processes, so a cold cache costs each worker at most one conversion.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import EksgenError
from generator.parallel import INTERRUPTED, Interrupted, internal_error, parallel_map, worker_count
from generator.tables import cell, details, table
from generator.validate import CheckResult, Context, run, select

__all__ = ["Interrupted", "ManyReport", "RepoResult", "check_json", "validate_many"]


@dataclass(frozen=True)
class RepoResult:
    repo: Path
    seconds: float
    checks: list[CheckResult]
    error: str | None = None  # the repository could not be validated at all
    skipped: bool = False  # an interrupt came first

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)

    @property
    def result(self) -> str:
        return "skipped" if self.skipped else "PASS" if self.passed else "FAIL"

    @property
    def failed_checks(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]


@dataclass(frozen=True)
class _Job:
    repo: Path
    only: tuple[str, ...]
    skip: tuple[str, ...]
    schemas: Path | None
    crds: str | None


@dataclass(frozen=True)
class ManyReport:
    results: list[RepoResult]
    seconds: float  # wall time of the whole run
    jobs: int  # worker processes used (1: the work ran in this process)
    interrupted: bool = False  # some repositories were not validated because of an interrupt

    @property
    def failed(self) -> list[Path]:
        """The repositories that were validated and failed."""
        return [r.repo for r in self.results if r.result == "FAIL"]

    def lines(self) -> list[str]:
        """One row per repository, then the totals."""
        rows = (
            [str(r.repo), r.result, f"{r.seconds:.2f}", cell(r.error) if r.error else ", ".join(r.failed_checks) or "-"]
            for r in self.results
        )
        counts = {word: sum(r.result == word for r in self.results) for word in ("PASS", "FAIL", "skipped")}
        processes = "in this process" if self.jobs <= 1 else f"{self.jobs} worker processes"
        return [
            *table(("REPOSITORY", "RESULT", "SECONDS", "FAILING CHECKS"), rows, right=(2,)),
            f"{len(self.results)} repositories: {counts['PASS']} passed, {counts['FAIL']} failed"
            + (f", {counts['skipped']} skipped (interrupted)" if self.interrupted else "")
            + f"; {self.seconds:.2f}s wall time, {processes}",
            *details((str(r.repo), r.error) for r in self.results),
        ]

    def as_json(self) -> list[dict]:
        """Per repository: what `eksgen validate REPO --format json` reports, with its path and time."""
        return [
            {
                "repo": str(r.repo),
                "passed": r.passed,
                "result": r.result,
                "seconds": round(r.seconds, 4),
                "error": r.error,
                "failed_checks": r.failed_checks,
                "checks": [check_json(c) for c in r.checks],
            }
            for r in self.results
        ]


def check_json(result: CheckResult) -> dict:
    return {
        "check": result.name,
        "passed": result.passed,
        "seconds": round(result.seconds, 4),
        "notes": result.notes,
        "findings": [vars(f) for f in result.findings],
    }


def validate_many(
    repos: Sequence[Path],
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    schemas: Path | None = None,
    crds: str | None = None,
    jobs: int | None = None,
) -> ManyReport:
    """Validate each repository with the selected checks, `jobs` processes at once (default: CPU count).

    An unknown check name is an error before any repository is touched; results are in `repos` order.
    """
    started = time.perf_counter()
    select(only, skip)
    work = [_Job(Path(repo), tuple(only), tuple(skip), schemas, crds) for repo in repos]
    workers = worker_count(jobs, len(work))
    done = parallel_map(_validate_one, work, workers)
    results = [
        RepoResult(job.repo, 0.0, [], error=INTERRUPTED, skipped=True) if result is None else result
        for job, result in zip(work, done, strict=True)
    ]
    return ManyReport(results, time.perf_counter() - started, workers, interrupted=None in done)


def _validate_one(job: _Job) -> RepoResult:
    started = time.perf_counter()
    try:
        checks = run(Context(job.repo, schemas=job.schemas, crds=job.crds), job.only, job.skip)
    except EksgenError as exc:
        return RepoResult(job.repo, time.perf_counter() - started, [], error=exc.format_message())
    except Exception as exc:  # a bug: report it for this repository, keep validating the others
        return RepoResult(job.repo, time.perf_counter() - started, [], error=internal_error(exc))
    return RepoResult(job.repo, time.perf_counter() - started, checks)
