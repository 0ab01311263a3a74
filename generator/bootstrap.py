"""`eksgen bootstrap`: the one-time AWS setup that lets the repository's workflows reach AWS.

It writes bootstrap/github-oidc.yaml into a cluster repository: a CloudFormation template that an
administrator deploys once. The template creates GitHub's OpenID Connect provider in the account
(or reuses the account's existing one, given by a parameter) and two IAM roles that GitHub Actions
assume with short-lived tokens, so that no AWS key is ever stored in GitHub:

- the plan role, read-only, trusted for the repository's pull requests
  (token claim sub = repo:ORG@ORG_ID/REPO@REPO_ID:pull_request);
- the deploy role, trusted only for jobs that run in the repository's GitHub environment
  (sub = repo:ORG@ORG_ID/REPO@REPO_ID:environment:ENV), so that environment protection rules
  (required reviewers, branch rules) guard every change to the cluster.

GitHub's immutable subject claims carry the numeric ids of the owner and the repository, which
repositories created on or after 15 July 2026 (and older ones that opted in) emit; cluster
repositories are new, so that form is the default. --legacy-subject trusts the name-only form
(repo:ORG/REPO:...) of older repositories instead.

The deploy role may do what `eksctl` (cluster, VPC, node group, add-ons, access entries, pod
identity), CloudFormation and Karpenter's stack (rendered/cloudformation/karpenter.yaml) need, on
this cluster's resources only where AWS allows resource-level scoping. Each statement carries a Sid
and a comment saying what needs it. The roles the deploy creates can be made only with the stack's
permissions boundary (<cluster>-deploy-boundary), which caps them at what eksctl's and Karpenter's
roles need, so no deploy can mint an administrator; VPC resources are retagged, changed and
deleted only when eksctl's stacks tagged them for this cluster (alpha.eksctl.io/cluster-name).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from generator import answers, render
from generator.errors import AnswerError, EksgenError, TargetExistsError

TEMPLATE = Path("bootstrap/github-oidc.yaml")
ANSWERS_FILE = Path(".eksgen.yaml")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
CHINA_AUDIENCE = "sts.amazonaws.com.cn"  # the China partition's STS (configure-aws-credentials' `audience`)
EXISTING_PROVIDER_PARAMETER = "ExistingOIDCProviderArn"
CREATE_PROVIDER_CONDITION = "CreateOIDCProvider"
# The deploy and destroy jobs of the generated workflows run for up to 150 minutes (timeout-minutes);
# a session must not end before the job does, so the role allows 3 hours.
DEPLOY_SESSION_SECONDS = 10800
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
# The permissions boundary: every role the deploy creates must carry it, and it caps them at what
# the roles of eksctl and Karpenter need. Its non-IAM part is the union of the actions of
# ATTACHABLE_AWS_POLICIES and of Karpenter's controller policies (karpenter-provider-aws v1.14.1
# getting-started cloudformation.yaml); to keep the template under CloudFormation's 51,200 bytes,
# Describe*, Get* and List* stand for the reads they name, and ec2messages:* and ssmmessages:* for
# those services' every action, which AmazonSSMManagedInstanceCore grants. IAM: boundary_statements.
BOUNDARY_ACTIONS = (
    "arc-zonal-shift:GetManagedResource",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:UpdateAutoScalingGroup",
    "ec2:AssignPrivateIpAddresses",
    "ec2:AttachNetworkInterface",
    "ec2:AttachVolume",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CopyVolumes",
    "ec2:CreateFleet",
    "ec2:CreateLaunchTemplate",
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:CreateRoute",
    "ec2:CreateSecurityGroup",
    "ec2:CreateSnapshot",
    "ec2:CreateTags",
    "ec2:CreateVolume",
    "ec2:DeleteLaunchTemplate",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteRoute",
    "ec2:DeleteSecurityGroup",
    "ec2:DeleteSnapshot",
    "ec2:DeleteTags",
    "ec2:DeleteVolume",
    "ec2:Describe*",
    "ec2:DetachNetworkInterface",
    "ec2:DetachVolume",
    "ec2:EnableFastSnapshotRestores",
    "ec2:LockSnapshot",
    "ec2:ModifyInstanceAttribute",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:ModifyVolume",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RunInstances",
    "ec2:TerminateInstances",
    "ec2:UnassignPrivateIpAddresses",
    "ec2messages:*",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:BatchImportUpstreamImage",
    "ecr:Describe*",
    "ecr:Get*",
    "ecr:List*",
    "eks-auth:AssumeRoleForPodIdentity",
    "eks:DescribeCluster",
    "elasticloadbalancing:AddTags",
    "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
    "elasticloadbalancing:AttachLoadBalancerToSubnets",
    "elasticloadbalancing:ConfigureHealthCheck",
    "elasticloadbalancing:CreateListener",
    "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateLoadBalancerListeners",
    "elasticloadbalancing:CreateLoadBalancerPolicy",
    "elasticloadbalancing:CreateTargetGroup",
    "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteLoadBalancer",
    "elasticloadbalancing:DeleteLoadBalancerListeners",
    "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:Describe*",
    "elasticloadbalancing:DetachLoadBalancerFromSubnets",
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyLoadBalancerAttributes",
    "elasticloadbalancing:ModifyTargetGroup",
    "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
    "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
    "kms:DescribeKey",
    "pricing:GetProducts",
    "sqs:DeleteMessage",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "ssm:DescribeAssociation",
    "ssm:DescribeDocument",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:GetManifest",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:PutInventory",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:*",
)
# GitHub's numeric ids: positive decimal integers (int64), as the REST API returns them.
_GITHUB_ID = re.compile(r"^[1-9][0-9]{0,18}$")
_FIND_IDS = "gh api repos/{repo} --jq '.owner.id, .id' (REST: GET /repos/{repo}, fields owner.id and id)"


def karpenter_stack_name(cluster: str) -> str:
    """The CloudFormation stack deploys create from rendered/cloudformation/karpenter.yaml."""
    return f"Karpenter-{cluster}"


def boundary_policy_name(cluster: str) -> str:
    """The managed policy the bootstrap stack creates as the permissions boundary of every role that
    deploys create. At path /, so its ARN is arn:PARTITION:iam::ACCOUNT:policy/<cluster>-deploy-boundary,
    which the ClusterConfig and Karpenter's template name without looking it up."""
    return f"{cluster}-deploy-boundary"


