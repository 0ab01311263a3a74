"""`eksgen validate`: named checks over a cluster repository, each timed, with one result type.

Each check family lives in its own module and exposes `run(ctx: Context) -> list[Finding]`;
this module selects, times and reports them. A check passes when it has no finding of severity
"error". The checks share one `Context`, so files are read and parsed once per run.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import EksgenError
from generator.validate.context import Context, Document, Finding  # noqa: F401 - re-exported

# The checks in run order; each is the module of its name under generator.validate, with `run(ctx)`.
CHECKS = ("values", "render", "eksctl", "kubeconform", "apiserver", "policy", "hygiene")


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


def run(ctx: Context, only: Iterable[str] = (), skip: Iterable[str] = (), jobs: int | None = None) -> list[CheckResult]:
    """Run the selected checks concurrently (most of their time is spent waiting on helm,
    kubeconform and the linters); results come back in check order."""
    names = select(only, skip)
    _warm(ctx)
    with ThreadPoolExecutor(max_workers=jobs or max(1, len(names))) as pool:
        results = list(pool.map(lambda name: _run_one(ctx, name), names))
    return _once(results)


# kubeconform and the API server's validation see the same schema mistakes (a wrong type, an
# unknown field, a pattern); the later check leaves out what an earlier one reported at that place.
_SAME_GROUND = ("kubeconform", "apiserver")


def _once(results: list[CheckResult]) -> list[CheckResult]:
    seen: set[tuple[str, int | None]] = set()
    for result in results:
        if result.name not in _SAME_GROUND:
            continue
        result.findings = [f for f in result.findings if f.line is None or (f.file, f.line) not in seen]
        seen |= {(f.file, f.line) for f in result.findings}
    return results


def _run_one(ctx: Context, name: str) -> CheckResult:
    started = time.perf_counter()
    result = CheckResult(name)
    try:
        module = importlib.import_module(f"generator.validate.{name}")
        result.findings = module.run(ctx)
    except EksgenError as exc:
        result.findings = [Finding(".", None, exc.format_message())]
    result.notes = list(ctx.notes.get(name, []))
    result.seconds = time.perf_counter() - started
    return result


def _warm(ctx: Context) -> None:
    """Parse the shared files once, before the checks race for them."""
    for attribute in ("values", "documents"):
        try:
            getattr(ctx, attribute)
        except EksgenError:
            pass  # each check that needs it reports the error itself


def run_repo(repo: Path, **kwargs) -> list[CheckResult]:
    """Convenience for callers that have no Context yet."""
    return run(Context(repo), **kwargs)
