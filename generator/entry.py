"""The console script `eksgen`: Ctrl-C or SIGTERM at any moment ends with one line and exit 130, never a
traceback, and with eksgen's temporary files removed.

`generator.cli` imports click, ruamel.yaml and the commands' modules, which takes a noticeable part
of a second; a Ctrl-C then, before `cli.main`'s error boundary exists, would print Python's
traceback. This module imports nothing but `sys` and `signal` before it can catch one.
"""

from __future__ import annotations

import signal
import sys


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a cancelled CI job, `timeout`) cleans up as Ctrl-C does


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    try:
        from generator import cli

        cli.main()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the goodbye
        try:
            sys.stderr.write("\ninterrupted\n")
            sys.stderr.flush()
        except OSError:
            pass
        sys.exit(130)
