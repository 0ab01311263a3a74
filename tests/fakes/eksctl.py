"""A recording fake of eksctl 0.230.0 for the subcommands eksgen runs, keeping moto's state consistent.

What EKS and CloudFormation can hold lives in moto, made with boto3 the way eksctl makes it: the
cluster stack eksctl-<cluster>-cluster (VPC, subnets, security group, service role), the cluster,
one stack and one managed node group per node group, one stack per pod identity role, and the
control-plane log group. moto has no EKS add-ons, access entries or pod identity associations, so
those are kept in eksctl.json, and no UpdateClusterVersion/UpdateNodegroupVersion: an upgrade
re-creates the cluster (or node group) in moto with the new version and everything else as it was.
The Kubernetes side of a new cluster (gp2 StorageClass) goes to kube.json for the kubectl and helm
fakes. Unknown subcommands and flags are rejected as cobra rejects them; without --approve, the
commands that need it only print their plan, as eksctl does.

Injected failure stages (FAKE_FAIL="eksctl create cluster@STAGE"): create cluster: control-plane
(the cluster exists, nothing after it), identity (access entries and pod identities made), nodegroups.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import sys
from pathlib import Path

import _fake
import _kube
import yaml

VERSION = os.environ.get("FAKE_EKSCTL_VERSION", "0.230.0")
_CFG = {"-f": "value", "--config-file": "value"}
_WHERE = {"--cluster": "value", "-c": "value", "--region": "value", "-r": "value"}
_OUT = {"-o": "value", "--output": "value"}
_FLAGS: dict[tuple[str, ...], dict[str, str]] = {
    ("version",): {**_OUT},
    ("create", "cluster"): {**_CFG},
    ("delete", "cluster"): {
        **_CFG,
        "--name": "value",
        "-n": "value",
        "--region": "value",
        "-r": "value",
        "--wait": "bool",
        "-w": "bool",
        "--disable-nodegroup-eviction": "bool",
    },
    ("upgrade", "cluster"): {**_CFG, "--approve": "bool"},
    ("create", "nodegroup"): {**_CFG, "--include": "value", "--exclude": "value"},
    ("upgrade", "nodegroup"): {**_WHERE, "--name": "value", "--kubernetes-version": "value", "--wait": "bool"},
    ("scale", "nodegroup"): {
        **_WHERE,
        "--name": "value",
        "-n": "value",
        "--nodes": "value",
        "-N": "value",
        "--nodes-min": "value",
        "-m": "value",
        "--nodes-max": "value",
        "-M": "value",
    },
    ("delete", "nodegroup"): {
        **_WHERE,
        **_CFG,
        "--name": "value",
        "-n": "value",
        "--drain": "bool",
        "--approve": "bool",
        "--wait": "bool",
        "-w": "bool",
    },
    ("create", "addon"): {
        **_WHERE,
        **_CFG,
        "--name": "value",
        "--version": "value",
        "--force": "bool",
        "--auto-apply-pod-identity-associations": "bool",
        "--wait": "bool",
    },
    ("update", "addon"): {
        **_WHERE,
        **_CFG,
        "--name": "value",
        "--version": "value",
        "--force": "bool",
        "--wait": "bool",
    },
    ("delete", "addon"): {**_WHERE, **_CFG, "--name": "value"},
    ("get", "addon"): {**_WHERE, **_OUT, "--name": "value"},
    ("create", "accessentry"): {**_CFG},
    ("delete", "accessentry"): {**_WHERE, "--principal-arn": "value"},
    ("get", "accessentry"): {**_WHERE, **_OUT, "--principal-arn": "value"},
    ("create", "podidentityassociation"): {**_CFG},
    ("update", "podidentityassociation"): {**_CFG},
    ("delete", "podidentityassociation"): {**_WHERE, "--namespace": "value", "--service-account-name": "value"},
    ("get", "podidentityassociation"): {**_WHERE, **_OUT},
    ("utils", "update-cluster-vpc-config"): {**_CFG, "--approve": "bool"},
    ("utils", "update-cluster-logging"): {**_CFG, "--approve": "bool"},
    ("utils", "associate-iam-oidc-provider"): {**_CFG, "--approve": "bool"},
    ("utils", "update-authentication-mode"): {**_WHERE, "--authentication-mode": "value"},
}


def log(symbol: str, text: str) -> None:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} [{symbol}]  {text}", file=sys.stderr, flush=True)  # eksctl logs to stderr


def handle(argv: list[str], stage: str | None) -> int:
    verbs = tuple(argv[:1]) if argv[:1] == ["version"] else tuple(argv[:2])
    if verbs not in _FLAGS:
        parent = " ".join(["eksctl", *argv[:1]]) if len(argv) > 1 else "eksctl"
        raise _fake.Exit(1, f'Error: unknown command "{argv[len(verbs) - 1] if argv else ""}" for "{parent}"')
    args, flags = _fake.parse(argv[len(verbs) :], _FLAGS[verbs], f"Use 'eksctl {' '.join(verbs)} --help' for usage.")
    if args:
        raise _fake.Exit(1, f"Error: unexpected arguments: {args}")
    if verbs == ("version",):
        print(VERSION)
        return 0
    if stage == "":
        raise _fake.Exit(
            1, f"Error: {' '.join(verbs)}: operation error: RequestError: send request failed (injected failure)"
        )
    if verbs[0] != "get":
        log("ℹ", f"eksctl version {VERSION}")
    config = _config(flags)
    command = "_".join(verbs)
    return globals()[f"_{command.replace('-', '_')}"](config, flags, stage)


# ---- helpers ---------------------------------------------------------------------------------
def _config(flags: dict) -> dict:
    path = _fake.one(flags, "-f", "--config-file")
    if path is None:
        return {}
    if not Path(path).is_file():
        raise _fake.Exit(1, f'Error: reading config file "{path}": open {path}: no such file or directory')
    return yaml.safe_load(Path(path).read_text()) or {}


def _cluster_name(config: dict, flags: dict) -> str:
    name = (config.get("metadata") or {}).get("name") or _fake.one(flags, "--cluster", "-c", "--name", "-n")
    if not name:
        raise _fake.Exit(1, "Error: --cluster must be set")
    return str(name)


def _describe(name: str) -> dict:
    eks = _fake.boto("eks")
    try:
        return eks.describe_cluster(name=name)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        raise _fake.Exit(
            1, f"Error: getting cluster {name!r}: ResourceNotFoundException: No cluster found for name: {name}."
        ) from None


def _stack(name: str, resources: dict, tags: dict[str, str]) -> dict[str, str]:
    """Create a stack the way eksctl does; returns physical ids by logical id."""
    cloudformation = _fake.boto("cloudformation")
    cloudformation.create_stack(
        StackName=name,
        TemplateBody=json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}),
        Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    log("ℹ", f'deploying stack "{name}"')
    summaries = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    return {s["LogicalResourceId"]: s["PhysicalResourceId"] for s in summaries}


def _delete_stack(name: str) -> None:
    cloudformation = _fake.boto("cloudformation")
    try:
        cloudformation.describe_stacks(StackName=name)
    except Exception:  # noqa: BLE001 - ValidationError: it does not exist
        return
    cloudformation.delete_stack(StackName=name)
    log("ℹ", f'will delete stack "{name}"')


def _role(service: str, policies: list[str], name: str | None = None) -> dict:
    properties = {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
            ],
        },
        "ManagedPolicyArns": policies,
    }
    if name:
        properties["RoleName"] = name
    return {"Type": "AWS::IAM::Role", "Properties": properties}


def _tags(config: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((config.get("metadata") or {}).get("tags") or {}).items()}


def _eksctl_state(name: str):  # noqa: ANN202 - a context manager over the cluster's entry
    class Entry:
        def __enter__(self) -> dict:
            self.context = _fake.state("eksctl")
            data = self.context.__enter__()
            return data.setdefault("clusters", {}).setdefault(
                name, {"addons": {}, "accessentries": {}, "podidentities": {}}
            )

        def __exit__(self, *exc: object) -> None:
            self.context.__exit__(*exc)

    return Entry()


def _addon_version(name: str, kubernetes: str) -> str:
    return f"v{kubernetes}.0-eksbuild.1"


# ---- clusters --------------------------------------------------------------------------------
def _create_cluster(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    meta = config["metadata"]
    version = str(meta.get("version"))
    stack = f"eksctl-{name}-cluster"
    log("ℹ", f"using region {meta.get('region')}")
    try:
        _fake.boto("cloudformation").describe_stacks(StackName=stack)
        raise _fake.Exit(
            1,
            f'Error: creating CloudFormation stack "{stack}": operation error CloudFormation: '
            f"CreateStack, AlreadyExistsException: Stack [{stack}] already exists",
        )
    except _fake.Exit:
        raise
    except Exception:  # noqa: BLE001, S110 - ValidationError: the stack does not exist yet
        pass
    tags = _tags(config)
    vpc = config.get("vpc") or {}
    resources: dict = {
        "VPC": {
            "Type": "AWS::EC2::VPC",
            "Properties": {
                "CidrBlock": vpc.get("cidr", "192.168.0.0/16"),
                "EnableDnsSupport": True,
                "EnableDnsHostnames": True,
                "Tags": [{"Key": "Name", "Value": f"{stack}/VPC"}, *({"Key": k, "Value": v} for k, v in tags.items())],
            },
        }
    }
    for visibility, role_tag, zone, cidr in _planned_subnets(config):
        logical = f"Subnet{visibility.title()}{zone.replace('-', '').upper()}"
        resources[logical] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "VPC"},
                "CidrBlock": cidr,
                "AvailabilityZone": zone,
                "Tags": [{"Key": role_tag, "Value": "1"}, *({"Key": k, "Value": v} for k, v in tags.items())],
            },
        }
    resources["ClusterSharedNodeSecurityGroup"] = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {
            "GroupDescription": "Communication between all nodes in the cluster",
            "VpcId": {"Ref": "VPC"},
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        },
    }
    resources["ServiceRole"] = _role("eks.amazonaws.com", ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"])
    log("ℹ", f'building cluster stack "{stack}"')
    ids = _stack(stack, resources, {"alpha.eksctl.io/cluster-name": name, **tags})
    role_arn = _fake.boto("iam").get_role(RoleName=ids["ServiceRole"])["Role"]["Arn"]
    private = [v for k, v in ids.items() if k.startswith("SubnetPrivate")]
    public = [v for k, v in ids.items() if k.startswith("SubnetPublic")]
    endpoints = vpc.get("clusterEndpoints") or {}
    logging_types = ((config.get("cloudWatch") or {}).get("clusterLogging") or {}).get("enableTypes") or []
    _fake.boto("eks").create_cluster(
        name=name,
        version=version,
        roleArn=role_arn,
        tags=tags,
        resourcesVpcConfig={
            "subnetIds": private + public,
            "securityGroupIds": [ids["ClusterSharedNodeSecurityGroup"]],
            "endpointPublicAccess": bool(endpoints.get("publicAccess", True)),
            "endpointPrivateAccess": bool(endpoints.get("privateAccess", False)),
        },
        logging={"clusterLogging": [{"types": logging_types, "enabled": True}]} if logging_types else {},
    )
    days = ((config.get("cloudWatch") or {}).get("clusterLogging") or {}).get("logRetentionInDays")
    if logging_types:
        logs = _fake.boto("logs")
        logs.create_log_group(logGroupName=f"/aws/eks/{name}/cluster")
        if days:
            logs.put_retention_policy(logGroupName=f"/aws/eks/{name}/cluster", retentionInDays=int(days))
    with _fake.state("kube") as kube:
        kube.setdefault("clusters", {})[name] = _kube.new_cluster(version)
    log("✔", f'EKS cluster "{name}" control plane is ready')
    _fake.checkpoint(
        stage,
        "control-plane",
        "Error: failed to create cluster: waiter state transitioned to Failure "
        "(injected failure after the control plane)",
    )
    _access_entries(name, config)
    _pod_identities(name, config)
    _fake.checkpoint(
        stage,
        "identity",
        "Error: failed to create cluster: creating nodegroups: RequestError (injected failure before the node groups)",
    )
    for group in config.get("managedNodeGroups") or []:
        _create_group(name, config, group, private, version)
    _fake.checkpoint(stage, "nodegroups", "Error: failed to create addons (injected failure)")
    with _eksctl_state(name) as entry:
        for addon in config.get("addons") or []:
            entry["addons"][addon["name"]] = {
                "Name": addon["name"],
                "Version": _addon_version(addon["name"], version),
                "Status": "ACTIVE",
            }
    log("✔", f'EKS cluster "{name}" in "{meta.get("region")}" region is ready')
    return 0


def _planned_subnets(config: dict) -> list[tuple[str, str, str, str]]:
    """Subnets as eksctl plans them when the config gives none: the VPC CIDR cut into eight, a public
    and a private block per zone (three zones of the region unless availabilityZones names them)."""
    region = config["metadata"]["region"]
    zones = config.get("availabilityZones") or [f"{region}{letter}" for letter in "abc"]
    blocks = list(ipaddress.ip_network((config.get("vpc") or {}).get("cidr", "192.168.0.0/16")).subnets(3))
    planned = [("public", "kubernetes.io/role/elb", zone, str(blocks[i])) for i, zone in enumerate(zones)]
    planned += [
        ("private", "kubernetes.io/role/internal-elb", zone, str(blocks[len(zones) + i]))
        for i, zone in enumerate(zones)
    ]
    return planned


def _create_group(cluster: str, config: dict, group: dict, subnets: list[str], version: str) -> None:
    name = group["name"]
    ids = _stack(
        f"eksctl-{cluster}-nodegroup-{name}",
        {
            "NodeInstanceRole": _role(
                "ec2.amazonaws.com",
                ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"],
            )
        },
        {"alpha.eksctl.io/cluster-name": cluster, "alpha.eksctl.io/nodegroup-name": name, **_tags(config)},
    )
    role = _fake.boto("iam").get_role(RoleName=ids["NodeInstanceRole"])["Role"]["Arn"]
    _fake.boto("eks").create_nodegroup(
        clusterName=cluster,
        nodegroupName=name,
        nodeRole=role,
        subnets=subnets,
        version=version,
        scalingConfig={
            "minSize": group.get("minSize", 1),
            "desiredSize": group.get("desiredCapacity", 2),
            "maxSize": group.get("maxSize", 2),
        },
        instanceTypes=[group.get("instanceType", "m5.large")],
        amiType="AL2023_x86_64_STANDARD",
        labels={"alpha.eksctl.io/cluster-name": cluster, "alpha.eksctl.io/nodegroup-name": name},
        tags={
            **{str(k): str(v) for k, v in (group.get("tags") or {}).items()},
            "alpha.eksctl.io/nodegroup-name": name,
            "alpha.eksctl.io/nodegroup-type": "managed",
        },
    )
    _kube_nodes(cluster, add=name)
    log("✔", f'created managed nodegroup "{name}" in cluster "{cluster}"')


def _kube_nodes(cluster: str, add: str | None = None, remove: str | None = None) -> None:
    """The node groups whose nodes have joined the cluster (Karpenter's pods run on them)."""
    with _fake.state("kube") as kube:
        entry = kube.get("clusters", {}).get(cluster)
        if entry is not None:
            groups = set(entry.get("nodegroups") or [])
            groups |= {add} if add else set()
            groups -= {remove} if remove else set()
            entry["nodegroups"] = sorted(groups)


def _private_subnets(described: dict) -> list[str]:
    ec2 = _fake.boto("ec2")
    subnets = ec2.describe_subnets(SubnetIds=described["resourcesVpcConfig"]["subnetIds"])["Subnets"]
    return [
        s["SubnetId"]
        for s in subnets
        if any(t["Key"] == "kubernetes.io/role/internal-elb" for t in s.get("Tags") or [])
    ]


def _replace_cluster(name: str, version: str) -> None:
    """moto has no UpdateClusterVersion: the cluster is made again with the new version, node groups as they were."""
    eks = _fake.boto("eks")
    described = eks.describe_cluster(name=name)["cluster"]
    groups = [
        eks.describe_nodegroup(clusterName=name, nodegroupName=g)["nodegroup"]
        for g in eks.list_nodegroups(clusterName=name)["nodegroups"]
    ]
    for group in groups:
        eks.delete_nodegroup(clusterName=name, nodegroupName=group["nodegroupName"])
    eks.delete_cluster(name=name)
    vpc = described["resourcesVpcConfig"]
    eks.create_cluster(
        name=name,
        version=version,
        roleArn=described["roleArn"],
        tags=described.get("tags") or {},
        resourcesVpcConfig={
            k: vpc[k]
            for k in ("subnetIds", "securityGroupIds", "endpointPublicAccess", "endpointPrivateAccess")
            if k in vpc
        },
        logging=described.get("logging") or {},
    )
    for group in groups:
        _recreate_group(group, group["version"])


def _recreate_group(group: dict, version: str) -> None:
    eks = _fake.boto("eks")
    eks.create_nodegroup(
        clusterName=group["clusterName"],
        nodegroupName=group["nodegroupName"],
        nodeRole=group["nodeRole"],
        subnets=group["subnets"],
        version=version,
        scalingConfig=group["scalingConfig"],
        instanceTypes=group["instanceTypes"],
        amiType=group["amiType"],
        labels=group.get("labels") or {},
        tags=group.get("tags") or {},
    )


def _upgrade_cluster(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    current = _describe(name)["version"]
    wanted = str(config["metadata"]["version"])
    if current == wanted:
        log("ℹ", f'no upgrade needed: cluster "{name}" is at version {wanted}')
        return 0
    if _fake.minor(wanted) != (_fake.minor(current)[0], _fake.minor(current)[1] + 1):
        step = f"{_fake.minor(current)[0]}.{_fake.minor(current)[1] + 1}"
        raise _fake.Exit(
            1,
            f"Error: upgrading more than one version at a time is not supported. Found upgrade from "
            f'"{current}" to "{wanted}". Please upgrade to "{step}" first',
        )
    if not flags.get("--approve"):
        log("ℹ", f'(plan) would upgrade cluster "{name}" control plane from current version "{current}" to "{wanted}"')
        log("!", "no changes were applied, run again with '--approve' to apply the changes")
        return 0
    log("ℹ", f'will upgrade cluster "{name}" control plane from current version "{current}" to "{wanted}"')
    _replace_cluster(name, wanted)
    with _fake.state("kube") as kube:
        kube["clusters"][name]["version"] = wanted
    log("✔", f'cluster "{name}" control plane has been upgraded to version "{wanted}"')
    return 0


def _delete_cluster(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    described = _describe(name)
    ec2 = _fake.boto("ec2")
    alive = [
        i["InstanceId"]
        for r in ec2.describe_instances(
            Filters=[
                {"Name": f"tag:kubernetes.io/cluster/{name}", "Values": ["owned"]},
                {
                    "Name": "instance-state-name",
                    "Values": ["pending", "running", "stopping", "stopped", "shutting-down"],
                },
            ]
        )["Reservations"]
        for i in r["Instances"]
    ]
    if alive:
        vpc = described["resourcesVpcConfig"].get("vpcId", "vpc")
        raise _fake.Exit(
            1,
            f'Error: failed to delete cluster with nodegroup(s): stack "eksctl-{name}-cluster" '
            f"DELETE_FAILED: The vpc '{vpc}' has dependencies and cannot be deleted "
            f"(instances {', '.join(alive)})",
        )
    eks = _fake.boto("eks")
    for group in eks.list_nodegroups(clusterName=name)["nodegroups"]:
        eks.delete_nodegroup(clusterName=name, nodegroupName=group)
        _delete_stack(f"eksctl-{name}-nodegroup-{group}")
    _fake.checkpoint(
        stage,
        "nodegroups",
        "Error: failed to delete cluster: waiter state transitioned to Failure "
        "(injected failure after the node groups)",
    )
    with _eksctl_state(name) as entry:
        for key in list(entry["podidentities"]):
            namespace, account = key.split("/")
            _delete_stack(f"eksctl-{name}-podidentityrole-{namespace}-{account}")
        entry.update({"addons": {}, "accessentries": {}, "podidentities": {}})
    eks.delete_cluster(name=name)
    _delete_stack(f"eksctl-{name}-cluster")
    with _fake.state("kube") as kube:
        kube.get("clusters", {}).pop(name, None)
    log("✔", f"all cluster resources were deleted (--wait: {bool(_fake.one(flags, '--wait', '-w'))})")
    return 0


# ---- node groups -------------------------------------------------------------------------------
def _create_nodegroup(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    described = _describe(name)
    existing = set(_fake.boto("eks").list_nodegroups(clusterName=name)["nodegroups"])
    include = flags.get("--include")
    groups = [g for g in config.get("managedNodeGroups") or [] if include is None or g["name"] == include]
    skipped = [g["name"] for g in groups if g["name"] in existing]
    if skipped:
        log("ℹ", f"{len(skipped)} existing nodegroup(s) ({','.join(skipped)}) will be excluded")
    for group in groups:
        if group["name"] not in existing:
            _create_group(name, config, group, _private_subnets(described), described["version"])
    return 0


def _group(flags: dict) -> tuple[str, dict]:
    cluster = _fake.one(flags, "--cluster", "-c")
    name = _fake.one(flags, "--name", "-n")
    eks = _fake.boto("eks")
    _describe(str(cluster))
    try:
        return str(cluster), eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
    except eks.exceptions.ResourceNotFoundException:
        raise _fake.Exit(1, f'Error: nodegroup "{name}" not found') from None


def _upgrade_nodegroup(config: dict, flags: dict, stage: str | None) -> int:
    cluster, group = _group(flags)
    wanted = flags.get("--kubernetes-version")
    control_plane = _describe(cluster)["version"]
    if _fake.minor(str(wanted)) > _fake.minor(control_plane):
        raise _fake.Exit(
            1, f"Error: nodegroup version {wanted} cannot be newer than the control plane version {control_plane}"
        )
    if group["version"] == wanted:
        log("ℹ", f'nodegroup "{group["nodegroupName"]}" is already at version {wanted}')
        return 0
    eks = _fake.boto("eks")
    eks.delete_nodegroup(clusterName=cluster, nodegroupName=group["nodegroupName"])
    _recreate_group(group, str(wanted))
    log("✔", f'nodegroup "{group["nodegroupName"]}" upgraded to Kubernetes {wanted}')
    return 0


def _scale_nodegroup(config: dict, flags: dict, stage: str | None) -> int:
    cluster, group = _group(flags)
    scaling = dict(group["scalingConfig"])
    for flag_names, field in (
        (("--nodes", "-N"), "desiredSize"),
        (("--nodes-min", "-m"), "minSize"),
        (("--nodes-max", "-M"), "maxSize"),
    ):
        value = _fake.one(flags, *flag_names)
        if value is not None:
            scaling[field] = int(value)
    if not scaling["minSize"] <= scaling["desiredSize"] <= scaling["maxSize"]:
        raise _fake.Exit(1, f"Error: the number of nodes must be within range of min nodes and max nodes: {scaling}")
    _fake.boto("eks").update_nodegroup_config(
        clusterName=cluster, nodegroupName=group["nodegroupName"], scalingConfig=scaling
    )
    log("✔", f'nodegroup "{group["nodegroupName"]}" has been scaled')
    return 0


def _delete_nodegroup(config: dict, flags: dict, stage: str | None) -> int:
    """Named on the command line, the group is deleted at once; --approve belongs to -f (a plan
    without it), and eksctl refuses it otherwise (pkg/ctl/delete/nodegroup.go)."""
    with_file = bool(flags.get("-f") or flags.get("--config-file"))
    if flags.get("--approve") and not with_file:
        raise _fake.Exit(1, "Error: cannot use --approve unless a config file is specified via --config-file/-f")
    cluster, group = _group(flags)
    if with_file and not flags.get("--approve"):
        log("ℹ", f'(plan) would delete nodegroup "{group["nodegroupName"]}"')
        log("!", "no changes were applied, run again with '--approve' to apply the changes")
        return 0
    _fake.boto("eks").delete_nodegroup(clusterName=cluster, nodegroupName=group["nodegroupName"])
    _delete_stack(f"eksctl-{cluster}-nodegroup-{group['nodegroupName']}")
    _kube_nodes(cluster, remove=group["nodegroupName"])
    log("✔", f'deleted nodegroup "{group["nodegroupName"]}" (drain: {flags.get("--drain", True)})')
    return 0


# ---- add-ons, access entries, pod identities (not in moto) ------------------------------------
def _addons_of(config: dict, flags: dict) -> list[dict]:
    if config:
        return list(config.get("addons") or [])
    return [{"name": flags.get("--name"), **({"version": flags["--version"]} if "--version" in flags else {})}]


def _create_addon(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    version = _describe(name)["version"]
    with _eksctl_state(name) as entry:
        for addon in _addons_of(config, flags):
            if addon["name"] in entry["addons"] and not flags.get("--force"):
                log("ℹ", f'addon "{addon["name"]}" already exists')
                continue
            entry["addons"][addon["name"]] = {
                "Name": addon["name"],
                "Status": "ACTIVE",
                "Version": addon.get("version") or _addon_version(addon["name"], version),
            }
            if (
                addon.get("useDefaultPodIdentityAssociations")
                or addon.get("podIdentityAssociations")
                or flags.get("--auto-apply-pod-identity-associations")
            ):
                entry["addons"][addon["name"]]["PodIdentity"] = True
            log("ℹ", f'creating addon "{addon["name"]}"')
    return 0


def _update_addon(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    version = _describe(name)["version"]
    with _eksctl_state(name) as entry:
        for addon in _addons_of(config, flags):
            if addon["name"] not in entry["addons"]:
                raise _fake.Exit(1, f'Error: addon "{addon["name"]}" not found')
            wanted = addon.get("version")
            if not wanted:  # as eksctl: pkg/actions/addon/update.go
                log("ℹ", f'no new version provided, preserving existing version for addon "{addon["name"]}"')
                continue
            entry["addons"][addon["name"]]["Version"] = (
                _addon_version(addon["name"], version) if wanted == "latest" else wanted
            )
            log("ℹ", f'updating addon "{addon["name"]}"')
    return 0


def _delete_addon(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    with _eksctl_state(name) as entry:
        addon = flags.get("--name")
        if addon not in entry["addons"]:
            raise _fake.Exit(1, f'Error: addon "{addon}" not found')
        del entry["addons"][addon]
    log("ℹ", f'deleted addon "{flags.get("--name")}"')
    return 0


def _print(items: list[dict], flags: dict) -> int:
    if _fake.one(flags, "-o", "--output") != "json":
        raise _fake.Exit(1, "Error: the fake eksctl prints --output json only")
    print(json.dumps(items, indent=4))
    return 0


def _get_addon(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    with _eksctl_state(name) as entry:
        items = [
            {
                **a,
                "NewerVersion": "",
                "IAMRole": "",
                "ConfigurationValues": "",
                "Issues": None,
                "PodIdentityAssociations": None,
            }
            for _, a in sorted(entry["addons"].items())
        ]
    return _print(items, flags)


def _access_entries(name: str, config: dict) -> None:
    iam = _fake.boto("iam")
    with _eksctl_state(name) as entry:
        for access in (config.get("accessConfig") or {}).get("accessEntries") or []:
            arn = access["principalARN"]
            try:
                iam.get_role(RoleName=arn.rsplit("/", 1)[-1])
            except iam.exceptions.NoSuchEntityException:
                raise _fake.Exit(
                    1,
                    f"Error: creating access entry: InvalidParameterException: The specified "
                    f"principalArn is invalid: invalid principal {arn}",
                ) from None
            entry["accessentries"][arn] = {"principalARN": arn, "kubernetesGroups": [], "accessPolicies": []}


def _pod_identities(name: str, config: dict) -> None:
    iam = _fake.boto("iam")
    with _eksctl_state(name) as entry:
        for association in (config.get("iam") or {}).get("podIdentityAssociations") or []:
            for arn in association.get("permissionPolicyARNs") or []:
                try:
                    iam.get_policy(PolicyArn=arn)
                except iam.exceptions.NoSuchEntityException:
                    raise _fake.Exit(
                        1,
                        f"Error: creating pod identity association: stack failed: Policy {arn} does "
                        "not exist or is not attachable.",
                    ) from None
            key = f"{association['namespace']}/{association['serviceAccountName']}"
            stack = f"eksctl-{name}-podidentityrole-{association['namespace']}-{association['serviceAccountName']}"
            if key in entry["podidentities"]:
                _delete_stack(stack)
            ids = _stack(
                stack,
                {
                    "Role1": _role(
                        "pods.eks.amazonaws.com",
                        association.get("permissionPolicyARNs") or [],
                        association.get("roleName"),
                    )
                },
                {"alpha.eksctl.io/cluster-name": name},
            )
            entry["podidentities"][key] = {
                "AssociationARN": f"arn:aws:eks:{os.environ.get('AWS_REGION')}:{_account()}:podidentityassociation/"
                f"{name}/a-{abs(hash(key)) % 10**16}",
                "Namespace": association["namespace"],
                "ServiceAccountName": association["serviceAccountName"],
                "RoleARN": _fake.boto("iam").get_role(RoleName=ids["Role1"])["Role"]["Arn"],
                "PermissionPolicyARNs": association.get("permissionPolicyARNs") or [],
            }


def _account() -> str:
    return _fake.boto("sts").get_caller_identity()["Account"]


def _create_accessentry(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    _access_entries(name, config)
    return 0


def _delete_accessentry(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    with _eksctl_state(name) as entry:
        if entry["accessentries"].pop(flags.get("--principal-arn"), None) is None:
            raise _fake.Exit(1, f"Error: access entry {flags.get('--principal-arn')} not found")
    return 0


def _get_accessentry(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    with _eksctl_state(name) as entry:
        items = [e for _, e in sorted(entry["accessentries"].items())]
    return _print(items, flags)


def _create_podidentityassociation(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    _pod_identities(name, config)
    return 0


_update_podidentityassociation = _create_podidentityassociation


def _delete_podidentityassociation(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    key = f"{flags.get('--namespace')}/{flags.get('--service-account-name')}"
    with _eksctl_state(name) as entry:
        if entry["podidentities"].pop(key, None) is None:
            raise _fake.Exit(1, f"Error: pod identity association {key} not found")
    _delete_stack(f"eksctl-{name}-podidentityrole-{key.replace('/', '-')}")
    return 0


def _get_podidentityassociation(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    with _eksctl_state(name) as entry:
        items = [
            {k: v for k, v in p.items() if k != "PermissionPolicyARNs"}
            for _, p in sorted(entry["podidentities"].items())
        ]
    return _print(items, flags)


# ---- utils -------------------------------------------------------------------------------------
def _utils_update_cluster_vpc_config(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    if not flags.get("--approve"):
        log("!", "no changes were applied, run again with '--approve' to apply the changes")
        return 0
    endpoints = (config.get("vpc") or {}).get("clusterEndpoints") or {}
    _fake.boto("eks").update_cluster_config(
        name=name,
        resourcesVpcConfig={
            "endpointPublicAccess": bool(endpoints.get("publicAccess", True)),
            "endpointPrivateAccess": bool(endpoints.get("privateAccess", False)),
        },
    )
    return 0


def _utils_update_cluster_logging(config: dict, flags: dict, stage: str | None) -> int:
    name = _cluster_name(config, flags)
    _describe(name)
    if flags.get("--approve"):
        types = ((config.get("cloudWatch") or {}).get("clusterLogging") or {}).get("enableTypes") or []
        _fake.boto("eks").update_cluster_config(
            name=name, logging={"clusterLogging": [{"types": types, "enabled": True}]}
        )
    return 0


def _utils_associate_iam_oidc_provider(config: dict, flags: dict, stage: str | None) -> int:
    _describe(_cluster_name(config, flags))
    log("ℹ", "IAM Open ID Connect provider is already associated with cluster")
    return 0


def _utils_update_authentication_mode(config: dict, flags: dict, stage: str | None) -> int:
    _describe(_cluster_name(config, flags))
    log("ℹ", f"authentication mode is {flags.get('--authentication-mode')}")
    return 0


if __name__ == "__main__":
    sys.exit(_fake.main("eksctl", handle))
