"""The real aws CLI, wrapped: every invocation is recorded and can fail by injection (FAKE_FAIL), and
`aws --version` answers as the toolchain image's AWS CLI v2 does (PyPI has only v1; set
FAKE_AWS_REAL_VERSION=1 to let the real one answer). Everything else runs the real CLI against moto."""

from __future__ import annotations

import os
import subprocess
import sys

import _fake

V2 = "aws-cli/2.22.10 Python/3.12.8 Linux/6.6.0 exe/x86_64.alpine.3 prompt/off"


def handle(argv: list[str], stage: str | None) -> int:
    if argv == ["--version"] and os.environ.get("FAKE_AWS_REAL_VERSION") != "1":
        print(V2)
        return 0
    if stage is not None:
        operation = "".join(part.title() for part in (argv[1] if len(argv) > 1 else "call").split("-"))
        print(f"\nAn error occurred (Throttling) when calling the {operation} operation (reached max retries: 4): "
              "Rate exceeded (injected failure)", file=sys.stderr)
        return 254
    return subprocess.call([os.environ["FAKE_REAL_AWS"], *argv])


if __name__ == "__main__":
    _fake.main("aws", handle)
