"""Shared fixtures: the packaged schemas, tools on PATH, no network, no writes to the cwd."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import resources
from generator.cli import cli

ROOT = Path(__file__).resolve().parents[1]

# The pinned tools `make setup` builds; tests find them even when run without make.
os.environ["PATH"] = os.pathsep.join(
    [str(ROOT / ".tools" / "bin"), str(ROOT / ".venv" / "bin"), os.environ.get("PATH", "")]
)


@pytest.fixture(scope="session")
def schemas() -> Path:
    """The upstream schemas and CRDs shipped inside the package (generator/schemas/)."""
    return resources.schemas_dir()


@pytest.fixture(autouse=True, scope="session")
def _schema_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Converted schemas go to a cache of the test session, never the user's ~/.cache."""
    os.environ["EKSGEN_CACHE"] = str(tmp_path_factory.mktemp("eksgen-cache"))


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach past the loopback interface."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and not (self.family == socket.AF_UNIX)
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test does lands in the working directory of the run."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def cli_invoke():
    """Run the eksgen command line in-process; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # noqa: A002 - click's name
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


# AWS without AWS: a moto server on 127.0.0.1 for the session (`moto_endpoint`) and, per test, a
# clean state with the aws CLI and boto3 pointed at it (`aws`). See tests/aws.py.
from tests.aws import aws, moto_endpoint  # noqa: E402, F401 - fixtures, registered by import

# The fakes' fork server, one per session (worker), which the `fakes` fixture of tests/deploy_support.py uses.
from tests.deploy_support import fake_zygote  # noqa: E402, F401 - a fixture, registered by import
