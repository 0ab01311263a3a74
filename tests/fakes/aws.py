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
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
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
    return subprocess.call([os.environ["FAKE_REAL_AWS"], *argv])


def _create_service_linked_role(service: str, name: str, description: object) -> int:
    iam = _fake.boto("iam")
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass
    else:
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
    role = iam.create_role(
        RoleName=name,
        Path=f"/aws-service-role/{service}/",
        AssumeRolePolicyDocument=json.dumps(trust),
        **({"Description": str(description)} if description else {}),
    )["Role"]
    print(json.dumps({"Role": role}, indent=4, default=_iso))
    return 0


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


if __name__ == "__main__":
    _fake.main("aws", handle)
