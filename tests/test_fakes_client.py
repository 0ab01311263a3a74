"""The fakes' fork server and its C client (tests/fakes/_zygote.py, client.c) run a script as `python
SCRIPT ARGS` does: the same arguments, working directory, environment, stdin, stdout, stderr and exit
code. The reference is a fresh interpreter running the same script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """\
import json, os, sys
data = sys.stdin.read()
print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "odd": os.environ.get("ODD"), "stdin": data}))
print("to stderr", file=sys.stderr)
sys.exit(int(os.environ["EXIT"]))
"""

ARGUMENTS = ["plain", "two words", "line\nbreak", "--flag=a=b", "", "ünïcode", os.fsdecode(b"not-utf8-\xff")]


@pytest.mark.parametrize("code", [0, 3, 254])
def test_a_call_through_the_fork_server_is_a_call_of_a_fresh_interpreter(fake_zygote, tmp_path: Path, code: int):
    script = tmp_path / "echo.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "ODD": "a=b=c\tand more", "EXIT": str(code)}
    arguments = [os.fsencode(a) for a in ARGUMENTS]

    def run(command: list) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(command, input=b"from stdin\n", capture_output=True, env=env, cwd=tmp_path, timeout=60)

    served = run([fake_zygote["client"], fake_zygote["fakes"], str(script), *arguments])
    fresh = run([sys.executable, str(script), *arguments])
    assert (served.returncode, served.stdout, served.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert served.returncode == code


def test_a_server_that_is_gone_is_an_error_that_names_it(fake_zygote, tmp_path: Path):
    missing = str(tmp_path / "no-server")
    result = subprocess.run([fake_zygote["client"], missing, "kubectl.py"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith(f"kubectl.py: fake client: {missing}: "), result.stderr
