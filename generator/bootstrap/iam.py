"""The building blocks of the bootstrap stack's IAM (statements, the ARNs of one cluster's resources, the
tags that scope them) and the plan role's read-only statements, each with the tool that needs it and
the upstream source of its actions; ARNs are Fn::Sub patterns of one cluster."""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml.comments import CommentedMap

# AWS managed policies that eksctl and Karpenter's stack attach to the roles they create (cluster,
# node group, EBS CSI driver, Karpenter's nodes), as path and name: the part of the policy's ARN
# after "policy/". Most sit at the root path; the EBS CSI driver's first policy is a service-role
# policy. The deploy role can attach these and the cluster's own Karpenter policies, nothing
# else: attaching e.g. AdministratorAccess is refused.
ATTACHABLE_AWS_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSVPCResourceController",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
    "service-role/AmazonEBSCSIDriverPolicy",
    "AmazonEBSCSIDriverPolicyV2",  # AWS's successor, limited to volumes the driver tagged
)
# The tag eksctl puts on its CloudFormation stacks (eksctl@v0.230.0 pkg/cfn/manager/api.go,
# NewStackCollection: api.ClusterNameTag), which CloudFormation propagates to the VPC, subnets,
# gateways, Elastic IPs, route tables and security groups it creates; the deploy role changes and
# deletes network resources only when they carry it with the cluster's name.
CLUSTER_TAG = "alpha.eksctl.io/cluster-name"
# The tag EKS puts on the cluster security group it creates (EKS User Guide, sec-group-reqs.html).
EKS_CLUSTER_TAG = "aws:eks:cluster-name"
# The tag Karpenter's EC2NodeClass selects subnets and security groups by (charts/eks-complete
# ec2nodeclass.yaml), which metadata.tags of the ClusterConfig puts on eksctl's stacks.
DISCOVERY_TAG = "karpenter.sh/discovery"
# What eksctl's stacks create in EC2 (pkg/cfn/builder/vpc*.go, managed_nodegroup.go). CloudFormation
# tags each of these in its create call (its resource schemas: "tagOnCreate": true), so ec2:CreateTags
# is authorized with ec2:CreateAction set to the creating call.
NETWORK_CREATE_ACTIONS = (
    "CreateVpc",
    "CreateSubnet",
    "CreateInternetGateway",
    "AllocateAddress",
    "CreateNatGateway",
    "CreateRouteTable",
    "CreateSecurityGroup",
    "CreateLaunchTemplate",
)
# What CloudFormation calls on those resources once they exist (attach, route, rules, delete).
NETWORK_CHANGE_ACTIONS = (
    "DeleteVpc",
    "ModifyVpcAttribute",
    "DeleteSubnet",
    "ModifySubnetAttribute",
    "DeleteInternetGateway",
    "AttachInternetGateway",
    "DetachInternetGateway",
    "ReleaseAddress",
    "DisassociateAddress",
    "DeleteNatGateway",
    "DeleteRouteTable",
    "CreateRoute",
    "DeleteRoute",
    "ReplaceRoute",
    "AssociateRouteTable",
    "DisassociateRouteTable",
    "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
)
# GitHub's numeric ids: positive decimal integers (int64), as the REST API returns them.

# Reading the stacks of eksctl and Karpenter: what the plan role may do, and part of what deploys do.
STACK_READS = (
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:ListStackResources",
    "cloudformation:GetTemplate",
    "cloudformation:GetTemplateSummary",
)


@dataclass(frozen=True)
class Statement:
    sid: str
    comment: str  # why the statement is there: which tool needs it, and how far it is scoped
    actions: list[str]
    resources: list[object]  # ARN strings or Fn::Sub objects
    condition: dict | None = None
    effect: str = "Allow"

    def document(self) -> CommentedMap:
        out = CommentedMap()
        out["Sid"] = self.sid
        out["Effect"] = self.effect
        out["Action"] = sorted(self.actions, key=str.lower)
        out["Resource"] = self.resources[0] if len(self.resources) == 1 else list(self.resources)
        if self.condition:
            out["Condition"] = self.condition
        return out


