"""At a terminal without --no-input, `eksgen new` asks for what is missing, showing defaults."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _read_until(fd: int, text: str, timeout: float = 30.0) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, f"waited for {text!r}, saw {seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096).decode()
            except OSError:
                break
    return seen


def test_prompts_for_missing_answers_with_defaults(tmp_path):
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "new", "asked", "--output-dir", str(tmp_path), "--k8s-version", "1.32"],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=ROOT,
        env=os.environ.copy(),
        close_fds=True,
    )
    os.close(child)
    conversation = [
        ("AWS region [us-west-2]:", "eu-west-1"),
        ("Karpenter version [1.14.1]:", ""),
        ("Instance type of the managed node group [t3.medium]:", ""),
        ("VPC CIDR [10.10.0.0/16]:", ""),
        ("Karpenter capacity types (spot,on-demand) [spot,on-demand]:", "on-demand"),
        ("Karpenter architectures (amd64,arm64) [amd64]:", ""),
        ("GitHub repository (ORG/NAME, empty for none) []:", ""),
        ("GitHub environment for deploys [production]:", "staging"),
        ("AWS account id (12 digits, empty for none) []:", ""),
    ]
    try:
        for prompt, answer in conversation:
            _read_until(main, prompt)
            os.write(main, answer.encode() + b"\n")
        _read_until(main, "Created ")
    finally:
        proc.wait(timeout=60)
        os.close(main)
    assert proc.returncode == 0
    values = (tmp_path / "asked" / "values.yaml").read_text()
    assert 'awsRegion: "eu-west-1"' in values
    assert 'eksVersion: "1.32"' in values, "options given are not asked again"
    assert 'capacityTypes: ["on-demand"]' in values
    assert 'environment: "staging"' in values
