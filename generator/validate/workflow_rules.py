"""Workflow syntax GitHub accepts and the pinned actionlint does not know yet, checked here so that
the repository's actionlint.yaml can ignore exactly actionlint's message about it and nothing else.

`concurrency.queue` (GitHub changelog 2026-05-07, "GitHub Actions concurrency groups now allow larger
queues"; docs: "Control the concurrency of workflows and jobs"): `single` (the default) or `max`, and
`max` only where `cancel-in-progress` is false or unset. actionlint v1.7.12 reports every `queue` key
as unexpected (rhysd/actionlint#657).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from generator import repofiles
from generator.errors import EksgenError
from generator.validate.context import Finding

QUEUE_VALUES = ("single", "max")


def run(repo: Path, workflows: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    for name in workflows:
        try:
            document = yaml.safe_load(repofiles.without_aliases(repofiles.read_text(repo, repo / name), name))
        except (EksgenError, yaml.YAMLError):
            continue  # actionlint reports a workflow it cannot read
        if not isinstance(document, dict):
            continue
        jobs = document.get("jobs")
        blocks = [("concurrency", document.get("concurrency"))]
        if isinstance(jobs, dict):
            blocks += [
                (f"jobs.{job}.concurrency", body.get("concurrency"))
                for job, body in jobs.items()
                if isinstance(body, dict)
            ]
        for where, block in blocks:
            if isinstance(block, dict) and "queue" in block:
                findings += _queue(name, where, block)
    return findings


def _queue(name: str, where: str, block: dict) -> list[Finding]:
    queue, cancel = block.get("queue"), block.get("cancel-in-progress", False)
    if queue not in QUEUE_VALUES:
        return [Finding(name, None, f"{where}.queue must be one of {', '.join(QUEUE_VALUES)}, not {queue!r}")]
    if queue == "max" and cancel is not False:
        return [Finding(name, None, f"{where}.queue: max is allowed only with cancel-in-progress false or unset")]
    return []
