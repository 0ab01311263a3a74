"""The `eksctl` check: rendered/eksctl/cluster.yaml against the pinned eksctl's ClusterConfig
JSON schema (unknown fields rejected), plus the rules that schema cannot express."""

from __future__ import annotations

import ipaddress
from collections import Counter

import jsonschema

from generator import regions, versions
from generator.validate.context import Context, Document, Finding, dotted

LOG_TYPES = {"api", "audit", "authenticator", "controllerManager", "scheduler", "all", "*"}
# The retention periods CloudWatch Logs accepts.
RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653}


def run(ctx: Context) -> list[Finding]:
    config = ctx.cluster_config
    if config is None:
        return [Finding("rendered/eksctl/cluster.yaml", None, "no eksctl ClusterConfig rendered")]
    findings = _schema_errors(config, ctx.eksctl_schema)
    data = config.data
    findings += _version(config, data)
    findings += _node_groups(config, data)
    findings += _logging(config, data)
    findings += _subnets(config, data)
    ctx.note("eksctl", f"ClusterConfig checked against the eksctl v{versions.EKSCTL_VERSION} schema")
    return findings


def _schema_errors(config: Document, schema: dict) -> list[Finding]:
    findings = []
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(config.data), key=lambda e: list(e.absolute_path)):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for key in (k for k in error.instance if k not in allowed):
                findings.append(_finding(config, path + [key],
                                         f"unknown field (not in the eksctl v{versions.EKSCTL_VERSION} schema)"))
        else:
            findings.append(_finding(config, path, error.message))
    return findings


def _version(config: Document, data: dict) -> list[Finding]:
    version = str((data.get("metadata") or {}).get("version", ""))
    if version in versions.KUBERNETES:
        return []
    return [_finding(config, ["metadata", "version"],
                     f"Kubernetes {version or '(unset)'} is not supported by eksctl v{versions.EKSCTL_VERSION} "
                     f"(supported: {', '.join(versions.KUBERNETES)})")]


def _node_groups(config: Document, data: dict) -> list[Finding]:
    findings = []
    groups = [("managedNodeGroups", i, g) for i, g in enumerate(data.get("managedNodeGroups") or [])]
    groups += [("nodeGroups", i, g) for i, g in enumerate(data.get("nodeGroups") or [])]
    counts = Counter(g.get("name") for _, _, g in groups)
    for field, i, group in groups:
        name = group.get("name")
        if counts[name] > 1:
            findings.append(_finding(config, [field, i, "name"], f"node group name {name!r} is used more than once"))
        sizes = {k: group[k] for k in ("minSize", "desiredCapacity", "maxSize") if isinstance(group.get(k), int)}
        low, want, high = sizes.get("minSize"), sizes.get("desiredCapacity"), sizes.get("maxSize")
        if low is not None and high is not None and low > high:
            findings.append(_finding(config, [field, i, "minSize"], f"minSize {low} is above maxSize {high}"))
        if want is not None and high is not None and want > high:
            findings.append(_finding(config, [field, i, "desiredCapacity"],
                                     f"desiredCapacity {want} is above maxSize {high}"))
        if want is not None and low is not None and want < low:
            findings.append(_finding(config, [field, i, "desiredCapacity"],
                                     f"desiredCapacity {want} is below minSize {low}"))
    return findings


def _logging(config: Document, data: dict) -> list[Finding]:
    logging = ((data.get("cloudWatch") or {}).get("clusterLogging") or {})
    findings = []
    for i, kind in enumerate(logging.get("enableTypes") or []):
        if kind not in LOG_TYPES:
            findings.append(_finding(config, ["cloudWatch", "clusterLogging", "enableTypes", i],
                                     f"{kind!r} is not a control-plane log type ({', '.join(sorted(LOG_TYPES))})"))
    days = logging.get("logRetentionInDays")
    if days is not None and days not in RETENTION_DAYS:
        allowed = ", ".join(map(str, sorted(RETENTION_DAYS)))
        findings.append(_finding(config, ["cloudWatch", "clusterLogging", "logRetentionInDays"],
                                 f"{days} is not a CloudWatch retention period ({allowed})"))
    return findings


def _subnets(config: Document, data: dict) -> list[Finding]:
    vpc = data.get("vpc") or {}
    region = str((data.get("metadata") or {}).get("region", ""))
    try:
        network = ipaddress.ip_network(str(vpc.get("cidr", "")), strict=True)
    except ValueError:
        return [_finding(config, ["vpc", "cidr"], f"{vpc.get('cidr')!r} is not a network in CIDR form")]
    findings: list[Finding] = []
    seen: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, list]] = []
    for visibility, subnets in ((vpc.get("subnets") or {}).items()):
        for key, spec in (subnets or {}).items():
            path = ["vpc", "subnets", visibility, key]
            spec = spec or {}
            az = str(spec.get("az", key))
            if region in regions.REGION_ZONES and not az.startswith(region):
                findings.append(_finding(config, path, f"availability zone {az!r} is not in region {region}"))
            if "cidr" not in spec:
                continue
            try:
                subnet = ipaddress.ip_network(str(spec["cidr"]), strict=True)
            except ValueError:
                findings.append(_finding(config, path + ["cidr"], f"{spec['cidr']!r} is not a network in CIDR form"))
                continue
            if subnet.version != network.version or not subnet.subnet_of(network):
                findings.append(_finding(config, path + ["cidr"], f"{subnet} does not fit the VPC CIDR {network}"))
            for other, other_path in seen:
                if subnet.overlaps(other):
                    findings.append(_finding(config, path + ["cidr"],
                                             f"{subnet} overlaps {other} of {dotted(other_path)}"))
            seen.append((subnet, path))
    return findings


def _finding(config: Document, path: list, message: str) -> Finding:
    return Finding(config.file, config.line(path), f"{dotted(path) or '(top)'}: {message}")
