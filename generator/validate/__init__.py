"""`eksgen validate`: named checks over a cluster repository, each timed, with one result type.

Each check family lives in its own module and exposes `run(ctx: Context) -> list[Finding]`;
this module selects, times and reports them. A check passes when it has no finding of severity
"error". The checks share one `Context`, so files are read and parsed once per run.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import EksgenError
from generator.validate.context import Context, Document, Finding  # noqa: F401 - re-exported

# Check name -> module (under generator.validate) whose `run(ctx)` implements it, in run order.
CHECKS = {
    "values": "schema",
    "render": "drift",
    "eksctl": "eksctl",
    "kubeconform": "kubeconform",
    "cel": "cel",
    "policy": "policy",
    "hygiene": "lint",
}


@dataclass
class CheckResult:
    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what was checked, e.g. rule counts

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def check_names() -> list[str]:
    return list(CHECKS)


def select(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[str]:
    only, skip = list(only), list(skip)
    for name in only + skip:
        if name not in CHECKS:
            raise EksgenError(f"unknown check {name!r}; the checks are {', '.join(CHECKS)}")
    return [n for n in CHECKS if (not only or n in only) and n not in skip]


def run(ctx: Context, only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[CheckResult]:
    results = []
    for name in select(only, skip):
        started = time.perf_counter()
        module = importlib.import_module(f"generator.validate.{CHECKS[name]}")
        result = CheckResult(name)
        try:
            result.findings = module.run(ctx)
            result.notes = list(ctx.notes.pop(name, []))
        except EksgenError as exc:
            result.findings = [Finding(".", None, exc.format_message())]
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def run_repo(repo: Path, **kwargs) -> list[CheckResult]:
    """Convenience for callers that have no Context yet."""
    return run(Context(repo), **kwargs)
