"""A recording fake of kubectl (by default the pinned release of the default minor) for the subcommands
eksgen runs: version, apply --server-side, diff, get, wait, annotate, delete. Arguments, exit codes
and output formats follow kubectl's; unknown subcommands and flags are rejected as kubectl rejects
them."""

from __future__ import annotations

import copy
import difflib
import json
import os
import sys
from pathlib import Path

import _fake
import _kube
import yaml

from generator import versions

VERSION = os.environ.get("FAKE_KUBECTL_VERSION", versions.KUBERNETES[versions.DEFAULT_KUBERNETES].kubectl)
_APPLY_FLAGS = {
    "--server-side": "bool",
    "--field-manager": "value",
    "-f": "multi",
    "--filename": "multi",
    "--force-conflicts": "bool",
}
_FLAGS = {
    "version": {"--client": "bool", "-o": "value", "--output": "value"},
    "apply": _APPLY_FLAGS,
    "diff": _APPLY_FLAGS,
    "get": {"-o": "value", "--output": "value", "-n": "value", "--namespace": "value", "--ignore-not-found": "bool"},
    "wait": {"--for": "value", "--timeout": "value", "-n": "value", "--namespace": "value", "--all": "bool"},
    "annotate": {"--overwrite": "bool", "-n": "value", "--namespace": "value"},
    "delete": {
        "--all": "bool",
        "--ignore-not-found": "bool",
        "--wait": "bool",
        "--timeout": "value",
        "-n": "value",
        "--namespace": "value",
    },
}


def handle(argv: list[str], stage: str | None) -> int:
    if not argv or argv[0] not in _FLAGS:
        raise _fake.Exit(1, f'error: unknown command "{argv[0] if argv else ""}" for "kubectl"')
    command = argv[0]
    args, flags = _fake.parse(argv[1:], _FLAGS[command], f"See 'kubectl {command} --help' for usage.", "error")
    if command == "version":
        return _version(flags)
    if stage is not None:  # an injected failure: what each command says when the API server lets it down
        if command == "wait":
            raise _fake.Exit(1, f"error: timed out waiting for the condition on {args[0] if args else 'resources'}")
        raise _fake.Exit(
            1,
            'Error from server (InternalError): an error on the server ("") has prevented the request from succeeding',
        )
    try:
        cluster_name = _fake.kube_cluster()
    except _fake.Unreachable as exc:
        if exc.server.startswith("http://localhost"):
            raise _fake.Exit(
                1, "The connection to the server localhost:8080 was refused - did you specify the right host or port?"
            ) from None
        raise _fake.Exit(1, f"Unable to connect to the server: dial tcp: lookup {exc.server}: no such host") from None
    with _fake.state("kube") as kube:
        cluster = kube["clusters"][cluster_name]
        return {"apply": _apply, "diff": _diff, "get": _get, "wait": _wait, "annotate": _annotate, "delete": _delete}[
            command
        ](cluster_name, cluster, args, flags)


def _version(flags: dict) -> int:
    if not flags.get("--client"):
        raise _fake.Exit(1, "error: the fake kubectl has no server version; pass --client")
    major, minor, _ = VERSION.split(".")
    client = {
        "major": major,
        "minor": minor,
        "gitVersion": f"v{VERSION}",
        "gitCommit": "0" * 40,
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T07:37:34Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }
    output = _fake.one(flags, "-o", "--output")
    if output == "json":
        print(json.dumps({"clientVersion": client, "kustomizeVersion": "v5.4.2"}, indent=2))
    elif output is None:
        print(f"Client Version: v{VERSION}\nKustomize Version: v5.4.2")
    else:
        raise _fake.Exit(1, f"error: --output must be 'yaml' or 'json', not {output!r}")
    return 0


def _documents(flags: dict) -> list[tuple[str, str, dict]]:
    files = _fake.one(flags, "-f", "--filename") or []
    if not files:
        raise _fake.Exit(1, "error: must specify one of -f and -k")
    out = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise _fake.Exit(1, f'error: the path "{name}" does not exist')
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((name, doc["kind"], doc))
    return out


def _check_served(cluster: dict, source: str, kind: str, doc: dict) -> None:
    if kind not in _kube.KINDS or not _kube.served(cluster, kind):
        raise _fake.Exit(
            1,
            f'error: resource mapping not found for name: "{doc["metadata"]["name"]}" namespace: "" '
            f'from "{source}": no matches for kind "{kind}" in version "{doc.get("apiVersion")}"\n'
            "ensure CRDs are installed first",
        )