def network_policy_name(cluster: str) -> str:
    """The managed policy, attached to the deploy role, that holds its EC2 permissions."""
    return f"{cluster}-deploy-network"


def boundary_arn(cluster: str, region: str, account: str) -> str:
    return f"arn:{partition(region)}:iam::{account}:policy/{boundary_policy_name(cluster)}"


def bootstrap_stack_name(cluster: str) -> str:
    """The stack an administrator creates from bootstrap/github-oidc.yaml."""
    return f"{cluster}-github-oidc"


def partition(region: str) -> str:
    """The AWS partition of a region, as in ARNs."""
    return "aws-cn" if region.startswith("cn-") else ("aws-us-gov" if region.startswith("us-gov-") else "aws")


def audience(region: str) -> str:
    """The `aud` of the tokens workflows request for AWS STS: China's partition has its own."""
    return CHINA_AUDIENCE if partition(region) == "aws-cn" else AUDIENCE


def subject_repository(github_repo: str, github_ids: tuple[int, int] | None) -> str:
    """How the `sub` claim names the repository: ORG@ORG_ID/NAME@REPO_ID in GitHub's immutable form,
    ORG/NAME in the legacy form (no ids). The ids keep a recycled name from matching the trust."""
    if github_ids is None:
        return github_repo
    (org, name), (org_id, repo_id) = github_repo.split("/", 1), github_ids
    return f"{org}@{org_id}/{name}@{repo_id}"


