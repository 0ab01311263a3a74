"""The CloudFormation template: GitHub's OIDC provider (or the account's), the plan and deploy roles
with their trust and policies, and the permissions boundary; written with a comment per statement."""

from __future__ import annotations

import io
import textwrap

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from generator.bootstrap.boundary import boundary_statements
from generator.bootstrap.deploy_iam import deploy_network_statements, deploy_statements
from generator.bootstrap.iam import Statement, plan_statements
from generator.bootstrap.settings import (
    CREATE_PROVIDER_CONDITION,
    EXISTING_PROVIDER_PARAMETER,
    GITHUB_OIDC_HOST,
    GITHUB_OIDC_URL,
    Settings,
)
from generator.naming import boundary_arn, boundary_policy_name, network_policy_name

# The deploy and destroy jobs of the generated workflows run for up to 150 minutes (timeout-minutes);
# a session must not end before the job does, so the role allows 3 hours.
DEPLOY_SESSION_SECONDS = 10800


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
