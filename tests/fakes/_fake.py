"""What the recording fakes of eksctl, helm and kubectl share (and the aws CLI's recording wrapper).

Every invocation is appended to $FAKE_STATE_DIR/calls.jsonl with its arguments and exit code.
$FAKE_FAIL injects failures: `;`-separated command prefixes ("helm upgrade --install karpenter "),
each failing once; `prefix@stage` lets the command do its work up to `stage` first (eksctl's
`create cluster@control-plane` creates the control plane, then fails). Kubernetes state (objects,
CRDs, Helm releases) is a JSON file per test; AWS state is moto's, reached with boto3.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STATE = Path(os.environ["FAKE_STATE_DIR"])
CALLS = STATE / "calls.jsonl"


class Exit(Exception):  # noqa: N818 - it is how a fake ends, not an error of the fake
    """End the fake with an exit code and a message on stderr, as the real program would."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def main(tool: str, handler) -> None:  # noqa: ANN001 - handler(argv, stage) -> int
    argv = sys.argv[1:]
    stage = failure(tool, argv)
    try:
        code = handler(argv, stage)
    except Exit as done:
        if done.message:
            print(done.message, file=sys.stderr)
        code = done.code
    record(tool, argv, code)
    sys.exit(code)


def record(tool: str, argv: list[str], code: int) -> None:
    line = json.dumps({"tool": tool, "args": argv, "exit": code, "cwd": os.getcwd(), "time": time.time()})
    with _lock():
        with CALLS.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def failure(tool: str, argv: list[str]) -> str | None:
    """The stage at which this invocation fails ("" = at once), or None; each prefix fails once."""
    command = " ".join([tool, *argv])
    for item in filter(None, (p.strip() for p in os.environ.get("FAKE_FAIL", "").split(";"))):
        prefix, _, stage = item.partition("@")
        if command.startswith(prefix):
            marker = STATE / ("failed-" + hashlib.sha256(item.encode()).hexdigest()[:16])
            with _lock():
                if marker.exists():
                    continue
                marker.touch()
            return stage
    return None


def checkpoint(stage: str | None, here: str, message: str) -> None:
    """Fail here if the injected failure names this stage."""
    if stage == here:
        raise Exit(1, message)


@contextmanager
def _lock() -> Iterator[None]:
    with (STATE / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def state(name: str) -> Iterator[dict]:
    """A JSON document of fake state, locked while it is read and written back."""
    path = STATE / f"{name}.json"
    with _lock():
        data = json.loads(path.read_text()) if path.exists() else {}
        yield data
        path.write_text(json.dumps(data, indent=1, sort_keys=True))


def read_state(name: str) -> dict:
    path = STATE / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def boto(service: str):  # noqa: ANN201 - boto3 clients are generated
    import boto3  # only the invocations that touch AWS pay for the import

    return boto3.client(service, region_name=os.environ.get("AWS_REGION", "us-west-2"))


def parse(argv: list[str], flags: dict[str, str], usage: str, error_prefix: str = "Error") -> tuple[list[str], dict]:
    """Split arguments into positionals and flags, as cobra does; an unknown flag is an error.

    `flags` maps each accepted flag (with its short alias as a separate key) to "value", "bool" or
    "multi" (repeatable value). Returns the positionals and {flag: value(s)}."""
    positionals: list[str] = []
    found: dict = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and arg != "-":
            name, has_value, value = arg.partition("=")
            kind = flags.get(name)
            if kind is None:
                raise Exit(1, f"{error_prefix}: unknown flag: {name}\n{usage}")
            if kind == "bool":
                found[name] = value.lower() != "false" if has_value else True
            else:
                if not has_value:
                    i += 1
                    if i >= len(argv):
                        raise Exit(1, f"{error_prefix}: flag needs an argument: {name}")
                    value = argv[i]
                if kind == "multi":
                    found.setdefault(name, []).append(value)
                else:
                    found[name] = value
        else:
            positionals.append(arg)
        i += 1
    return positionals, found


def one(found: dict, *names: str) -> object:
    for name in names:
        if name in found:
            return found[name]
    return None


def kube_cluster() -> str:
    """The cluster the current kubeconfig context points at; an error like kubectl's when there is none."""
    import yaml

    path = os.environ.get("KUBECONFIG", "")
    if not path or not Path(path).is_file():
        raise Unreachable("http://localhost:8080")
    config = yaml.safe_load(Path(path).read_text()) or {}
    current = config.get("current-context")
    contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
    if current not in contexts:
        raise Unreachable("http://localhost:8080")
    reference = contexts[current]["cluster"]
    name = reference.rsplit("/", 1)[-1]
    if name not in read_state("kube").get("clusters", {}):
        server = next((c["cluster"]["server"] for c in config.get("clusters") or [] if c["name"] == reference), "")
        raise Unreachable(server or reference)
    return name


class Unreachable(Exception):  # noqa: N818
    def __init__(self, server: str) -> None:
        super().__init__(server)
        self.server = server


# Karpenter releases the fake registry holds, with the Kubernetes minors each supports.
KARPENTER_RELEASES = {"1.0.9": ("1.25", "1.31"), "1.14.1": ("1.26", "1.36")}
KARPENTER_CRDS = {
    "1.0.9": ["ec2nodeclasses.karpenter.k8s.aws", "nodeclaims.karpenter.sh", "nodepools.karpenter.sh"],
    "1.14.1": [
        "ec2nodeclasses.karpenter.k8s.aws",
        "nodeclaims.karpenter.sh",
        "nodeoverlays.karpenter.sh",
        "nodepools.karpenter.sh",
    ],
}


def minor(version: str) -> tuple[int, int]:
    major, rest = version.lstrip("v").split(".", 1)
    return int(major), int(rest.split(".")[0])


def supports(karpenter: str, kubernetes: str) -> bool:
    low, high = KARPENTER_RELEASES[karpenter]
    return minor(low) <= minor(kubernetes) <= minor(high)