@dataclass(frozen=True)
class Settings:
    """What the template is made from: values.yaml and the recorded answers, checked."""

    cluster: str
    region: str
    github_repo: str  # ORG/NAME
    environment: str
    account_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # (owner id, repository id): the immutable `sub` form; None: the legacy name-only form
    github_ids: tuple[int, int] | None = None

    @property
    def audience(self) -> str:
        return audience(self.region)

    @property
    def plan_subject(self) -> str:
        """The `sub` claim of a GitHub Actions token of a pull_request workflow run."""
        return f"repo:{subject_repository(self.github_repo, self.github_ids)}:pull_request"

    @property
    def deploy_subject(self) -> str:
        """The `sub` claim of a token of a job that runs in the GitHub environment."""
        return f"repo:{subject_repository(self.github_repo, self.github_ids)}:environment:{self.environment}"

    @property
    def plan_role(self) -> str:
        return f"{self.cluster}-github-plan"

    @property
    def deploy_role(self) -> str:
        return f"{self.cluster}-github-deploy"


@dataclass(frozen=True)
class Written:
    path: Path
    changed: bool  # False: the file already held exactly this template


def read_settings(
    repo: Path,
    github_repo: str | None = None,
    *,
    github_org_id: object = None,
    github_repo_id: object = None,
    legacy_subject: bool = False,
) -> Settings:
    """Settings from values.yaml and .eksgen.yaml; `github_repo` overrides the recorded answer. The
    ids are required unless `legacy_subject` (the name-only `sub` of older repositories)."""
    values = render.load_values(repo)
    cluster = _checked(
        "clusterName",
        values.get("clusterName"),
        answers._CLUSTER_NAME,
        "must be an EKS cluster name: letters, digits, '-' and '_'",
    )
    if len(cluster) > answers.MAX_CLUSTER_NAME:
        raise AnswerError("clusterName", cluster, f"at most {answers.MAX_CLUSTER_NAME} characters")
    region = values.get("awsRegion")
    if not isinstance(region, str) or not region:
        raise AnswerError("awsRegion", region, "must name the AWS region of the cluster")
    environment = _checked(
        "environment", values.get("environment"), answers._ENVIRONMENT, "must be the name of a GitHub environment"
    )
    account = values.get("awsAccountId") or None
    if account is not None:
        account = _checked("awsAccountId", str(account), answers._ACCOUNT_ID, "must be 12 digits")
    tags = values.get("tags") or {}
    if not isinstance(tags, dict):
        raise AnswerError("tags", tags, "must be a map of tag keys to values")
    if github_repo is None:
        github_repo = _recorded_github_repo(repo)
        if not github_repo:
            raise AnswerError(
                "--github-repo",
                "",
                f"no GitHub repository is recorded in {repo / ANSWERS_FILE} (answers.github-repo); pass "
                "--github-repo ORG/NAME, or set github-repo there, so that the roles trust only that repository",
            )
    github_repo = _checked("--github-repo", github_repo, answers._GITHUB_REPO, "must be ORG/NAME as on GitHub")
    github_ids = _subject_ids(github_repo, github_org_id, github_repo_id, legacy_subject)
    return Settings(
        cluster=cluster,
        region=region,
        github_repo=github_repo,
        environment=environment,
        account_id=account,
        tags={str(k): str(v) for k, v in tags.items()},
        github_ids=github_ids,
    )


def _subject_ids(github_repo: str, org_id: object, repo_id: object, legacy: bool) -> tuple[int, int] | None:
    """The owner's and the repository's ids for the immutable `sub` form, or None for the legacy form."""
    given = {"--github-org-id": org_id, "--github-repo-id": repo_id}
    if legacy:
        for option, value in given.items():
            if value not in (None, ""):
                raise AnswerError(
                    option,
                    value,
                    "contradicts --legacy-subject, which trusts the name-only sub claim; drop one of them",
                )
        return None
    how = _FIND_IDS.format(repo=github_repo)
    ids = []
    for option, value in given.items():
        if value in (None, ""):
            raise AnswerError(
                option,
                "",
                f"required for GitHub's immutable sub claim (repo:ORG@ORG_ID/NAME@REPO_ID), "
                f"which new repositories emit; find the ids with {how}. For a repository created "
                "before 15 July 2026 that has not opted in, pass --legacy-subject instead",
            )
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        ids.append(int(_checked(option, text, _GITHUB_ID, f"must be a positive integer, GitHub's numeric id ({how})")))
    return ids[0], ids[1]


