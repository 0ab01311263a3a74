"""A recording fake of helm 3.16 for the subcommands eksgen runs: version, upgrade --install (from the
Karpenter OCI charts of public ECR), list, get values, uninstall. A chart's crds/ are installed only
when missing (Helm never upgrades them); the karpenter-crd chart's CRDs are templates and follow it."""

from __future__ import annotations

import datetime
import json
import os
import re
import sys

import _fake
import _kube

VERSION = os.environ.get("FAKE_HELM_VERSION", "3.16.4")
CHARTS = {
    "oci://public.ecr.aws/karpenter/karpenter": "karpenter",
    "oci://public.ecr.aws/karpenter/karpenter-crd": "karpenter-crd",
}
_NAMESPACE = {"-n": "value", "--namespace": "value"}
_FLAGS = {
    "version": {"--template": "value", "--short": "bool"},
    "upgrade": {
        **_NAMESPACE,
        "--install": "bool",
        "-i": "bool",
        "--version": "value",
        "--set": "multi",
        "--set-string": "multi",
        "--wait": "bool",
        "--timeout": "value",
        "--create-namespace": "bool",
        "--atomic": "bool",
    },
    "list": {**_NAMESPACE, "--all": "bool", "-a": "bool", "--output": "value", "-o": "value", "--filter": "value"},
    "get": {**_NAMESPACE, "--output": "value", "-o": "value", "--all": "bool", "-a": "bool"},
    "uninstall": {**_NAMESPACE, "--wait": "bool", "--timeout": "value", "--ignore-not-found": "bool"},
}


def handle(argv: list[str], stage: str | None) -> int:
    if not argv or argv[0] not in _FLAGS:
        raise _fake.Exit(
            1, f'Error: unknown command "{argv[0] if argv else ""}" for "helm"\nRun \'helm --help\' for usage.'
        )
    command = argv[0]
    args, flags = _fake.parse(argv[1:], _FLAGS[command], f"Run 'helm {command} --help' for usage.")
    if command == "version":
        if flags.get("--template") == "{{.Version}}":
            sys.stdout.write(f"v{VERSION}")
        else:
            print(f"v{VERSION}+g7877b45")
        return 0
    try:
        cluster_name = _fake.kube_cluster()
    except _fake.Unreachable as exc:
        raise _fake.Exit(
            1,
            f'Error: Kubernetes cluster unreachable: Get "{exc.server}/version": dial tcp: connect: connection refused',
        ) from None
    namespace = _fake.one(flags, "-n", "--namespace") or "default"
    if stage is not None and command != "upgrade":  # upgrade records a failed release first
        raise _fake.Exit(1, "Error: Kubernetes cluster unreachable: context deadline exceeded")
    with _fake.state("kube") as kube:
        cluster = kube["clusters"][cluster_name]
        releases = cluster.setdefault("releases", {})
        if command == "upgrade":
            return _upgrade(cluster, releases, namespace, args, flags, stage)
        if command == "list":
            return _list(releases, namespace, flags)
        if command == "get":
            if len(args) != 2 or args[0] != "values":
                raise _fake.Exit(1, "Error: the fake helm knows `get values RELEASE` only")
            release = releases.get(f"{namespace}/{args[1]}")
            if release is None:
                raise _fake.Exit(1, "Error: release: not found")
            print(json.dumps(release["values"] or None))
            return 0
        return _uninstall(cluster, releases, namespace, args, flags)


