"""The deploy role's statements: what eksctl, CloudFormation and Karpenter's stack call to create,
change and delete one cluster, scoped to that cluster's resources where AWS allows it."""

from __future__ import annotations

from generator.bootstrap.iam import (
    ATTACHABLE_AWS_POLICIES,
    CLUSTER_TAG,
    DISCOVERY_TAG,
    EKS_CLUSTER_TAG,
    NETWORK_CHANGE_ACTIONS,
    NETWORK_CREATE_ACTIONS,
    STACK_READS,
    ClusterArns,
    Statement,
)


def deploy_statements(cluster: str, region: str) -> list[Statement]:
    """What `eksctl create/upgrade cluster`, CloudFormation and Karpenter's stack need, and no more."""
    arns = ClusterArns(cluster, region)
    attachable = [arns.sub(f"arn:${{AWS::Partition}}:iam::aws:policy/{path}") for path in ATTACHABLE_AWS_POLICIES]
    return [
        Statement(
            "ManageClusterStacks",
            "eksctl creates, updates and deletes its stacks (eksctl-<cluster>-*: "
            "VPC and control plane, node group, add-on and pod identity roles); deploys run "
            "`aws cloudformation deploy` (change sets) on Karpenter-<cluster>.",
            [
                "cloudformation:CreateStack",
                "cloudformation:UpdateStack",
                "cloudformation:DeleteStack",
                *STACK_READS,
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:ListChangeSets",
                "cloudformation:TagResource",
            ],
            arns.stacks(),
        ),
        Statement(
            "ListStacksAndValidateTemplates",
            "eksctl lists stacks to find its own; these actions take no resource ARN.",
            ["cloudformation:ListStacks", "cloudformation:ValidateTemplate"],
            ["*"],
        ),
        Statement(
            "ManageCluster",
            "eksctl creates and upgrades the control plane; CloudFormation creates the "
            "managed node group; eksctl installs add-ons, access entries (Karpenter's node role) and pod "
            "identity associations (the Karpenter controller, the EBS CSI driver). Only this cluster.",
            [
                "eks:DeleteCluster",
                "eks:DescribeCluster",
                "eks:UpdateClusterConfig",
                "eks:UpdateClusterVersion",
                "eks:ListUpdates",
                "eks:DescribeUpdate",
                "eks:TagResource",
                "eks:UntagResource",
                "eks:ListTagsForResource",
                "eks:CreateNodegroup",
                "eks:DeleteNodegroup",
                "eks:DescribeNodegroup",
                "eks:ListNodegroups",
                "eks:UpdateNodegroupConfig",
                "eks:UpdateNodegroupVersion",
                "eks:CreateAddon",
                "eks:DeleteAddon",
                "eks:DescribeAddon",
                "eks:ListAddons",
                "eks:UpdateAddon",
                "eks:CreateAccessEntry",
                "eks:DeleteAccessEntry",
                "eks:DescribeAccessEntry",
                "eks:ListAccessEntries",
                "eks:UpdateAccessEntry",
                "eks:AssociateAccessPolicy",
                "eks:DisassociateAccessPolicy",
                "eks:ListAssociatedAccessPolicies",
                "eks:CreatePodIdentityAssociation",
                "eks:DeletePodIdentityAssociation",
                "eks:DescribePodIdentityAssociation",
                "eks:ListPodIdentityAssociations",
                "eks:UpdatePodIdentityAssociation",
            ],
            arns.cluster_resources(),
        ),
        Statement(
            "CreateCluster",
            "CloudFormation creates the control plane with these credentials. CreateCluster "
            "takes no resource ARN (Service Authorization Reference), so it is held to the region and to "
            "a request that tags the cluster with its discovery tag, as eksctl does with metadata.tags.",
            ["eks:CreateCluster"],
            ["*"],
            {"StringEquals": {"aws:RequestedRegion": arns.region, f"aws:RequestTag/{DISCOVERY_TAG}": arns.name()}},
        ),
        Statement(
            "ReadEKSCatalog",
            "eksctl picks add-on versions and checks cluster versions; these actions take no resource ARN.",
            [
                "eks:ListClusters",
                "eks:DescribeAddonVersions",
                "eks:DescribeAddonConfiguration",
                "eks:DescribeClusterVersions",
                "eks:ListAccessPolicies",
            ],
            ["*"],
        ),
        Statement(
            "ReadNetworkAndInstances",
            "eksctl and CloudFormation read back what they create; EC2 Describe actions take no resource ARN.",
            ["ec2:Describe*"],
            ["*"],
            arns.in_region(),
        ),
        Statement(
            "TagNodeGroupAutoScaling",
            "eksctl copies the node group's tags to its Auto Scaling group (propagateASGTags).",
            ["autoscaling:CreateOrUpdateTags", "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeTags"],
            ["*"],
            arns.in_region(),
        ),
        Statement(
            "ManageClusterRoles",
            "Roles that eksctl's stacks and Karpenter's stack create: the cluster, "
            "node group and add-on roles (eksctl-<cluster>-*), the Karpenter controller's pod identity "
            "role (<cluster>-karpenter) and Karpenter's node role. Not this stack's roles.",
            [
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:UpdateRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:DetachRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ],
            arns.roles(),
        ),
        Statement(
            "CreateClusterRolesWithinBoundary",
            "Only with the boundary DeployBoundary (the one the "
            "request sets, or the role has) are these roles created or given permissions.",
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
            arns.roles(),
            {"StringEquals": {"iam:PermissionsBoundary": arns.boundary()}},
        ),
        Statement(
            "AttachKnownPoliciesToClusterRoles",
            "Within the boundary, the same roles get only the AWS "
            "managed policies that eksctl and Karpenter's template name, and the cluster's Karpenter "
            "controller policies.",
            ["iam:AttachRolePolicy"],
            arns.roles(),
            {
                "ArnLike": {"iam:PolicyARN": [*attachable, arns.karpenter_policies()]},
                "StringEquals": {"iam:PermissionsBoundary": arns.boundary()},
            },
        ),
        Statement(
            "ManageKarpenterPolicies",
            "Karpenter's stack creates and updates the controller's managed policies (KarpenterController*-<cluster>).",
            [
                "iam:CreatePolicy",
                "iam:DeletePolicy",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicyVersion",
                "iam:ListPolicyVersions",
                "iam:TagPolicy",
                "iam:UntagPolicy",
                "iam:ListEntitiesForPolicy",
            ],
            [arns.karpenter_policies()],
        ),
        Statement(
            "PassClusterRolesToEKS",
            "Creating the cluster and node group passes their roles to EKS; a "
            "pod identity association passes its role to EKS Pod Identity.",
            ["iam:PassRole"],
            arns.roles()[:2],
            {"StringEquals": {"iam:PassedToService": ["eks.amazonaws.com", "pods.eks.amazonaws.com"]}},
        ),
        Statement(
            "ManageClusterOIDCProvider",
            "iam.withOIDC: eksctl creates the cluster's own OIDC provider (oidc.eks.<region>...), never GitHub's.",
            [
                "iam:CreateOpenIDConnectProvider",
                "iam:DeleteOpenIDConnectProvider",
                "iam:GetOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UntagOpenIDConnectProvider",
            ],
            [arns.iam("oidc-provider/oidc.eks.${Region}.${AWS::URLSuffix}/id/*")],
        ),
        Statement(
            "ListOIDCProviders",
            "eksctl looks for the cluster's provider; the action takes no resource ARN.",
            ["iam:ListOpenIDConnectProviders"],
            ["*"],
        ),
        Statement(
            "CreateServiceLinkedRoles",
            "First use of EKS, managed node groups, Auto Scaling and Spot in "
            "the account creates their service-linked roles (Karpenter launches Spot instances).",
            ["iam:CreateServiceLinkedRole"],
            [arns.iam("role/aws-service-role/*")],
            {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "eks.amazonaws.com",
                        "eks-nodegroup.amazonaws.com",
                        "autoscaling.amazonaws.com",
                        "spot.amazonaws.com",
                    ]
                }
            },
        ),
        Statement(
            "ReadServiceLinkedRoles",
            "eksctl checks that EKS's service-linked roles exist.",
            ["iam:GetRole"],
            [arns.iam("role/aws-service-role/*")],
        ),
        Statement(
            "ReadPublicParameters",
            "The EKS-optimized AMI ids that eksctl looks up in AWS's public SSM parameters.",
            ["ssm:GetParameter", "ssm:GetParameters"],
            [arns.public_parameters()],
        ),
        Statement(
            "SetControlPlaneLogRetention",
            "cloudWatch.clusterLogging.logRetentionInDays: eksctl sets the retention of the control plane's log group.",
            ["logs:PutRetentionPolicy"],
            [
                arns.regional("logs", "log-group:/aws/eks/${Cluster}/cluster"),
                arns.regional("logs", "log-group:/aws/eks/${Cluster}/cluster:*"),
            ],
        ),
        Statement(
            "ListLogGroups",
            "eksctl looks up the control plane's log group first. DescribeLogGroups takes "
            "no resource ARN (Service Authorization Reference), so it is held to the region.",
            ["logs:DescribeLogGroups"],
            ["*"],
            arns.in_region(),
        ),
        Statement(
            "ManageInterruptionQueue",
            "Karpenter's stack: the interruption queue, named after the cluster, and its queue policy.",
            [
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:SetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:TagQueue",
                "sqs:UntagQueue",
                "sqs:ListQueueTags",
            ],
            [arns.regional("sqs", "${Cluster}")],
        ),
        Statement(
            "ManageInterruptionRules",
            "Karpenter's stack: the EventBridge rules that feed the queue. "
            "CloudFormation names them after the stack (Karpenter-<cluster>-...), shortening long names, "
            "so only the prefix is certain.",
            [
                "events:PutRule",
                "events:DeleteRule",
                "events:DescribeRule",
                "events:EnableRule",
                "events:DisableRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:ListTargetsByRule",
                "events:TagResource",
                "events:UntagResource",
                "events:ListTagsForResource",
            ],
            [arns.regional("events", "rule/Karpenter-*")],
        ),
    ]


