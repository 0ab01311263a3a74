"""The fake cluster's Kubernetes side: objects, CRDs and Helm releases in kube.json, and a Karpenter
that behaves like the real one where the deploy can see it.

Karpenter (when its release is deployed and supports the cluster's Kubernetes version) marks an
EC2NodeClass Ready when the subnets and security groups its selectors name exist in EC2 and its
role exists in IAM; a NodePool Ready when its EC2NodeClass is; a new NodePool gets one node: an
EC2 instance in moto, tagged as Karpenter tags them, with a NodeClaim. Deleting a NodePool
terminates its instances and deletes its NodeClaims.

The node is Spot when the NodePool allows it (Karpenter prefers the cheaper capacity type), but only
if the account has EC2's Spot service-linked role: without it EC2 answers the launch
AuthFailure.ServiceLinkedRoleCreationNotPermitted, Karpenter marks Spot unavailable and launches
on-demand when the NodePool allows it, otherwise nothing (aws/karpenter-provider-aws@v1.14.1:
pkg/providers/instance/instance.go, MarkCapacityTypeUnavailable). The NodeClaim's
karpenter.sh/capacity-type label says which; a failed Spot launch is kept in the cluster's events.
"""

from __future__ import annotations

import datetime

import _fake

# kind -> (plural, group, namespaced); the resource name is plural.group ("" group: core).
KINDS = {
    "StorageClass": ("storageclasses", "storage.k8s.io", False),
    "Deployment": ("deployments", "apps", True),
    "NodePool": ("nodepools", "karpenter.sh", False),
    "NodeClaim": ("nodeclaims", "karpenter.sh", False),
    "EC2NodeClass": ("ec2nodeclasses", "karpenter.k8s.aws", False),
}
SINGULAR = {
    "storageclasses": "storageclass",
    "deployments": "deployment",
    "nodepools": "nodepool",
    "nodeclaims": "nodeclaim",
    "ec2nodeclasses": "ec2nodeclass",
}
ALIASES = {"sc": "storageclasses", "deploy": "deployments"}


# An Amazon Linux 2023 AMI of the region for Karpenter's nodes (the template's amiSelectorTerms name an al2023
# alias). The filter also keeps moto's answer small: it ignores MaxResults, and all of Amazon's ~1,300 images
# cost a second of CPU to describe.
AL2023 = [{"Name": "name", "Values": ["al2023-ami-2*-x86_64"]}]


def resource_of(kind: str) -> str:
    plural, group, _ = KINDS[kind]
    return f"{plural}.{group}"


def kind_of(resource: str) -> str | None:
    """The kind of a kubectl resource argument: nodepool, nodepools, nodepools.karpenter.sh, sc, ..."""
    name, _, group = resource.partition(".")
    name = ALIASES.get(name, name)
    for kind, (plural, kind_group, _) in KINDS.items():
        if name in (plural, SINGULAR[plural], kind.lower()) and group in ("", kind_group):
            return kind
    return None


def display(kind: str) -> str:
    plural, group, _ = KINDS[kind]
    return f"{SINGULAR[plural]}.{group}"


def key(kind: str, namespace: str | None, name: str) -> str:
    return f"{resource_of(kind)}/{namespace or ''}/{name}"


def served(cluster: dict, kind: str) -> bool:
    group = KINDS[kind][1]
    return not group.startswith("karpenter") or resource_of(kind) in cluster.get("crds", {})


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_cluster(version: str) -> dict:
    """What a new EKS cluster has: the gp2 StorageClass, marked default (as EKS made it)."""
    gp2 = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "gp2", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "kubernetes.io/aws-ebs",
        "parameters": {"type": "gp2", "fsType": "ext4"},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    return {"version": version, "crds": {}, "releases": {}, "objects": {key("StorageClass", None, "gp2"): gp2}}


# ---- Karpenter -----------------------------------------------------------------------------
def controller_available(cluster: dict) -> bool:
    """Karpenter's pods run (on the managed node groups' nodes) and support the cluster's version."""
    release = cluster.get("releases", {}).get("kube-system/karpenter")
    return (
        bool(release)
        and release["status"] == "deployed"
        and bool(cluster.get("nodegroups"))
        and _fake.supports(release["app_version"], cluster["version"])
    )


def condition(kind: str, obj: dict, cluster: dict) -> dict[str, bool]:
    """The conditions of an object as its controller would report them now."""
    if kind == "Deployment":
        return {"Available": obj["metadata"]["name"] != "karpenter" or controller_available(cluster)}
    if kind == "EC2NodeClass":
        return {"Ready": controller_available(cluster) and bool(obj.get("_resolved"))}
    if kind == "NodePool":
        ref = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeClassRef", {})
        node_class = cluster["objects"].get(key("EC2NodeClass", None, ref.get("name", "")))
        return {
            "Ready": controller_available(cluster)
            and node_class is not None
            and condition("EC2NodeClass", node_class, cluster)["Ready"]
        }
    if kind == "NodeClaim":
        return {"Ready": True}
    return {}


