"""What a deploy or destroy did, step by step: the log's last lines and the GitHub step summary."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.deploy.shell import Log, Runner
from generator.errors import EksgenError
from generator.markdown_text import escape

CHANGED, UNCHANGED, FAILED, NOT_RUN = "changed", "unchanged", "failed", "not run"


@dataclass
class StepResult:
    name: str
    title: str
    status: str = NOT_RUN
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Report:
    operation: str  # "deploy" or "destroy"
    cluster: str = ""
    region: str = ""
    account: str = ""
    base: str = ""  # what the cluster was at, for a deploy
    head: str = ""
    plan: str = ""  # the plan's summary line
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(s.status == CHANGED for s in self.steps)

    def markdown(self) -> str:
        outcome = (
            f"FAILED: {self.error.splitlines()[0]}" if self.error else ("done" if self.changed else "nothing to change")
        )
        where = ", ".join(x for x in (self.region, f"account {self.account}" if self.account else "") if x)
        # Every repository or AWS string goes through escape(): shown, never interpreted as markdown.
        out = [f"## eksgen {self.operation} {escape(self.cluster or '?', 'code')}: {escape(outcome)}", ""]
        if self.operation == "deploy" and self.head:
            out.append(
                f"From {escape(self.base or '(nothing deployed)')} to {escape(self.head, 'code')}"
                + (f" in {escape(where)}" if where else "")
                + "."
            )
        elif where:
            out.append(f"In {escape(where)}.")
        if self.plan:
            out += ["", f"Plan: {escape(self.plan)}"]
        if self.steps:
            out += ["", "| step | result | time | commands |", "|---|---|---|---|"]
            for step in self.steps:
                commands = "<br>".join(escape(c, "code") for c in step.commands) or "-"
                notes = "<br>".join(escape(n) for n in step.notes)
                result = escape(step.status) + (f"<br>{notes}" if notes else "")
                out.append(f"| {escape(step.title)} | {result} | {step.seconds:.1f}s | {commands} |")
        if self.error:
            fence = escape(self.error, "block")
            out += [
                "",
                fence,
                self.error,
                fence,
                "",
                f"Run the {self.operation} again once the cause is fixed: it continues from the live state.",
            ]
        out += ["", f"Took {self.seconds:.1f}s.", ""]
        return "\n".join(out)

    def append_to(self, path: Path) -> None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(self.markdown() + "\n")


@contextmanager
def step(report: Report, runner: Runner, log: Log, name: str, title: str) -> Iterator[StepResult]:
    """Run one step: log its start and outcome, time it, and collect the changes it made."""
    result = StepResult(name, title)
    report.steps.append(result)
    number = len(report.steps)
    log(f"[{number}] {title}")
    before = len(runner.changes)
    started = time.monotonic()
    try:
        yield result
    except BaseException:
        result.status = FAILED
        raise
    finally:
        result.seconds = time.monotonic() - started
        result.commands = [shlex.join(c.command) for c in runner.changes[before:]]
        if result.status != FAILED:
            result.status = CHANGED if result.commands else UNCHANGED
        log(f"[{number}] {title}: {result.status} ({result.seconds:.1f}s)")


def note(result: StepResult, log: Log, text: str) -> None:
    result.notes.append(text)
    log(f"  - {text}")


@contextmanager
def reported(report: Report, summary: Path | None) -> Iterator[Report]:
    """A deploy or destroy, timed: whatever ends it early is the report's error (a summary must never
    read as a success), and the report is appended to the step summary however it ends."""
    started = time.monotonic()
    try:
        yield report
    except EksgenError as exc:
        report.error = exc.format_message()
        raise
    except BaseException as exc:  # interrupted, or a bug
        report.error = f"stopped by {type(exc).__name__}: {exc}".rstrip(": ")
        raise
    finally:
        report.seconds = time.monotonic() - started
        if summary is not None:
            report.append_to(summary)


def run_steps(
    report: Report, runner: Runner, log: Log, parts: Sequence[tuple[str, str, Callable[[StepResult], None]]]
) -> None:
    """The steps in order; when one fails, those after it are in the report as not run."""
    for i, (name, title, function) in enumerate(parts):
        try:
            with step(report, runner, log, name, title) as result:
                function(result)
        except BaseException:
            report.steps += [StepResult(n, t, NOT_RUN) for n, t, _ in parts[i + 1 :]]
            raise
