"""`eksgen validate`: named checks over a cluster repository, each timed, with one result type.

Each check family lives in its own module and exposes `run(repo) -> list[Finding]`; this module
selects, times and reports them. A check passes when it has no finding of severity "error".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import EksgenError


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    message: str
    severity: str = "error"  # or "warning"

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class CheckResult:
    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def _checks() -> dict[str, Callable[[Path], list[Finding]]]:
    from generator.validate import drift, schema

    return {"values": schema.run, "render": drift.run}


def check_names() -> list[str]:
    return list(_checks())


def run(repo: Path, only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[CheckResult]:
    checks = _checks()
    only, skip = list(only), list(skip)
    for name in only + skip:
        if name not in checks:
            raise EksgenError(f"unknown check {name!r}; the checks are {', '.join(checks)}")
    selected = [n for n in checks if (not only or n in only) and n not in skip]
    results = []
    for name in selected:
        started = time.perf_counter()
        try:
            findings = checks[name](repo)
        except EksgenError as exc:
            findings = [Finding(".", None, exc.format_message())]
        results.append(CheckResult(name, findings, time.perf_counter() - started))
    return results
