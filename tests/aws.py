"""AWS without AWS: a moto server on 127.0.0.1 for the whole test session, and a per-test `aws`
fixture that points the aws CLI and boto3 at it with fake credentials and a clean state.

Only the loopback interface is used; nothing here reaches the network. The aws CLI runs as a
real subprocess (`aws cloudformation deploy` is what deploys run), boto3 reads the results back.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-west-2"

# moto's EC2 holds the images of MOTO_AMIS_PATH, read when moto is imported: here one Amazon Linux 2023
# image (an entry of moto's own catalogue), which is all the fakes launch. Its default catalogue has some
# 1,300 images per region, built again after every reset, which cost a deploy test seconds of CPU.
os.environ["MOTO_AMIS_PATH"] = str(Path(__file__).with_name("moto_amis.json"))


@dataclass(frozen=True)
class Aws:
    """The moto endpoint a test talks to, with helpers for boto3 and the aws CLI."""

    endpoint: str
    region: str
    account_id: str
    env: dict[str, str]

    def client(self, service: str):  # noqa: ANN201 - boto3's client types are generated
        import boto3  # imported when a test uses AWS, not by every test run

        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )

    def cli(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the aws CLI against moto; a failure shows its output."""
        result = subprocess.run(["aws", *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def deploy(self, template: Path, stack: str, *overrides: str) -> subprocess.CompletedProcess[str]:
        """`aws cloudformation deploy`, as the deploy step and the bootstrap instructions run it."""
        args = [
            "cloudformation",
            "deploy",
            "--template-file",
            str(template),
            "--stack-name",
            stack,
            "--capabilities",
            "CAPABILITY_NAMED_IAM",
            "--no-fail-on-empty-changeset",
        ]
        if overrides:
            args += ["--parameter-overrides", *overrides]
        return self.cli(*args)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session, on a free port of 127.0.0.1."""
    from moto.server import ThreadedMotoServer  # imported when a test uses AWS, not by every test run

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    _remember_partitions()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _remember_partitions() -> None:
    """moto 5.2 checks each role ARN given to EKS against the partitions of a new boto3 Session, which
    parses botocore's endpoints.json (about a megabyte) on every such request; the list never changes."""
    import boto3
    from moto.eks import utils

    partitions = boto3.Session().get_available_partitions()

    class Session:
        def get_available_partitions(self) -> list[str]:
            return list(partitions)

    utils.Session = Session


# Variables that could send the aws CLI or boto3 elsewhere, or to real credentials.
_CLEARED = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CA_BUNDLE",
    "AWS_DEFAULT_PROFILE",
)


def environment(endpoint: str, folder: Path) -> dict[str, str]:
    """os.environ with fake credentials and every AWS endpoint on moto (`folder` holds a config)."""
    config = folder / "aws-config"
    config.write_text(f"[default]\nregion = {REGION}\n", encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        }
    )
    return env


def fresh(endpoint: str, folder: Path) -> Aws:
    """A clean moto state and a handle on it, for fixtures wider than one test."""
    handle = Aws(endpoint, REGION, ACCOUNT_ID, environment(endpoint, folder))
    handle.reset()
    return handle


@pytest.fixture
def aws(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """A clean moto state, and an environment in which boto3 and the aws CLI reach only moto."""
    handle = fresh(moto_endpoint, tmp_path)
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in handle.env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return handle


def policy_document(document: object) -> dict:
    """An IAM policy document as boto3 returns it: a dict, or URL-encoded JSON for some calls.

    moto keeps the inline policies of a role made by CloudFormation (Properties.Policies) as the
    Python repr of the template's mapping, not as JSON; those are read as Python literals."""
    if isinstance(document, dict):
        return document
    assert isinstance(document, str), document
    text = unquote(document)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        parsed = ast.literal_eval(text)
        assert isinstance(parsed, dict), text
        return parsed
