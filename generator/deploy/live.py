"""The live state of a cluster, read with the same tools a deploy changes it with.

AWS resources are read with the aws CLI (describe-cluster, describe-stacks, ...); add-ons, access
entries and pod identity associations with `eksctl get`, which reads the EKS API the way eksctl
writes it; the Helm releases with helm; Kubernetes objects with kubectl. Reads are cached until the
next change (`invalidate`), so a step's guards cost one read each.
"""

from __future__ import annotations

from pathlib import Path

from generator.deploy.shell import Runner
from generator.deploy.target import Target
from generator.errors import DeployError
from generator.naming import karpenter_stack_name

NAMESPACE = "kube-system"
# Messages of reads whose object does not exist (aws CLI v1 and v2, kubectl, helm).
_NO_CLUSTER = ("ResourceNotFoundException", "No cluster found")
_NO_STACK = ("does not exist",)
_NO_RESOURCE_TYPE = ("the server doesn't have a resource type",)
_NO_ROLE = ("NoSuchEntity",)
# What the API server says when an update changes a field it never updates (kubectl's rendering of an Invalid
# status: `The StorageClass "gp3" is invalid: parameters: Forbidden: updates to parameters are forbidden.`).
_IMMUTABLE = (": Forbidden: updates to ", ": field is immutable")
# Instance states of an instance that still holds subnets and security groups.
_ALIVE = "pending,running,stopping,stopped,shutting-down"


