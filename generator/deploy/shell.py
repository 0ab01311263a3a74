"""Running eksctl, aws, helm and kubectl for a deploy: reads quietly, changes loudly.

A read (describe, get, list, diff, wait) captures its output for the caller. A change streams its
output into the log as it runs, is timed, and is kept in the list of changes the report shows; a
failed change raises StepFailedError with its last lines of output. Every program runs in the
repository with the deploy's environment: the region of values.yaml and a kubeconfig of its own.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import tools
from generator.errors import DeployError, StepFailedError, ToolTimeoutError

Log = Callable[[str], None]

# Seconds a change may take, by command prefix (the longest matching prefix wins). Creating a
# cluster or replacing a node group's nodes takes EKS most of an hour at worst.
TIMEOUTS: dict[tuple[str, ...], float] = {
    (): 900,
    ("eksctl",): 3600,
    ("aws", "cloudformation"): 1800,
    ("helm",): 900,
    ("kubectl",): 600,
}
READ_TIMEOUT = 300.0


@dataclass
class Change:
    command: list[str]
    seconds: float
    exit_code: int


@dataclass
class Runner:
    repo: Path
    env: dict[str, str]
    log: Log
    programs: dict[str, str] = field(default_factory=dict)  # name -> absolute path, filled by preflight
    changes: list[Change] = field(default_factory=list)

    def read(self, args: Sequence[str], *, timeout: float = READ_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run a command that changes nothing; the caller looks at its exit code and output."""
        try:
            return tools.capture(self._resolve(args), cwd=self.repo, env=self.env, timeout=timeout)
        except ToolTimeoutError:
            raise DeployError(f"`{shlex.join(args)}` did not answer within {timeout:.0f} s") from None

    def read_json(self, args: Sequence[str], *, absent: Sequence[str] = (), timeout: float = READ_TIMEOUT) -> Any:
        """A read whose output is JSON; None when it fails with one of the `absent` messages (not found)."""
        result = self.read(args, timeout=timeout)
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip()
            if any(pattern in message for pattern in absent):
                return None
            raise DeployError(f"`{shlex.join(args)}` failed (exit {result.returncode}): {_excerpt(message)}")
        try:
            return json.loads(result.stdout or "null")
        except json.JSONDecodeError:
            raise DeployError(
                f"`{shlex.join(args)}` printed something that is not JSON: {_excerpt(result.stdout)}"
            ) from None

    def change(self, args: Sequence[str], *, timeout: float | None = None, tolerate: Sequence[str] = ()) -> bool:
        """Run a command that changes the cluster or the account, streaming its output into the log.

        A failure whose output has one of the `tolerate` messages (what the program says when the change is
        there already) changed nothing: it is not kept as a change, and the result is False."""
        args = list(args)
        limit = timeout if timeout is not None else _timeout(args)
        self.log(f"  $ {shlex.join(args)}")
        started = time.monotonic()
        code, tail = tools.stream(
            self._resolve(args),
            cwd=self.repo,
            env=self.env,
            timeout=limit,
            on_line=lambda line: self.log(f"    | {line}"),
        )
        if code != 0 and any(message in line for message in tolerate for line in tail):
            self.log("    (it is there already: nothing changed)")
            return False
        self.changes.append(Change(args, time.monotonic() - started, code))
        if code != 0:
            shown = "\n".join(f"    {line}" for line in tail[-12:])
            raise StepFailedError(f"`{shlex.join(args)}` exited {code}:\n{shown}")
        return True

    def _resolve(self, args: Sequence[str]) -> list[str]:
        return [self.programs.get(args[0], args[0]), *args[1:]]


def _timeout(args: list[str]) -> float:
    best: tuple[str, ...] = ()
    for prefix in TIMEOUTS:
        if tuple(args[: len(prefix)]) == prefix and len(prefix) > len(best):
            best = prefix
    return TIMEOUTS[best]


def _excerpt(text: str, lines: int = 8) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()][:lines]
    return " | ".join(kept) or "no output"