def _checked(option: str, value: object, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise AnswerError(option, value, rule)
    return value


def _recorded_github_repo(repo: Path) -> str | None:
    path = repo / ANSWERS_FILE
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EksgenError(f"{path}: not found; is {repo} a repository made by `eksgen new`?") from None
    except YAMLError as exc:
        raise EksgenError(f"{path}: not valid YAML: {exc}") from None
    recorded = (data or {}).get("answers") if isinstance(data, dict) else None
    value = recorded.get("github-repo") if isinstance(recorded, dict) else None
    return value or None


# ---- the template ---------------------------------------------------------------------------


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
class _Arns:
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
    arns = _Arns(cluster, region)
    return [
        Statement(
            "ReadClusterStacks",
            "The CloudFormation stacks of eksctl and Karpenter: state, resources, "
            "templates and events, to compare with rendered/.",
            [
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResource",
                "cloudformation:DescribeStackResources",
                "cloudformation:ListStackResources",
                "cloudformation:GetTemplate",
                "cloudformation:GetTemplateSummary",
            ],
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


def deploy_statements(cluster: str, region: str) -> list[Statement]:
    """What `eksctl create/upgrade cluster`, CloudFormation and Karpenter's stack need, and no more."""
    arns = _Arns(cluster, region)
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
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResource",
                "cloudformation:DescribeStackResources",
                "cloudformation:ListStackResources",
                "cloudformation:GetTemplate",
                "cloudformation:GetTemplateSummary",
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
    arns = _Arns(cluster, region)
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


def boundary_statements(cluster: str, region: str) -> list[Statement]:
    """The permissions boundary of every role that deploys create: the most those roles can ever do,
    whatever policies the deploy role gives them. No IAM action that makes or changes a role or a
    policy, no sts:AssumeRole: a role minted by a deploy cannot mint another or step outside."""
    arns = _Arns(cluster, region)
    return [
        Statement(
            "ClusterRoleActions",
            "The actions of the AWS managed policies eksctl and Karpenter attach, "
            "and of Karpenter's controller policies.",
            list(BOUNDARY_ACTIONS),
            ["*"],
        ),
        Statement(
            "KarpenterInstanceProfiles",
            "Karpenter's controller: its nodes' instance profiles.",
            [
                "iam:AddRoleToInstanceProfile",
                "iam:CreateInstanceProfile",
                "iam:DeleteInstanceProfile",
                "iam:GetInstanceProfile",
                "iam:RemoveRoleFromInstanceProfile",
                "iam:TagInstanceProfile",
            ],
            [arns.iam("instance-profile/*")],
        ),
        Statement(
            "ListInstanceProfiles",
            "Karpenter's controller; the action takes no resource ARN.",
            ["iam:ListInstanceProfiles"],
            ["*"],
        ),
        Statement(
            "PassKarpenterNodeRole",
            "Karpenter's controller passes its node role, no other, to EC2.",
            ["iam:PassRole"],
            [arns.iam("role/KarpenterNodeRole-${Cluster}")],
            {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"]}},
        ),
        Statement(
            "CreateLoadBalancerServiceLinkedRole",
            "AmazonEKSClusterPolicy: ELB's service-linked role.",
            ["iam:CreateServiceLinkedRole"],
            ["*"],
            {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        ),
        Statement(
            "KeepClusterAndDiscoveryTags",
            f"No role puts {CLUSTER_TAG} (the deploy role's EC2 scope) or "
            f"{DISCOVERY_TAG} (Karpenter's) on an existing resource; tagging on create stays.",
            ["ec2:CreateTags"],
            ["*"],
            {
                "ForAnyValue:StringEquals": {"aws:TagKeys": [CLUSTER_TAG, DISCOVERY_TAG]},
                "Null": {"ec2:CreateAction": "true"},
            },
            effect="Deny",
        ),
    ]


def _trust(subject: str, token_audience: str) -> CommentedMap:
    """Tokens of GitHub Actions for exactly one `sub`, issued for AWS STS of the partition."""
    federated = {
        "Fn::If": [CREATE_PROVIDER_CONDITION, {"Ref": "GitHubOIDCProvider"}, {"Ref": EXISTING_PROVIDER_PARAMETER}]
    }
    statement = CommentedMap()
    statement["Sid"] = "GitHubActionsOIDC"
    statement["Effect"] = "Allow"
    statement["Principal"] = {"Federated": federated}
    statement["Action"] = "sts:AssumeRoleWithWebIdentity"
    statement["Condition"] = {
        "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": token_audience, f"{GITHUB_OIDC_HOST}:sub": subject}
    }
    return CommentedMap([("Version", DoubleQuotedScalarString("2012-10-17")), ("Statement", [statement])])


# Columns at which the statements of a role's policy start in the dumped YAML (see _dump): the
# role under Resources (2), Properties (4), Policies (6), "- PolicyName" (8), PolicyDocument (10),
# Statement (12), its items (14). A managed policy's: Properties (4), PolicyDocument (6), Statement
# (8), its items (10).
_STATEMENT_COLUMN = 14
_MANAGED_STATEMENT_COLUMN = 10


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False)


def _document(statements: list[Statement], column: int) -> CommentedMap:
    """A policy document, each statement under a comment that says why it is there."""
    statement_list = CommentedSeq()
    for i, statement in enumerate(statements):
        statement_list.append(statement.document())
        statement_list.yaml_set_comment_before_after_key(i, before=_wrap(statement.comment), indent=column)
    return CommentedMap([("Version", DoubleQuotedScalarString("2012-10-17")), ("Statement", statement_list)])


def _managed_policy(
    name: str, description: str, statements: list[Statement], roles: list[object] | None = None
) -> CommentedMap:
    """A customer managed policy at path /, so that its ARN is known from its name; attached to `roles`."""
    properties = CommentedMap()
    properties["ManagedPolicyName"] = name
    properties["Path"] = "/"
    properties["Description"] = description
    if roles:
        properties["Roles"] = roles
    properties["PolicyDocument"] = _document(statements, _MANAGED_STATEMENT_COLUMN)
    return CommentedMap([("Type", "AWS::IAM::ManagedPolicy"), ("Properties", properties)])


def _role(
    settings: Settings,
    name: str,
    description: str,
    subject: str,
    policy_name: str,
    statements: list[Statement],
    session_seconds: int,
) -> CommentedMap:
    document = _document(statements, _STATEMENT_COLUMN)
    properties = CommentedMap()
    properties["RoleName"] = name
    properties["Description"] = description
    properties["MaxSessionDuration"] = session_seconds
    properties["AssumeRolePolicyDocument"] = _trust(subject, settings.audience)
    properties["Policies"] = [CommentedMap([("PolicyName", policy_name), ("PolicyDocument", document)])]
    if settings.tags:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in settings.tags.items()]
    return CommentedMap([("Type", "AWS::IAM::Role"), ("Properties", properties)])


def template(settings: Settings) -> str:
    """The CloudFormation template bootstrap/github-oidc.yaml, as YAML text."""
    s = settings
    doc = CommentedMap()
    doc["AWSTemplateFormatVersion"] = DoubleQuotedScalarString("2010-09-09")
    doc["Description"] = (
        f"GitHub Actions OIDC provider and roles of the EKS cluster {s.cluster}, for the "
        f"repository {s.github_repo} (written by eksgen bootstrap)"
    )
    doc["Parameters"] = {
        EXISTING_PROVIDER_PARAMETER: {
            "Type": "String",
            "Default": "",
            "AllowedPattern": (
                r"^(arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/" r"token\.actions\.githubusercontent\.com)?$"
            ),
            "Description": (
                "ARN of the account's GitHub OIDC provider, when it already has one (an account has one "
                "provider per URL); empty creates it."
            ),
        }
    }
    doc["Conditions"] = {CREATE_PROVIDER_CONDITION: {"Fn::Equals": [{"Ref": EXISTING_PROVIDER_PARAMETER}, ""]}}
    resources = CommentedMap()
    provider = CommentedMap([("Url", GITHUB_OIDC_URL), ("ClientIdList", [s.audience])])
    if s.tags:
        provider["Tags"] = [{"Key": k, "Value": v} for k, v in s.tags.items()]
    resources["GitHubOIDCProvider"] = CommentedMap(
        [("Type", "AWS::IAM::OIDCProvider"), ("Condition", CREATE_PROVIDER_CONDITION), ("Properties", provider)]
    )
    resources.yaml_set_comment_before_after_key(
        "GitHubOIDCProvider",
        indent=2,
        before=_wrap(
            f"GitHub's token issuer; tokens for AWS carry the audience {s.audience}. IAM trusts its "
            "TLS certificate authority, so no thumbprint is pinned."
        ),
    )
    resources["PlanRole"] = _role(
        s,
        s.plan_role,
        f"Read-only; pull requests of {s.github_repo} plan changes to {s.cluster}",
        s.plan_subject,
        "read-cluster-state",
        plan_statements(s.cluster, s.region),
        3600,
    )
    resources.yaml_set_comment_before_after_key(
        "PlanRole",
        indent=2,
        before=_wrap(
            f"Assumed by workflow runs for pull requests of {s.github_repo} (sub {s.plan_subject}); "
            "reads the cluster's state, changes nothing."
        ),
    )
    resources["DeployBoundary"] = _managed_policy(
        boundary_policy_name(s.cluster),
        f"Permissions boundary of every IAM role that deploys of {s.cluster} "
        "create (eksctl's stacks, Karpenter's stack)",
        boundary_statements(s.cluster, s.region),
    )
    resources.yaml_set_comment_before_after_key(
        "DeployBoundary",
        indent=2,
        before=_wrap(
            "The permissions boundary of every role deploys create, as the ClusterConfig and "
            f"Karpenter's template name it: {boundary_arn(s.cluster, s.region, s.account_id or 'ACCOUNT_ID')}."
        ),
    )
    resources["DeployNetworkPolicy"] = _managed_policy(
        network_policy_name(s.cluster),
        f"EC2 permissions of the deploy role of {s.cluster}: this cluster's VPC resources only",
        deploy_network_statements(s.cluster, s.region),
        roles=[{"Ref": "DeployRole"}],
    )
    resources.yaml_set_comment_before_after_key(
        "DeployNetworkPolicy",
        indent=2,
        before=_wrap("The deploy role's EC2 permissions (inline policies share 10,240 characters)."),
    )
    resources["DeployRole"] = _role(
        s,
        s.deploy_role,
        f"Deploys {s.cluster} from jobs of {s.github_repo} in the environment {s.environment}",
        s.deploy_subject,
        "deploy-cluster",
        deploy_statements(s.cluster, s.region),
        DEPLOY_SESSION_SECONDS,
    )
    resources.yaml_set_comment_before_after_key(
        "DeployRole",
        indent=2,
        before=_wrap(
            f"Assumed only by jobs that run in the GitHub environment {s.environment!r} of {s.github_repo} "
            f"(sub {s.deploy_subject}), so the environment's protection rules guard every deploy."
        ),
    )
    doc["Resources"] = resources
    provider_arn = {
        "Fn::If": [CREATE_PROVIDER_CONDITION, {"Ref": "GitHubOIDCProvider"}, {"Ref": EXISTING_PROVIDER_PARAMETER}]
    }
    doc["Outputs"] = {
        "OIDCProviderArn": {"Description": "The GitHub OIDC provider the roles trust.", "Value": provider_arn},
        "PlanRoleArn": {
            "Description": "Repository variable AWS_PLAN_ROLE_ARN.",
            "Value": {"Fn::GetAtt": ["PlanRole", "Arn"]},
        },
        "DeployRoleArn": {
            "Description": "Repository variable AWS_DEPLOY_ROLE_ARN.",
            "Value": {"Fn::GetAtt": ["DeployRole", "Arn"]},
        },
        "DeployBoundaryArn": {
            "Description": "The permissions boundary every role that deploys create must have.",
            "Value": {"Ref": "DeployBoundary"},
        },
    }
    doc.yaml_set_start_comment(
        f"bootstrap/github-oidc.yaml, written by `eksgen bootstrap`: GitHub Actions' access to AWS for the\n"
        f"EKS cluster {s.cluster}, without stored keys. An administrator deploys it once; `eksgen bootstrap`\n"
        "prints the command. Regenerate it with `eksgen bootstrap --force` rather than editing it."
    )
    return _dump(doc)


def _dump(doc: CommentedMap) -> str:
    writer = YAML(typ="rt", pure=True)
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.width = 4096  # one line per value: ARNs and conditions stay greppable
    writer.representer.add_representer(str, _represent_str)
    out = io.StringIO()
    writer.dump(doc, out)
    return out.getvalue()


def _represent_str(representer: RoundTripRepresenter, data: str) -> ScalarNode:
    """Plain where every YAML 1.1 and 1.2 reader reads the same string back, double-quoted otherwise
    (CloudFormation's parser takes yes/no/on/off, 0123 and dates as other types)."""
    style = None
    try:
        if yaml.safe_load(data) != data:
            style = '"'
    except yaml.YAMLError:
        style = '"'
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


# ---- writing and explaining ------------------------------------------------------------------


def write(repo: Path, text: str, force: bool = False) -> Written:
    """Write the template into the repository, refusing to replace a different one unless forced."""
    path = repo / TEMPLATE
    if path.is_file():
        if path.read_text(encoding="utf-8") == text:
            return Written(path, changed=False)
        if not force:
            raise TargetExistsError(
                f"{path} exists and differs from the template eksgen writes now; nothing was written. "
                "Compare them, then run `eksgen bootstrap --force` to replace it"
            )
    elif path.exists():
        raise TargetExistsError(f"{path} exists and is not a file; nothing was written")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Written(path, changed=True)


def instructions(settings: Settings, template_path: Path) -> str:
    """What the template does, the command that deploys it, and the repository variables to set."""
    s = settings
    account = s.account_id or "ACCOUNT_ID"
    arn_partition = partition(s.region)
    stack = bootstrap_stack_name(s.cluster)
    deploy = (
        f"aws cloudformation deploy --template-file {shlex.quote(str(template_path))} "
        f"--stack-name {shlex.quote(stack)} --region {shlex.quote(s.region)} "
        "--capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset"
    )
    existing = f"arn:{arn_partition}:iam::{account}:oidc-provider/{GITHUB_OIDC_HOST}"
    variables = {
        "AWS_PLAN_ROLE_ARN": f"arn:{arn_partition}:iam::{account}:role/{s.plan_role}",
        "AWS_DEPLOY_ROLE_ARN": f"arn:{arn_partition}:iam::{account}:role/{s.deploy_role}",
        "AWS_REGION": s.region,
    }
    lines = [
        f"{template_path} is a CloudFormation template that gives GitHub Actions in {s.github_repo} access to",
        "AWS with short-lived OIDC tokens, so no AWS key is stored in GitHub. It creates:",
        f"  - GitHub's OIDC provider ({GITHUB_OIDC_HOST}, audience {s.audience}), unless the account has one;",
        f"  - {s.plan_role}: read-only, for pull requests (token sub {s.plan_subject});",
        f"  - {s.deploy_role}: deploys the cluster, only for jobs in the GitHub environment",
        f"    {s.environment!r} (token sub {s.deploy_subject}); it creates IAM roles only with the",
        f"    permissions boundary {boundary_arn(s.cluster, s.region, account)},",
        "    which the ClusterConfig and Karpenter's template set on every role (stack output DeployBoundaryArn).",
        "",
        *_subject_lines(s),
        "",
        f"1. Deploy it once, with administrator credentials for AWS account {account}:",
        f"     {deploy}",
        "   An account has one GitHub OIDC provider. If `aws iam list-open-id-connect-providers` lists",
        f"   {GITHUB_OIDC_HOST} already, reuse it by adding:",
        f"     --parameter-overrides {EXISTING_PROVIDER_PARAMETER}={existing}",
        "",
        f"2. Set these repository variables of {s.github_repo} (Settings > Secrets and variables > Actions >",
        f"   Variables); the stack's outputs hold the ARNs (aws cloudformation describe-stacks --stack-name {stack}):",
    ]
    width = max(len(name) for name in variables)
    lines += [f"     {name:<{width}}  {value}" for name, value in variables.items()]
    lines += ["   or with the GitHub CLI:"]
    lines += [
        f"     gh variable set {name} --repo {shlex.quote(s.github_repo)} --body {shlex.quote(value)}"
        for name, value in variables.items()
    ]
    lines += [
        "",
        f"3. Create the GitHub environment {s.environment!r} (Settings > Environments) and add required",
        "   reviewers or a branch rule, so that a deploy waits for them. Workflows request tokens with",
        "   `permissions: id-token: write`; the plan job must not name an environment (its sub would change).",
        f"   The deploy role allows sessions of up to {DEPLOY_SESSION_SECONDS // 3600} hours (role-duration-seconds).",
        *(
            [f"   In the China partition, configure-aws-credentials needs `audience: {CHINA_AUDIENCE}`."]
            if s.audience == CHINA_AUDIENCE
            else []
        ),
        "",
        f"The trust conditions compare the repository name exactly as GitHub writes it ({s.github_repo}); if the",
        "repository is renamed or moves, run `eksgen bootstrap --github-repo NEW/NAME --force` (with its ids, or",
        "--legacy-subject) and deploy again.",
    ]
    if not s.account_id:
        lines += ["", "values.yaml has no awsAccountId yet; replace ACCOUNT_ID above with the account's id."]
    return "\n".join(lines)


def _subject_lines(s: Settings) -> list[str]:
    """Which `sub` form the roles trust, and how to check the ids or switch forms."""
    how = _FIND_IDS.format(repo=s.github_repo)
    if s.github_ids is None:
        return [
            "The roles trust the legacy name-only sub (--legacy-subject), as repositories created before",
            "15 July 2026 emit it unless opted in to immutable subject claims. Once the repository emits the",
            f"immutable form, run again with --github-org-id and --github-repo-id ({how}).",
        ]
    return [
        "The roles trust GitHub's immutable sub (repo:ORG@ORG_ID/NAME@REPO_ID:...), which repositories",
        "created on or after 15 July 2026, and older ones that opted in, emit. The owner's and the",
        f"repository's ids come from {how}.",
        "For an older repository without the opt-in, run again with --legacy-subject.",
    ]


def run(
    repo: Path,
    github_repo: str | None = None,
    force: bool = False,
    *,
    github_org_id: object = None,
    github_repo_id: object = None,
    legacy_subject: bool = False,
) -> tuple[Settings, Written]:
    """Read the settings, write the template; the caller prints `instructions`."""
    settings = read_settings(
        repo, github_repo, github_org_id=github_org_id, github_repo_id=github_repo_id, legacy_subject=legacy_subject
    )
    return settings, write(repo, template(settings), force=force)