class Live:
    def __init__(self, runner: Runner, target: Target, kubeconfig: Path) -> None:
        self.run = runner
        self.target = target
        self.kubeconfig = kubeconfig
        self._cache: dict[object, object] = {}
        self._where = ["--region", target.region]

    def invalidate(self, *parts: str) -> None:
        """Forget what a change may have changed: some parts (cluster, nodegroups, eksctl, stack, role, releases,
        objects), or everything."""
        for key in list(self._cache):
            if not parts or (key[0] if isinstance(key, tuple) else key) in parts:
                del self._cache[key]

    def _cached(self, key: object, read):  # noqa: ANN001, ANN202 - a small memo over heterogeneous reads
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    # ---- AWS ---------------------------------------------------------------------------------
    def cluster(self) -> dict | None:
        """The EKS cluster as describe-cluster returns it, or None when it does not exist."""

        def read() -> dict | None:
            data = self.run.read_json(
                ["aws", "eks", "describe-cluster", "--name", self.target.cluster, *self._where, "--output", "json"],
                absent=_NO_CLUSTER,
            )
            return data["cluster"] if isinstance(data, dict) else None

        return self._cached("cluster", read)

    def nodegroups(self) -> dict[str, dict]:
        """The cluster's managed node groups by name, as describe-nodegroup returns them."""

        def read() -> dict[str, dict]:
            if self.cluster() is None:
                return {}
            listed = (
                self.run.read_json(
                    [
                        "aws",
                        "eks",
                        "list-nodegroups",
                        "--cluster-name",
                        self.target.cluster,
                        *self._where,
                        "--output",
                        "json",
                    ],
                    absent=_NO_CLUSTER,
                )
                or {}
            )
            groups = {}
            for name in listed.get("nodegroups") or []:
                data = self.run.read_json(
                    [
                        "aws",
                        "eks",
                        "describe-nodegroup",
                        "--cluster-name",
                        self.target.cluster,
                        "--nodegroup-name",
                        name,
                        *self._where,
                        "--output",
                        "json",
                    ],
                    absent=_NO_CLUSTER,
                )
                if isinstance(data, dict):
                    groups[name] = data["nodegroup"]
            return groups

        return self._cached("nodegroups", read)

    def stack(self) -> dict | None:
        """Karpenter's prerequisites stack, or None."""

        def read() -> dict | None:
            data = self.run.read_json(
                [
                    "aws",
                    "cloudformation",
                    "describe-stacks",
                    "--stack-name",
                    self.stack_name,
                    *self._where,
                    "--output",
                    "json",
                ],
                absent=_NO_STACK,
            )
            stacks = (data or {}).get("Stacks") or []
            return stacks[0] if stacks else None

        return self._cached("stack", read)

    @property
    def stack_name(self) -> str:
        return karpenter_stack_name(self.target.cluster)

    def stack_template(self) -> str | None:
        """The template the stack was last deployed with, as CloudFormation keeps it."""

        def read() -> str | None:
            data = self.run.read_json(
                [
                    "aws",
                    "cloudformation",
                    "get-template",
                    "--stack-name",
                    self.stack_name,
                    *self._where,
                    "--output",
                    "json",
                ],
                absent=_NO_STACK,
            )
            body = (data or {}).get("TemplateBody")
            return body if isinstance(body, str) else None

        return self._cached(("stack", "template"), read)

    def role_exists(self, name: str) -> bool:
        """Whether the account has an IAM role of this name (`aws iam get-role`; IAM is global)."""

        def read() -> bool:
            data = self.run.read_json(
                ["aws", "iam", "get-role", "--role-name", name, "--output", "json"], absent=_NO_ROLE
            )
            return isinstance(data, dict) and bool(data.get("Role"))

        return self._cached(("role", name), read)

    def log_retention(self, group: str) -> int | None:
        """The retention in days of a CloudWatch log group (None: the group does not exist or keeps logs forever)."""
        data = self.run.read_json(
            ["aws", "logs", "describe-log-groups", "--log-group-name-prefix", group, *self._where, "--output", "json"]
        )
        for found in (data or {}).get("logGroups") or []:
            if found.get("logGroupName") == group:
                return found.get("retentionInDays")
        return None

    def karpenter_instances(self) -> list[str]:
        """Ids of the EC2 instances Karpenter launched for this cluster that are not terminated."""
        data = self.run.read_json(
            [
                "aws",
                "ec2",
                "describe-instances",
                *self._where,
                "--output",
                "json",
                "--filters",
                "Name=tag-key,Values=karpenter.sh/nodepool",
                f"Name=tag:kubernetes.io/cluster/{self.target.cluster},Values=owned",
                f"Name=instance-state-name,Values={_ALIVE}",
            ]
        )
        return sorted(i["InstanceId"] for r in (data or {}).get("Reservations") or [] for i in r.get("Instances") or [])

    # ---- eksctl ------------------------------------------------------------------------------
    def eksctl_items(self, kind: str) -> list[dict]:
        """`eksctl get addon|accessentry|podidentityassociation` of the cluster, as JSON."""

        def read() -> list[dict]:
            if self.cluster() is None:
                return []
            data = self.run.read_json(
                ["eksctl", "get", kind, "--cluster", self.target.cluster, *self._where, "--output", "json"]
            )
            return list(data or [])

        return self._cached(("eksctl", kind), read)

    def addons(self) -> set[str]:
        return {str(a.get("Name")) for a in self.eksctl_items("addon")}

    def access_entries(self) -> set[str]:
        return {str(e.get("PrincipalARN") or e.get("principalARN")) for e in self.eksctl_items("accessentry")}

    def pod_identities(self) -> set[tuple[str, str]]:
        return {
            (str(p.get("Namespace")), str(p.get("ServiceAccountName")))
            for p in self.eksctl_items("podidentityassociation")
        }

    # ---- Kubernetes ----------------------------------------------------------------------------
    def connect(self) -> None:
        """Write the deploy's own kubeconfig for the cluster (a local file; nothing in AWS changes)."""
        result = self.run.read(
            [
                "aws",
                "eks",
                "update-kubeconfig",
                "--name",
                self.target.cluster,
                *self._where,
                "--kubeconfig",
                str(self.kubeconfig),
            ]
        )
        if result.returncode != 0:
            raise DeployError(
                f"cannot write a kubeconfig for {self.target.cluster}: {(result.stderr or result.stdout).strip()}"
            )

    def releases(self) -> dict[str, dict]:
        """The Helm releases of kube-system by name (every status, so a failed upgrade shows)."""

        def read() -> dict[str, dict]:
            data = self.run.read_json(["helm", "list", "--namespace", NAMESPACE, "--all", "--output", "json"])
            return {str(r["name"]): r for r in data or []}

        return self._cached("releases", read)

    def release_values(self, release: str) -> dict:
        """The values a release was installed with (`helm get values`: the user-supplied ones)."""
        data = self.run.read_json(
            ["helm", "get", "values", release, "--namespace", NAMESPACE, "--output", "json"], absent=("not found",)
        )
        return data if isinstance(data, dict) else {}

    def objects(self, resource: str) -> list[dict] | None:
        """All objects of a resource type (e.g. nodepools.karpenter.sh); None when the type is not served."""

        def read() -> list[dict] | None:
            data = self.run.read_json(["kubectl", "get", resource, "--output", "json"], absent=_NO_RESOURCE_TYPE)
            return None if data is None else list(data.get("items") or [])

        return self._cached(("objects", resource), read)

    def differs(self, path: str) -> bool:
        """Whether applying a rendered file would change the cluster (`kubectl diff --server-side`)."""
        args = ["kubectl", "diff", "--server-side", "--field-manager=eksgen", "-f", path]
        result = self.run.read(args)
        if (
            result.returncode not in (0, 1)
            and " is invalid" in result.stderr
            and any(message in result.stderr for message in _IMMUTABLE)
        ):
            return True  # it differs in a field the API server refuses to update: applying it as is fails
        if result.returncode not in (0, 1):
            raise DeployError(
                f"`kubectl diff -f {path}` failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[:500]}"
            )
        return result.returncode == 1

    def exists(self, kind: str, name: str) -> bool:
        result = self.run.read(["kubectl", "get", kind, name, "--ignore-not-found", "--output", "name"])
        if result.returncode != 0:
            if any(p in result.stderr for p in _NO_RESOURCE_TYPE):
                return False
            raise DeployError(f"`kubectl get {kind} {name}` failed: {result.stderr.strip()[:500]}")
        return bool(result.stdout.strip())
