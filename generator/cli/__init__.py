"""The eksgen command line: parse options, call the core, map errors to exit codes. The commands live
in new.py (`eksgen new`), repository.py (render, validate, set, get, plan, update) and cluster.py
(bootstrap, deploy, status, destroy); `main` is the one error boundary.

Exit codes: 0 success, 1 a domain failure (existing target, failed tool, failed check),
2 a bad parameter or answer, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

import generator
from generator.cli import cluster, new, repository


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(generator.__version__, prog_name="eksgen")
def cli() -> None:
    """Generate and operate a GitOps repository that is one Amazon EKS cluster with Karpenter."""


# The commands: the modules of this package define them, the group gathers them.
for command in (
    new.new,
    repository.render,
    repository.validate,
    repository.set_command,
    repository.get,
    repository.plan,
    repository.update,
    cluster.bootstrap,
    cluster.deploy,
    cluster.status,
    cluster.destroy,
):
    cli.add_command(command)


def main() -> None:
    """The console script: one error boundary around the whole command line."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        code = cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("\ninterrupted", err=True)  # each command cleans up after itself (new: nothing left)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # the file system said no (full, read-only, gone): the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"Error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: say so, keep the traceback out of the user's way
        if os.environ.get("EKSGEN_DEBUG") == "1":
            traceback.print_exc()
        click.echo(
            f"eksgen: internal error ({type(exc).__name__}: {exc}); this is a bug. "
            "Set EKSGEN_DEBUG=1 for the traceback.",
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
