"""The real aws CLI, wrapped: every invocation is recorded and can fail by injection (FAKE_FAIL), and
`aws --version` answers as the toolchain image's AWS CLI v2 does (PyPI has only v1; set
FAKE_AWS_REAL_VERSION=1 to let the real one answer). Everything else runs the real CLI against moto,
but `aws iam create-service-linked-role` of the services below, which moto names and repeats unlike IAM.

IAM names the service-linked role of spot.amazonaws.com AWSServiceRoleForEC2Spot, under the path
/aws-service-role/spot.amazonaws.com/, and refuses to create it twice with InvalidInput, "Service role name
AWSServiceRoleForEC2Spot has been taken in this account, please try a different suffix."
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html,
https://docs.aws.amazon.com/batch/latest/userguide/spot-fleet-roles-cli.html); moto 5 would name it
AWSServiceRoleForspot and answer the second call EntityAlreadyExists.

It runs in the aws CLI's fork server (tests/fakes/_zygote.py), and the real CLI runs in the same process:
one fork per call instead of a fork for the wrapper and a second one for the CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import _fake

V2 = "aws-cli/2.22.10 Python/3.12.8 Linux/6.6.0 exe/x86_64.alpine.3 prompt/off"
SERVICE_LINKED_ROLES = {"spot.amazonaws.com": "AWSServiceRoleForEC2Spot"}
CLIENT_ERROR = 254  # the AWS CLI v2 exit code of an error the service returned


def handle(argv: list[str], stage: str | None) -> int:
    if argv == ["--version"] and os.environ.get("FAKE_AWS_REAL_VERSION") != "1":
        print(V2)
        return 0
    if stage is not None:
        operation = "".join(part.title() for part in (argv[1] if len(argv) > 1 else "call").split("-"))
        print(
            f"\nAn error occurred (Throttling) when calling the {operation} operation (reached max retries: 4): "
            "Rate exceeded (injected failure)",
            file=sys.stderr,
        )
        return 254
    if argv[:2] == ["iam", "create-service-linked-role"]:
        _, flags = _fake.parse(
            argv[2:],
            {
                "--aws-service-name": "value",
                "--description": "value",
                "--custom-suffix": "value",
                "--output": "value",
                "--region": "value",
            },
            "usage: aws iam create-service-linked-role --aws-service-name <value>",
            "aws",
        )
        service = str(flags.get("--aws-service-name") or "")
        if service in SERVICE_LINKED_ROLES and not flags.get("--custom-suffix"):
            return _create_service_linked_role(service, SERVICE_LINKED_ROLES[service], flags.get("--description"))
    return _aws(argv)


def _aws(argv: list[str]) -> int:
    """The real aws CLI, in this process, as `aws ARGV` would run: its exit code."""
    import awscli.clidriver  # the fork server has imported it, with its own botocore

    sys.argv = ["aws", *argv]
    try:
        return awscli.clidriver.main()
    except SystemExit as done:  # `--version` and usage errors end through argparse
        return done.code if isinstance(done.code, int) else int(done.code is not None)


def _create_service_linked_role(service: str, name: str, description: object) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        taken = _aws(["iam", "get-role", "--role-name", name]) == 0
    if taken:
        print(
            "\nAn error occurred (InvalidInput) when calling the CreateServiceLinkedRole operation: Service role "
            f"name {name} has been taken in this account, please try a different suffix.",
            file=sys.stderr,
        )
        return CLIENT_ERROR
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}],
    }
    create = ["iam", "create-role", "--role-name", name, "--path", f"/aws-service-role/{service}/"]
    create += ["--assume-role-policy-document", json.dumps(trust), "--output", "json"]
    return _aws(create + (["--description", str(description)] if description else []))


if __name__ == "__main__":
    _fake.main("aws", handle)