def shown(kind: str, obj: dict, cluster: dict) -> dict:
    """The object as the API server returns it: status conditions filled in, fake bookkeeping removed."""
    out = {k: v for k, v in obj.items() if not k.startswith("_")}
    conditions = condition(kind, obj, cluster)
    if conditions:
        out["status"] = {
            "conditions": [
                {
                    "type": t,
                    "status": "True" if ok else "False",
                    "lastTransitionTime": now(),
                    "reason": t if ok else "NotReady",
                }
                for t, ok in conditions.items()
            ]
        }
    return out


def resolve_node_class(cluster_name: str, obj: dict) -> bool:
    """Whether EC2 and IAM hold what the EC2NodeClass selects: its subnets, security groups and role."""
    spec = obj.get("spec") or {}
    ec2 = _fake.boto("ec2")

    def selected(terms: list[dict], describe, listing: str, field: str) -> list[str]:  # noqa: ANN001
        found: list[str] = []
        for term in terms or []:
            filters = [{"Name": f"tag:{k}", "Values": [str(v)]} for k, v in (term.get("tags") or {}).items()]
            found += [item[field] for item in describe(Filters=filters)[listing]] if filters else []
        return found

    subnets = selected(spec.get("subnetSelectorTerms"), ec2.describe_subnets, "Subnets", "SubnetId")
    groups = selected(spec.get("securityGroupSelectorTerms"), ec2.describe_security_groups, "SecurityGroups", "GroupId")
    try:
        _fake.boto("iam").get_role(RoleName=spec.get("role", ""))
        role = True
    except Exception:  # noqa: BLE001 - NoSuchEntity
        role = False
    obj["_subnets"] = subnets
    return bool(subnets) and bool(groups) and role


def launch_node(cluster_name: str, cluster: dict, pool: dict) -> None:
    """Karpenter answers a pending pod of a new NodePool with one node."""
    ref = pool["spec"]["template"]["spec"]["nodeClassRef"]["name"]
    node_class = cluster["objects"].get(key("EC2NodeClass", None, ref))
    if not node_class or not condition("NodePool", pool, cluster)["Ready"]:
        return
    pool_name = pool["metadata"]["name"]
    capacity = _capacity_type(cluster, pool)
    if capacity is None:
        return
    ec2 = _fake.boto("ec2")
    image = ec2.describe_images(Owners=["amazon"], MaxResults=5, Filters=AL2023)["Images"][0]["ImageId"]
    claim = f"{pool_name}-{len(cluster['objects']) % 100000:05d}"
    tags = {
        "karpenter.sh/nodepool": pool_name,
        "karpenter.sh/nodeclaim": claim,
        "karpenter.k8s.aws/ec2nodeclass": ref,
        f"kubernetes.io/cluster/{cluster_name}": "owned",
        "eks:eks-cluster-name": cluster_name,
        "Name": claim,
        **{str(k): str(v) for k, v in ((node_class.get("spec") or {}).get("tags") or {}).items()},
    }
    reservation = ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="m5.large",
        SubnetId=node_class["_subnets"][0],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )
    instance = reservation["Instances"][0]["InstanceId"]
    cluster["objects"][key("NodeClaim", None, claim)] = {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodeClaim",
        "metadata": {"name": claim, "labels": {"karpenter.sh/nodepool": pool_name, CAPACITY_TYPE: capacity}},
        "spec": {"nodeClassRef": pool["spec"]["template"]["spec"]["nodeClassRef"]},
        "_instance": instance,
    }


CAPACITY_TYPE = "karpenter.sh/capacity-type"
SPOT_ROLE = "AWSServiceRoleForEC2Spot"
SPOT_FAILURE = "AuthFailure.ServiceLinkedRoleCreationNotPermitted"


def _capacity_type(cluster: dict, pool: dict) -> str | None:
    """spot or on-demand, as Karpenter would launch the node; None when EC2 refuses every allowed type."""
    allowed = ["on-demand"]  # without a capacity-type requirement Karpenter launches on-demand
    for requirement in pool["spec"]["template"]["spec"].get("requirements") or []:
        if requirement.get("key") == CAPACITY_TYPE and requirement.get("operator") == "In":
            allowed = list(requirement.get("values") or [])
    if "spot" in allowed:
        try:
            _fake.boto("iam").get_role(RoleName=SPOT_ROLE)
            return "spot"
        except Exception:  # noqa: BLE001 - NoSuchEntity
            cluster.setdefault("events", []).append(
                f"NodePool/{pool['metadata']['name']}: Attempted to launch a spot instance but failed due to "
                f'"{SPOT_FAILURE}"'
            )
    return "on-demand" if "on-demand" in allowed else None


def remove_nodes(cluster: dict, pool_name: str) -> None:
    """Karpenter drains a deleted NodePool's nodes and terminates their instances."""
    claims = [
        k
        for k, o in cluster["objects"].items()
        if o["kind"] == "NodeClaim" and o["metadata"]["labels"].get("karpenter.sh/nodepool") == pool_name
    ]
    instances = [cluster["objects"][k]["_instance"] for k in claims]
    if instances:
        _fake.boto("ec2").terminate_instances(InstanceIds=instances)
    for k in claims:
        del cluster["objects"][k]