def deploy_network_statements(cluster: str, region: str) -> list[Statement]:
    """The deploy role's EC2 permissions for eksctl's VPC and node group stacks: creating anywhere in
    the region, but tagging, changing and deleting only what is tagged for this cluster. A managed
    policy of the stack (<cluster>-deploy-network) attached to the deploy role holds them, because a
    role's inline policies share one 10,240-character quota."""
    arns = ClusterArns(cluster, region)
    return [
        Statement(
            "CreateClusterNetwork",
            "eksctl's stacks create the VPC, subnets, gateways, Elastic IP, "
            "route tables, security groups and a launch template; nothing has a name to scope by before "
            "it exists, so this is held to the region.",
            [f"ec2:{action}" for action in NETWORK_CREATE_ACTIONS],
            ["*"],
            arns.in_region(),
        ),
        Statement(
            "TagClusterNetworkOnCreate",
            "CloudFormation tags in the create call (ec2:CreateAction), with "
            f"the stack's tags: {CLUSTER_TAG} and metadata.tags; they must name this cluster.",
            ["ec2:CreateTags"],
            ["*"],
            {
                "StringEquals": {
                    "aws:RequestedRegion": arns.region,
                    "ec2:CreateAction": list(NETWORK_CREATE_ACTIONS),
                    f"aws:RequestTag/{CLUSTER_TAG}": arns.name(),
                },
                "StringEqualsIfExists": {f"aws:RequestTag/{DISCOVERY_TAG}": arns.name()},
            },
        ),
        Statement(
            "RetagClusterNetwork",
            f"Only resources tagged {CLUSTER_TAG}=<cluster> are retagged, never "
            f"for another cluster: no foreign subnet or security group gets {DISCOVERY_TAG}.",
            ["ec2:CreateTags", "ec2:DeleteTags"],
            ["*"],
            {**arns.cluster_tagged(), **arns.tags_for_this_cluster()},
        ),
        Statement(
            "ChangeClusterNetwork",
            "Attach, route, rules, delete: every VPC resource the request names "
            f"must be tagged {CLUSTER_TAG}=<cluster>, as CloudFormation tags eksctl's.",
            [f"ec2:{action}" for action in NETWORK_CHANGE_ACTIONS],
            ["*"],
            arns.cluster_tagged(),
        ),
        Statement(
            "ChangeEKSClusterSecurityGroupRules",
            "eksctl adds a rule to the security group EKS creates, "
            f"which EKS tags {EKS_CLUSTER_TAG}=<cluster> (aws: tags are reserved to AWS).",
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            ["*"],
            {"StringEquals": {"aws:RequestedRegion": arns.region, f"aws:ResourceTag/{EKS_CLUSTER_TAG}": arns.name()}},
        ),
        Statement(
            "AddRulesAndFreeAddresses",
            "Untagged resources these requests also name: the new rule, the "
            "interface an address leaves (the group and the address are checked above).",
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:DisassociateAddress"],
            [arns.regional("ec2", "security-group-rule/*"), arns.regional("ec2", "network-interface/*")],
            arns.in_region(),
        ),
        Statement(
            "ManageNodeGroupLaunchTemplates",
            "The node group's launch template, untagged by "
            "CloudFormation; never Karpenter's (tagged karpenter.sh/nodepool), of any cluster.",
            ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate"],
            ["*"],
            {**arns.in_region(), "Null": {"aws:ResourceTag/karpenter.sh/nodepool": "true"}},
        ),
    ]