@dataclass(frozen=True)
class ClusterArns:
    """ARN patterns of one cluster's resources, as Fn::Sub objects. The cluster name and region come
    from values.yaml as variables of the Fn::Sub map, never as part of its format string, so the
    roles are scoped to the cluster's region whichever region the bootstrap stack is deployed in."""

    cluster: str
    region: str

    def sub(self, pattern: str) -> dict:
        values = {"Cluster": self.cluster, "Region": self.region}
        used = {name: value for name, value in values.items() if f"${{{name}}}" in pattern}
        return {"Fn::Sub": [pattern, used] if used else pattern}

    def iam(self, path: str) -> dict:
        return self.sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:{path}")

    def regional(self, service: str, path: str) -> dict:
        return self.sub(f"arn:${{AWS::Partition}}:{service}:${{Region}}:${{AWS::AccountId}}:{path}")

    def in_region(self) -> dict:
        return {"StringEquals": {"aws:RequestedRegion": self.region}}

    def stacks(self) -> list[object]:
        return [
            self.regional("cloudformation", "stack/eksctl-${Cluster}-*/*"),
            self.regional("cloudformation", "stack/Karpenter-${Cluster}/*"),
        ]

    def cluster_resources(self) -> list[object]:
        return [
            self.regional("eks", f"{kind}/${{Cluster}}{suffix}")
            for kind, suffix in (
                ("cluster", ""),
                ("nodegroup", "/*"),
                ("addon", "/*"),
                ("access-entry", "/*"),
                ("podidentityassociation", "/*"),
            )
        ]

    def roles(self) -> list[object]:
        return [
            self.iam("role/eksctl-${Cluster}-*"),  # eksctl's stacks: cluster, node group, add-on roles
            self.iam("role/${Cluster}-karpenter"),  # the Karpenter controller's pod identity role
            self.iam("role/KarpenterNodeRole-${Cluster}"),  # Karpenter's stack: its nodes' role
        ]

    def karpenter_policies(self) -> dict:
        return self.iam("policy/KarpenterController*-${Cluster}")

    def boundary(self) -> dict:
        """The permissions boundary's ARN, as boundary_arn spells it; the stack creates the policy."""
        return self.iam("policy/${Cluster}-deploy-boundary")

    def name(self) -> str:
        """The cluster's name as a condition value: a plain string, which CloudFormation does not
        interpret (it is checked to be letters, digits, '-' and '_')."""
        return self.cluster

    def cluster_tagged(self) -> dict:
        """Requests, in the cluster's region, on resources tagged for this cluster by eksctl's stacks."""
        return {"StringEquals": {"aws:RequestedRegion": self.region, f"aws:ResourceTag/{CLUSTER_TAG}": self.name()}}

    def tags_for_this_cluster(self) -> dict:
        """Tags a request sets may name this cluster only: eksctl's own and Karpenter's discovery tag."""
        return {
            "StringEqualsIfExists": {
                f"aws:RequestTag/{CLUSTER_TAG}": self.name(),
                f"aws:RequestTag/{DISCOVERY_TAG}": self.name(),
            }
        }

    def public_parameters(self) -> dict:
        return self.sub("arn:${AWS::Partition}:ssm:${Region}::parameter/aws/service/*")


def plan_statements(cluster: str, region: str) -> list[Statement]:
    """Read-only: what a pull request's plan reads to compare the cluster with rendered/."""
    arns = ClusterArns(cluster, region)
    return [
        Statement(
            "ReadClusterStacks",
            "The CloudFormation stacks of eksctl and Karpenter: state, resources, "
            "templates and events, to compare with rendered/.",
            list(STACK_READS),
            arns.stacks(),
        ),
        Statement(
            "ListStacksAndValidateTemplates",
            "Finding the cluster's stacks and checking templates; these actions take no resource ARN.",
            ["cloudformation:ListStacks", "cloudformation:ValidateTemplate"],
            ["*"],
        ),
        Statement(
            "ReadCluster",
            "The cluster, its node groups, add-ons, access entries and pod identity "
            "associations, as eksctl reads them for `get` and dry runs.",
            [
                "eks:DescribeCluster",
                "eks:ListNodegroups",
                "eks:DescribeNodegroup",
                "eks:ListAddons",
                "eks:DescribeAddon",
                "eks:ListAccessEntries",
                "eks:DescribeAccessEntry",
                "eks:ListAssociatedAccessPolicies",
                "eks:ListPodIdentityAssociations",
                "eks:DescribePodIdentityAssociation",
                "eks:ListUpdates",
                "eks:DescribeUpdate",
                "eks:ListTagsForResource",
            ],
            arns.cluster_resources(),
        ),
        Statement(
            "ReadEKSCatalog",
            "Cluster and add-on versions EKS offers; these actions take no resource ARN.",
            [
                "eks:ListClusters",
                "eks:DescribeAddonVersions",
                "eks:DescribeAddonConfiguration",
                "eks:DescribeClusterVersions",
            ],
            ["*"],
        ),
        Statement(
            "ReadNetworkAndInstances",
            "The VPC, subnets, security groups, launch templates and "
            "instances; EC2 Describe actions take no resource ARN, so they are held to the region.",
            ["ec2:Describe*"],
            ["*"],
            arns.in_region(),
        ),
        Statement(
            "ReadClusterIAM",
            "The roles and Karpenter policies of the cluster, to show IAM changes.",
            [
                "iam:GetRole",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:GetRolePolicy",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
            ],
            [*arns.roles(), arns.karpenter_policies()],
        ),
        Statement(
            "ReadInterruptionQueue",
            "Karpenter's interruption queue, named after the cluster.",
            ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
            [arns.regional("sqs", "${Cluster}")],
        ),
        Statement(
            "ReadInterruptionRules",
            "The EventBridge rules of Karpenter's stack; CloudFormation names "
            "them after the stack (Karpenter-<cluster>-...), shortening long names, so only the "
            "prefix is certain.",
            ["events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"],
            [arns.regional("events", "rule/Karpenter-*")],
        ),
        Statement(
            "ReadPublicParameters",
            "The EKS-optimized AMI ids that eksctl looks up in AWS's public SSM parameters.",
            ["ssm:GetParameter", "ssm:GetParameters"],
            [arns.public_parameters()],
        ),
    ]