# StorageClass fields the API server never updates, in the order it reports them, with the default it stores
# when a manifest leaves one out (kubernetes/kubernetes pkg/apis/storage/validation/validation.go,
# ValidateStorageClassUpdate; the defaults are pkg/apis/storage/v1/defaults.go's).
_STORAGE_CLASS_IMMUTABLE = (
    ("parameters", {}),
    ("provisioner", None),
    ("reclaimPolicy", "Delete"),
    ("volumeBindingMode", "Immediate"),
)


def _refuse_immutable_changes(kind: str, live: dict | None, doc: dict, exit_code: int) -> None:
    """An update of a StorageClass's immutable fields is Invalid, as kubectl prints the API server's answer
    (one cause on the line, several as a list); apply exits 1 with it, diff 2 (an error, not a difference)."""
    if kind != "StorageClass" or live is None:
        return
    causes = []
    for field, default in _STORAGE_CLASS_IMMUTABLE:
        before, after = live.get(field) or default, doc.get(field) or default
        if before == after:
            continue
        if field == "volumeBindingMode":
            causes.append(f'{field}: Invalid value: "{after}": field is immutable')
        else:
            causes.append(f"{field}: Forbidden: updates to {field} are forbidden.")
    if causes:
        head = f'The StorageClass "{doc["metadata"]["name"]}" is invalid: '
        raise _fake.Exit(
            exit_code,
            head + causes[0]
            if len(causes) == 1
            else head + "\n" + "".join(f"* {cause}\n" for cause in causes).rstrip("\n"),
        )


def _apply(cluster_name: str, cluster: dict, args: list[str], flags: dict) -> int:
    if args:
        raise _fake.Exit(1, f"error: unexpected args: {args}")
    if not flags.get("--server-side") or flags.get("--field-manager") != "eksgen":
        raise _fake.Exit(1, "error: the fake kubectl applies with --server-side --field-manager=eksgen only")
    for source, kind, doc in _documents(flags):
        _check_served(cluster, source, kind, doc)
        namespace = doc["metadata"].get("namespace")
        key = _kube.key(kind, namespace, doc["metadata"]["name"])
        new = key not in cluster["objects"]
        _refuse_immutable_changes(kind, cluster["objects"].get(key), doc, 1)
        stored = copy.deepcopy(doc)
        if kind == "EC2NodeClass":
            stored["_resolved"] = _kube.resolve_node_class(cluster_name, stored)
        cluster["objects"][key] = stored
        if kind == "NodePool" and new:
            _kube.launch_node(cluster_name, cluster, stored)
        print(f"{_kube.display(kind)}/{doc['metadata']['name']} serverside-applied")
    return 0


def _diff(cluster_name: str, cluster: dict, args: list[str], flags: dict) -> int:
    changed = False
    for source, kind, doc in _documents(flags):
        _check_served(cluster, source, kind, doc)
        key = _kube.key(kind, doc["metadata"].get("namespace"), doc["metadata"]["name"])
        live = cluster["objects"].get(key)
        _refuse_immutable_changes(kind, live, doc, 2)
        before = yaml.safe_dump({k: v for k, v in live.items() if not k.startswith("_")}) if live else ""
        after = yaml.safe_dump(doc)
        if before != after:
            changed = True
            name = f"{kind}..{doc['metadata']['name']}"
            sys.stdout.writelines(
                difflib.unified_diff(
                    before.splitlines(True), after.splitlines(True), f"/tmp/LIVE-1/{name}", f"/tmp/MERGED-1/{name}"
                )
            )
    return 1 if changed else 0


def _target(cluster: dict, resource: str) -> str:
    kind = _kube.kind_of(resource)
    if kind is None or not _kube.served(cluster, kind):
        raise _fake.Exit(1, f'error: the server doesn\'t have a resource type "{resource.split(".")[0]}"')
    return kind


def _matching(cluster: dict, kind: str, namespace: str | None, name: str | None) -> list[tuple[str, dict]]:
    prefix = f"{_kube.resource_of(kind)}/"
    out = []
    for key, obj in sorted(cluster["objects"].items()):
        if not key.startswith(prefix):
            continue
        if _kube.KINDS[kind][2] and (obj["metadata"].get("namespace") or "default") != (namespace or "default"):
            continue
        if name is None or obj["metadata"]["name"] == name:
            out.append((key, obj))
    return out


