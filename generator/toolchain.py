"""Which eksgen the cluster repository's toolchain image installs.

The image runs the eksgen version that generated the repository. A released eksgen comes from
PyPI (`pip install eksgen==VERSION`). An unreleased or forked one cannot, so its wheel goes into
the repository's `toolchain/wheels/`, where the image's pip finds it first (`--find-links`):
run from a source checkout, eksgen builds its own wheel (hatchling builds reproducibly, so the
same source gives the same bytes); installed from a wheel, `--toolchain-wheel FILE` names one.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path

import generator
from generator import resources, tools
from generator.errors import AnswerError, EksgenError
from generator.layout import WHEELS


def wheel_name() -> str:
    return f"eksgen-{generator.__version__}-py3-none-any.whl"


def wheel_for_image(explicit: Path | None = None) -> Path | None:
    """The wheel to place in toolchain/wheels/, or None when the image installs from PyPI."""
    if explicit is not None:
        if explicit.name != wheel_name() or not explicit.is_file():
            raise AnswerError(
                "--toolchain-wheel",
                str(explicit),
                f"must be an existing {wheel_name()} (the image runs the eksgen that generates)",
            )
        return explicit
    return _build_own_wheel() if resources.is_source_checkout() else None


@functools.cache
def _build_own_wheel() -> Path:
    """Build this checkout's wheel once per process, into a directory removed at exit."""
    out = Path(tempfile.mkdtemp(prefix="eksgen-wheel-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    project = resources.template_dir().parent
    done = tools.capture(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory", str(out)], cwd=project
    )
    wheel = out / wheel_name()
    if done.returncode != 0 or not wheel.is_file():
        raise EksgenError(
            f"eksgen runs from the source checkout {project}, so the toolchain image needs its wheel, and building "
            f"it failed ({(done.stderr or done.stdout).strip()[-400:]}); `make setup` installs hatchling, "
            "or pass --toolchain-wheel FILE"
        )
    return wheel


def place(wheel: Path | None, project: Path) -> None:
    """Copy the wheel into the generated repository (toolchain/wheels/ exists in the template)."""
    if wheel is not None:
        shutil.copyfile(wheel, project / WHEELS / wheel.name)