def _upgrade(cluster: dict, releases: dict, namespace: str, args: list[str], flags: dict, stage: str | None) -> int:
    if len(args) != 2:
        raise _fake.Exit(
            1,
            f'Error: "helm upgrade" requires 2 arguments\n\nUsage:  helm upgrade [RELEASE] [CHART] '
            f"[flags] (got {args})",
        )
    name, chart_ref = args
    install = bool(_fake.one(flags, "--install", "-i"))
    key = f"{namespace}/{name}"
    existing = releases.get(key)
    if existing is None and not install:
        raise _fake.Exit(1, f'Error: UPGRADE FAILED: "{name}" has no deployed releases')
    chart = CHARTS.get(chart_ref)
    version = flags.get("--version")
    if chart is None:
        raise _fake.Exit(1, f"Error: repo {chart_ref} not found")
    if version not in _fake.KARPENTER_RELEASES:
        raise _fake.Exit(
            1,
            f'Error: failed to perform "FetchReference" on source: '
            f"{chart_ref.removeprefix('oci://')}:{version}: not found",
        )
    print(f"Pulled: {chart_ref.removeprefix('oci://')}:{version}\nDigest: sha256:{'0' * 64}", file=sys.stderr)
    revision = (existing or {}).get("revision", 0) + 1
    values = _values(flags.get("--set") or [])
    _merge(values, _values(flags.get("--set-string") or [], typed=False))  # helm keeps --set-string text
    release = {
        "name": name,
        "namespace": namespace,
        "revision": revision,
        "status": "deployed",
        "chart": f"{chart}-{version}",
        "app_version": version,
        "values": values,
        "updated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC"),
    }
    if chart == "karpenter" and flags.get("--wait") and not cluster.get("nodegroups"):
        stage = ""  # the controller's pods have no node to run on: --wait runs out
    if stage is not None:  # the release is recorded as failed, as helm does when --wait runs out
        releases[key] = {**release, "status": "failed"}
        word = "UPGRADE" if existing else "INSTALLATION"
        raise _fake.Exit(1, f"Error: {word} FAILED: context deadline exceeded")
    crds = _fake.KARPENTER_CRDS[version]
    if chart == "karpenter-crd":
        cluster["crds"].update({crd: version for crd in crds})
    else:
        for crd in crds:  # crds/ of the chart: installed when missing, never upgraded
            cluster["crds"].setdefault(crd, version)
        cluster["objects"][_kube.key("Deployment", namespace, "karpenter")] = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "karpenter", "namespace": namespace},
            "spec": {
                "replicas": 2,
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "controller", "image": f"public.ecr.aws/karpenter/controller:{version}"}
                        ]
                    }
                },
            },
        }
    releases[key] = release
    if existing:
        print(f'Release "{name}" has been upgraded. Happy Helming!')
    else:
        print(f'Release "{name}" does not exist. Installing it now.')
    print(
        f"NAME: {name}\nLAST DEPLOYED: {release['updated']}\nNAMESPACE: {namespace}\nSTATUS: deployed\n"
        f"REVISION: {revision}\nTEST SUITE: None"
    )
    return 0


def _values(pairs: list[str], typed: bool = True) -> dict:
    values: dict = {}
    for pair in pairs:
        path, _, raw = pair.partition("=")
        node = values
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _typed(raw) if typed else raw
    return values


def _merge(into: dict, other: dict) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _typed(raw: str) -> object:
    """helm --set's typing: integers, booleans and null become those types."""
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    return raw


def _list(releases: dict, namespace: str, flags: dict) -> int:
    if _fake.one(flags, "-o", "--output") != "json":
        raise _fake.Exit(1, "Error: the fake helm lists with --output json only")
    every = bool(_fake.one(flags, "--all", "-a"))
    pattern = re.compile(flags.get("--filter") or ".*")
    shown = [
        {k: (str(v) if k == "revision" else v) for k, v in r.items() if k != "values"}
        for key, r in sorted(releases.items())
        if key.startswith(f"{namespace}/")
        and pattern.search(r["name"])
        and (every or r["status"] in ("deployed", "failed"))
    ]
    print(json.dumps(shown))
    return 0


def _uninstall(cluster: dict, releases: dict, namespace: str, args: list[str], flags: dict) -> int:
    if len(args) != 1:
        raise _fake.Exit(1, "Error: the fake helm uninstalls one release")
    name = args[0]
    release = releases.pop(f"{namespace}/{name}", None)
    if release is None:
        if flags.get("--ignore-not-found"):
            return 0
        raise _fake.Exit(1, f"Error: uninstall: Release not loaded: {name}: release: not found")
    if release["chart"].startswith("karpenter-crd-"):
        for crd in list(cluster["crds"]):  # deleting a CRD deletes its objects
            del cluster["crds"][crd]
            for key in [k for k in cluster["objects"] if k.startswith(f"{crd}/")]:
                del cluster["objects"][key]
    else:
        cluster["objects"].pop(_kube.key("Deployment", namespace, "karpenter"), None)
    print(f'release "{name}" uninstalled')
    return 0


if __name__ == "__main__":
    _fake.main("helm", handle)