def _get(cluster_name: str, cluster: dict, args: list[str], flags: dict) -> int:
    if not args or len(args) > 2:
        raise _fake.Exit(1, "error: the fake kubectl gets one resource type, optionally one name")
    kind = _target(cluster, args[0])
    name = args[1] if len(args) == 2 else None
    found = _matching(cluster, kind, _fake.one(flags, "-n", "--namespace"), name)
    output = _fake.one(flags, "-o", "--output")
    if name and not found:
        if flags.get("--ignore-not-found"):
            return 0
        raise _fake.Exit(1, f'Error from server (NotFound): {_kube.resource_of(kind)} "{name}" not found')
    items = [_kube.shown(kind, obj, cluster) for _, obj in found]
    if output == "json":
        print(
            json.dumps(
                items[0]
                if name
                else {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
                indent=4,
            )
        )
    elif output == "name":
        for item in items:
            print(f"{_kube.display(kind)}/{item['metadata']['name']}")
    elif output is None:
        if not items:
            print("No resources found", file=sys.stderr)
        else:
            print("NAME")
            for item in items:
                print(item["metadata"]["name"])
    else:
        raise _fake.Exit(1, f"error: unable to match a printer suitable for the output format {output!r}")
    return 0


def _wait(cluster_name: str, cluster: dict, args: list[str], flags: dict) -> int:
    wanted = flags.get("--for") or ""
    if not wanted.startswith(("condition=", "delete")) or not flags.get("--timeout"):
        raise _fake.Exit(1, "error: the fake kubectl waits with --for=condition=NAME or --for=delete and --timeout")
    namespace = _fake.one(flags, "-n", "--namespace")
    targets: list[tuple[str, str | None]] = []
    for arg in args:
        resource, _, name = arg.partition("/")
        targets.append((_target(cluster, resource), name or None))
    if flags.get("--all"):
        targets = [
            (kind, obj["metadata"]["name"])
            for kind, _ in targets
            for _, obj in _matching(cluster, kind, namespace, None)
        ]
    for kind, name in targets:
        found = _matching(cluster, kind, namespace, name)
        plural = _kube.KINDS[kind][0]
        if wanted == "delete":
            if found:
                raise _fake.Exit(1, f"error: timed out waiting for the condition on {plural}/{name}")
            continue
        if not found:
            raise _fake.Exit(1, f'Error from server (NotFound): {_kube.resource_of(kind)} "{name}" not found')
        condition = wanted.split("=", 1)[1]
        if not _kube.condition(kind, found[0][1], cluster).get(condition):
            raise _fake.Exit(1, f"error: timed out waiting for the condition on {plural}/{name}")
        print(f"{_kube.display(kind)}/{name} condition met")
    return 0


def _annotate(cluster_name: str, cluster: dict, args: list[str], flags: dict) -> int:
    if len(args) < 3:
        raise _fake.Exit(1, "error: the fake kubectl annotates one named object")
    kind = _target(cluster, args[0])
    found = _matching(cluster, kind, _fake.one(flags, "-n", "--namespace"), args[1])
    if not found:
        raise _fake.Exit(1, f'Error from server (NotFound): {_kube.resource_of(kind)} "{args[1]}" not found')
    annotations = found[0][1]["metadata"].setdefault("annotations", {})
    for pair in args[2:]:
        name, _, value = pair.partition("=")
        if name in annotations and annotations[name] != value and not flags.get("--overwrite"):
            raise _fake.Exit(
                1,
                f"error: --overwrite is false but found the following declared annotation(s): "
                f"'{name}' already has a value ({annotations[name]})",
            )
        annotations[name] = value
    print(f"{_kube.display(kind)}/{args[1]} annotated")
    return 0


def _delete(cluster_name: str, cluster: dict, args: list[str], flags: dict) -> int:
    if not args:
        raise _fake.Exit(1, "error: You must provide one or more resources by argument or filename.")
    kind = _target(cluster, args[0])
    names = args[1:]
    if not names and not flags.get("--all"):
        raise _fake.Exit(1, "error: resource(s) were provided, but no name was specified")
    found = _matching(cluster, kind, _fake.one(flags, "-n", "--namespace"), None)
    if names:
        present = {obj["metadata"]["name"] for _, obj in found}
        missing = [n for n in names if n not in present]
        if missing and not flags.get("--ignore-not-found"):
            raise _fake.Exit(1, f'Error from server (NotFound): {_kube.resource_of(kind)} "{missing[0]}" not found')
        found = [(k, o) for k, o in found if o["metadata"]["name"] in names]
    if not found and flags.get("--all"):
        print("No resources found", file=sys.stderr)
    for key, obj in found:
        if kind == "NodePool":
            _kube.remove_nodes(cluster, obj["metadata"]["name"])
        del cluster["objects"][key]
        print(f'{_kube.display(kind)} "{obj["metadata"]["name"]}" deleted')
    return 0


if __name__ == "__main__":
    _fake.main("kubectl", handle)
