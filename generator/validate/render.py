"""The `render` check: rendered/ must be byte for byte what helm makes from values.yaml now."""

from __future__ import annotations

from generator import render
from generator.validate.context import Context, Finding

_HOW = {
    "missing": "not in rendered/ but helm renders it",
    "changed": "differs from what helm renders from values.yaml",
    "unexpected": "helm no longer renders it",
}


def run(ctx: Context) -> list[Finding]:
    return [
        Finding(d.path, None, f"{_HOW[d.reason]}; run ./eks-accelerator.sh render")
        for d in render.drift(ctx.repo, render.render(ctx.repo))
    ]
