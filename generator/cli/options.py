"""What several commands share: the --repo option, the step summary file, NAME[,NAME] lists."""

from __future__ import annotations

import os
from pathlib import Path

import click

repo_option = click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)


def step_summary() -> Path | None:
    """GitHub Actions' job summary file, when running there."""
    value = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(value) if value else None


def split_names(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]
