"""Review items of `eksgen bootstrap`, each tested against the source of its rule and, where the
tools run here, against them: cfn-lint (and its IAM data from the Service Authorization
Reference), moto's CloudFormation and IAM (AWS managed policies, role settings), and the trust
policies evaluated claim by claim for the tokens GitHub issues.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import cfnlint.data.AdditionalSpecs
import cfnlint.data.schemas
import pytest
import yaml
from click.testing import CliRunner

from generator import bootstrap, layout, naming
from generator.bootstrap import iam as bootstrap_iam
from generator.bootstrap import settings as bootstrap_settings
from generator.bootstrap import stack as bootstrap_stack
from generator.cli import cli
from generator.resources import schemas_dir
from tests import cfn
from tests.aws import fresh, policy_document
from tests.test_bootstrap import (
    ACCOUNT,
    CLUSTER,
    DEPLOY_SUB,
    GITHUB_REPO,
    HOST,
    IDS,
    LEGACY_DEPLOY_SUB,
    LEGACY_PLAN_SUB,
    ORG_ID,
    PLAN_SUB,
    PROVIDER_ARN,
    REPO_ID,
    _allowed,
    _assumable,
    _deploy_bootstrap,
    _glob,
    _managed_policy,
    _new,
    _resources,
    _role_policy,
)

pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS.{2}(IAM.{2}OIDCProvider|SQS.{2}QueuePolicy)")

CONFIGURE_AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@v6.2.3"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return _new(tmp_path_factory.mktemp("review"), "--github-repo", GITHUB_REPO)


@pytest.fixture
def repo(generated, tmp_path) -> Path:
    return Path(shutil.copytree(generated, tmp_path / CLUSTER))


def _bootstrap(repo: Path, *options: str):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(cli, ["bootstrap", "--repo", str(repo), *options], catch_exceptions=False)


def _set_region(repo: Path, region: str) -> None:
    values = repo / layout.VALUES
    text, count = re.subn(r"(?m)^awsRegion: .*$", f'awsRegion: "{region}"', values.read_text())
    assert count == 1
    values.write_text(text)


def _cfn_lint(path: Path, *options: str) -> None:
    result = subprocess.run(["cfn-lint", str(path), *options], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def _trust_conditions(path: Path) -> dict[str, dict]:
    resources_ = _resources(path)
    return {
        role: resources_[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
        for role in ("PlanRole", "DeployRole")
    }


def _deployed_trust(aws) -> dict[str, dict]:  # noqa: ANN001 - the Aws handle
    iam = aws.client("iam")
    return {
        role: policy_document(iam.get_role(RoleName=f"{CLUSTER}-github-{name}")["Role"]["AssumeRolePolicyDocument"])
        for role, name in (("PlanRole", "plan"), ("DeployRole", "deploy"))
    }


def _who_may_assume(trust: dict[str, dict], audience: str, subject: str) -> set[str]:
    return {
        role
        for role, document in trust.items()
        if _assumable(document, PROVIDER_ARN, {"aud": audience, "sub": subject})
    }


def _existing_provider(aws, audience: str = bootstrap_settings.AUDIENCE) -> None:  # noqa: ANN001
    aws.client("iam").create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=[audience], ThumbprintList=["0" * 40]
    )


@pytest.fixture(scope="module")
def stack(generated, moto_endpoint, tmp_path_factory) -> dict:
    """The bootstrap stack deployed into moto with AWS's managed policies loaded (moto's copy of
    them, paths included); read back once: the deploy role, its policy and the managed policies."""
    folder = tmp_path_factory.mktemp("stack")
    repo = Path(shutil.copytree(generated, folder / CLUSTER))
    result = _bootstrap(repo, *IDS)
    assert result.exit_code == 0, result.output
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # read when reset re-creates the backends
    try:
        aws = fresh(moto_endpoint, folder)
        _existing_provider(aws)
        _deploy_bootstrap(aws, repo / layout.BOOTSTRAP_TEMPLATE, result.output, PROVIDER_ARN)
        iam = aws.client("iam")
        managed = {
            p["PolicyName"]: p["Arn"]
            for page in iam.get_paginator("list_policies").paginate(Scope="AWS")
            for p in page["Policies"]
        }
        # moto's copy of AWS's documents of the managed policies the deploy attaches (paths included)
        documents = {
            path: _managed_policy(iam, managed[path.rsplit("/", 1)[-1]])
            for path in bootstrap_iam.ATTACHABLE_AWS_POLICIES
        }
        local = {p["PolicyName"]: p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]}
        return {
            "repo": repo,
            "deploy_role": iam.get_role(RoleName=f"{CLUSTER}-github-deploy")["Role"],
            "plan_role": iam.get_role(RoleName=f"{CLUSTER}-github-plan")["Role"],
            "deploy": _role_policy(iam, f"{CLUSTER}-github-deploy"),
            "managed": managed,
            "managed_documents": documents,
            "local": local,
            "boundary": _managed_policy(iam, local[naming.boundary_policy_name(CLUSTER)]),
        }
    finally:
        del os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"]


# ---- item 2: the EBS CSI driver's managed policy ------------------------------------------------


def _arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: the six colon-separated parts of the ARN match one by one, * and ? within a part."""
    parts, wanted = arn.split(":", 5), pattern.split(":", 5)
    return len(parts) == len(wanted) == 6 and all(map(fnmatch.fnmatchcase, parts, wanted))


def test_item_2_ebs_csi_policy_arn_has_its_service_role_path(stack):
    """AWS Managed Policy Reference, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/
    AmazonEBSCSIDriverPolicy.html: "Type: Service role policy", ARN
    arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy; and .../AmazonEBSCSIDriverPolicyV2.html:
    "Type: AWS managed policy", ARN arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicyV2 (no path).

    The ARNs are taken from moto's copy of AWS's managed policies, not from this repository: every
    policy the deploy role may attach must exist there and match the role's ArnLike condition."""
    (statement,) = [s for s in stack["deploy"]["Statement"] if s["Sid"] == "AttachKnownPoliciesToClusterRoles"]
    patterns = statement["Condition"]["ArnLike"]["iam:PolicyARN"]
    managed = stack["managed"]
    assert managed["AmazonEBSCSIDriverPolicy"] == "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    assert managed["AmazonEBSCSIDriverPolicyV2"] == "arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicyV2"
    for path in bootstrap_iam.ATTACHABLE_AWS_POLICIES:
        name = path.rsplit("/", 1)[-1]
        assert name in managed, f"{name} is not an AWS managed policy"
        assert any(_arn_like(p, managed[name]) for p in patterns), f"{managed[name]} cannot be attached"
    # The path-less ARN the role used to allow names no policy at all.
    assert "arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy" not in managed.values()
    assert not any(_arn_like(p, "arn:aws:iam::aws:policy/AdministratorAccess") for p in patterns)


# ---- item 3: GitHub's immutable subject claims ---------------------------------------------------


def test_item_3_roles_trust_the_immutable_sub_by_default(repo, aws):
    """aws-actions/configure-aws-credentials@v6.2.3:README.md, "Immutable subject claims":
    "Repositories created on github.com on or after 15 July 2026, and older repositories that have
    opted in, emit an immutable `sub` claim [...] repo:octo-org@123456/octo-repo@789012:ref:refs/heads/main";
    the trust policy example uses "repo:<GITHUB_ORG>@<ORG_ID>/<GITHUB_REPOSITORY>@<REPO_ID>:ref:refs/heads/
    <GITHUB_BRANCH>", and "Workflows running in GitHub environments will include an
    `environment:<ENVIRONMENT_NAME>` stanza". Pull requests keep GitHub's `pull_request` suffix."""
    result = _bootstrap(repo, *IDS)
    assert result.exit_code == 0, result.output
    path = repo / layout.BOOTSTRAP_TEMPLATE
    _cfn_lint(path)
    conditions = _trust_conditions(path)
    assert conditions["PlanRole"]["StringEquals"][f"{HOST}:sub"] == "repo:acme@123456/eks-prod@789012:pull_request"
    assert conditions["DeployRole"]["StringEquals"][f"{HOST}:sub"] == (
        "repo:acme@123456/eks-prod@789012:environment:production"
    )

    _existing_provider(aws)
    _deploy_bootstrap(aws, path, result.output, PROVIDER_ARN)
    trust = _deployed_trust(aws)
    assert _who_may_assume(trust, "sts.amazonaws.com", PLAN_SUB) == {"PlanRole"}
    assert _who_may_assume(trust, "sts.amazonaws.com", DEPLOY_SUB) == {"DeployRole"}
    for subject in (
        LEGACY_PLAN_SUB,
        LEGACY_DEPLOY_SUB,  # what a name-only trust used to accept
        "repo:acme@123456/eks-prod@1:environment:production",  # a recycled repository name
        "repo:acme@1/eks-prod@789012:pull_request",
    ):  # a recycled owner name
        assert _who_may_assume(trust, "sts.amazonaws.com", subject) == set(), subject


def test_item_3_legacy_subject_is_an_explicit_choice(repo, aws):
    """configure-aws-credentials@v6.2.3 README: repositories created "prior to 15 July 2026 will omit
    the `@<ORG_ID>` and `@<REPO_ID>` suffixes unless opted in"; --legacy-subject trusts that form."""
    result = _bootstrap(repo, "--legacy-subject")
    assert result.exit_code == 0, result.output
    path = repo / layout.BOOTSTRAP_TEMPLATE
    _cfn_lint(path)
    conditions = _trust_conditions(path)
    assert conditions["PlanRole"]["StringEquals"][f"{HOST}:sub"] == LEGACY_PLAN_SUB
    assert conditions["DeployRole"]["StringEquals"][f"{HOST}:sub"] == LEGACY_DEPLOY_SUB
    assert "--legacy-subject" in result.output

    _existing_provider(aws)
    _deploy_bootstrap(aws, path, result.output, PROVIDER_ARN)
    trust = _deployed_trust(aws)
    assert _who_may_assume(trust, "sts.amazonaws.com", LEGACY_DEPLOY_SUB) == {"DeployRole"}
    assert _who_may_assume(trust, "sts.amazonaws.com", DEPLOY_SUB) == set()

    both = _bootstrap(repo, "--legacy-subject", *IDS, "--force")
    assert both.exit_code == 2 and "--github-org-id" in both.output and "--legacy-subject" in both.output


@pytest.mark.parametrize(
    ("options", "option", "value"),
    [
        ((), "--github-org-id", "''"),
        (("--github-org-id", ORG_ID), "--github-repo-id", "''"),
        (("--github-repo-id", REPO_ID), "--github-org-id", "''"),
        (("--github-org-id", "0", "--github-repo-id", REPO_ID), "--github-org-id", "'0'"),
        (("--github-org-id", "-5", "--github-repo-id", REPO_ID), "--github-org-id", "'-5'"),
        (("--github-org-id", ORG_ID, "--github-repo-id", "acme"), "--github-repo-id", "'acme'"),
        (("--github-org-id", ORG_ID, "--github-repo-id", "12.5"), "--github-repo-id", "'12.5'"),
        (("--github-org-id", "0123", "--github-repo-id", REPO_ID), "--github-org-id", "'0123'"),
    ],
)
def test_item_3_refuses_missing_or_malformed_ids(repo, options, option, value):
    """GitHub's REST API, GET /repos/{owner}/{repo} (https://docs.github.com/en/rest/repos/repos#get-a-repository):
    `id` and `owner.id` are integers; the immutable sub appends them in decimal after `@`
    (configure-aws-credentials@v6.2.3 README, "Immutable subject claims"). Exit 2 names the option,
    the value and the rule; nothing is written."""
    result = _bootstrap(repo, *options)
    assert result.exit_code == 2, result.output
    assert f"{option} {value}:" in result.output
    rule = "required" if value == "''" else "positive integer"
    assert rule in result.output
    assert "gh api repos/acme/eks-prod --jq '.owner.id, .id'" in result.output
    assert not (repo / "bootstrap").exists()


def test_item_3_instructions_say_how_to_find_the_ids(repo):
    """GitHub REST API, GET /repos/{owner}/{repo}: fields `owner.id` and `id`
    (https://docs.github.com/en/rest/repos/repos#get-a-repository); `gh api` calls it."""
    result = _bootstrap(repo, "--github-org-id", ORG_ID, "--github-repo-id", REPO_ID)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "gh api repos/acme/eks-prod --jq '.owner.id, .id'" in output
    assert "GET /repos/acme/eks-prod, fields owner.id and id" in output
    assert PLAN_SUB in output and DEPLOY_SUB in output
    assert "--legacy-subject" in output


# ---- item 6: the China partition's audience -------------------------------------------------------


def test_item_6_china_regions_use_the_china_sts_audience(repo, aws):
    """aws-actions/configure-aws-credentials@v6.2.3:README.md, "OIDC Audience": "Changing the default
    audience may be necessary when using non-default AWS partitions, such as China regions", with
    `audience: sts.amazonaws.com.cn` for `aws-region: cn-northwest-1`; the IAM provider's audience is
    "sts.amazonaws.com (or your custom audience if you specified one in the audience input)"."""
    _set_region(repo, "cn-northwest-1")
    result = _bootstrap(repo, *IDS)
    assert result.exit_code == 0, result.output
    path = repo / layout.BOOTSTRAP_TEMPLATE
    _cfn_lint(path, "--regions", "cn-northwest-1")
    template = cfn.load(path)
    assert template["Resources"]["GitHubOIDCProvider"]["Properties"]["ClientIdList"] == ["sts.amazonaws.com.cn"]
    for condition in _trust_conditions(path).values():
        assert condition["StringEquals"][f"{HOST}:aud"] == "sts.amazonaws.com.cn"
    assert "audience: sts.amazonaws.com.cn" in result.output
    assert "arn:aws-cn:iam::" in result.output

    _existing_provider(aws, "sts.amazonaws.com.cn")
    # Deployed in moto's region: the audience, not the partition moto emulates, is what is tested.
    aws.deploy(path, naming.bootstrap_stack_name(CLUSTER), f"ExistingOIDCProviderArn={PROVIDER_ARN}")
    trust = _deployed_trust(aws)
    assert _who_may_assume(trust, "sts.amazonaws.com.cn", DEPLOY_SUB) == {"DeployRole"}
    assert _who_may_assume(trust, "sts.amazonaws.com", DEPLOY_SUB) == set()


def test_item_6_other_partitions_keep_the_default_audience():
    """configure-aws-credentials@v6.2.3:action.yml: input `audience`, default sts.amazonaws.com."""
    assert {region: bootstrap_settings.audience(region) for region in ("us-west-2", "us-gov-west-1", "cn-north-1")} == {
        "us-west-2": "sts.amazonaws.com",
        "us-gov-west-1": "sts.amazonaws.com",
        "cn-north-1": "sts.amazonaws.com.cn",
    }


# ---- item 7: logs:DescribeLogGroups ---------------------------------------------------------------


def test_item_7_describe_log_groups_is_allowed_on_every_resource(stack):
    """Service Authorization Reference, CloudWatch Logs
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html):
    DescribeLogGroups lists no resource type, and "If there is no value for this column, you must
    specify all resources ("*")". cfn-lint's copy of that table (AdditionalSpecs/Policies.json) is
    read to confirm it; moto's IAM engine then evaluates the deployed policy."""
    table = json.loads((resources.files(cfnlint.data.AdditionalSpecs) / "Policies.json").read_text())
    assert "Resources" not in table["logs"]["Actions"]["describeloggroups"]
    assert table["logs"]["Actions"]["putretentionpolicy"]["Resources"] == ["log-group"]

    granting = [s for s in stack["deploy"]["Statement"] if "logs:DescribeLogGroups" in s["Action"]]
    assert granting and all(s["Resource"] == "*" for s in granting), granting
    deploy = stack["deploy"]
    assert _allowed(deploy, "logs:DescribeLogGroups", "*")
    assert not _allowed(deploy, "logs:DescribeLogGroups", "*", **{"aws:RequestedRegion": "eu-west-1"})
    # The retention itself stays on the control plane's log group.
    group = f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/aws/eks/{CLUSTER}/cluster"
    assert _allowed(deploy, "logs:PutRetentionPolicy", group)
    assert not _allowed(deploy, "logs:PutRetentionPolicy", f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/other")


# ---- item 20: the deploy role's session outlasts the job ------------------------------------------


def _jobs_assuming(repo: Path, variable: str) -> dict[str, int]:
    """Each job of the generated workflows that assumes the role in `variable`: its timeout in seconds."""
    jobs = {}
    for workflow in sorted((repo / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            steps = [s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")]
            if any(variable in str(s.get("with", {}).get("role-to-assume", "")) for s in steps):
                jobs[f"{workflow.name}:{name}"] = int(job["timeout-minutes"]) * 60
    return jobs


def test_item_20_deploy_role_session_is_at_least_the_deploy_jobs_timeout(stack):
    """IAM API Reference, CreateRole MaxSessionDuration
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html): 3600 to 43200 seconds,
    the most a session may last. GitHub workflow syntax, jobs.<job_id>.timeout-minutes
    (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax): the most a job
    may run. A deploy that may run 150 minutes needs a role that allows a session that long."""
    jobs = _jobs_assuming(stack["repo"], "AWS_DEPLOY_ROLE_ARN")
    assert "deploy.yml:deploy" in jobs, jobs
    session = stack["deploy_role"]["MaxSessionDuration"]  # as moto's IAM created it from the template
    assert session == bootstrap_stack.DEPLOY_SESSION_SECONDS
    assert max(jobs.values()) <= session <= 43200, (jobs, session)
    for name, timeout in _jobs_assuming(stack["repo"], "AWS_PLAN_ROLE_ARN").items():
        assert timeout <= stack["plan_role"]["MaxSessionDuration"], name


# ---- item 18: the deploy role mints no administrator and reaches no other cluster's network ---------

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{CLUSTER}-deploy-boundary"
WITHIN = {"iam:PermissionsBoundary": BOUNDARY}
EC2 = f"arn:aws:ec2:us-west-2:{ACCOUNT}"
OURS = {f"aws:ResourceTag/{bootstrap_iam.CLUSTER_TAG}": CLUSTER}  # what eksctl's stacks tag their resources with
THEIRS = {f"aws:ResourceTag/{bootstrap_iam.CLUSTER_TAG}": "other-cluster"}
# One role of each kind the deploy creates: eksctl's cluster, node group, add-on (IRSA) and pod identity
# roles (CloudFormation names them after the stack), the Karpenter controller's role (ClusterConfig
# roleName) and Karpenter's node role (its template's RoleName).
CLUSTER_ROLES = [
    f"arn:aws:iam::{ACCOUNT}:role/{name}"
    for name in (
        f"eksctl-{CLUSTER}-cluster-ServiceRole-0A1B2C3D",
        f"eksctl-{CLUSTER}-nodegroup-system-NodeInstanceRole-0A1B",
        f"eksctl-{CLUSTER}-addon-vpc-cni-Role1-0A1B2C3D",
        f"eksctl-{CLUSTER}-addon-aws-ebs-csi-driver-podid-Role1-0A1B",
        f"{CLUSTER}-karpenter",
        f"KarpenterNodeRole-{CLUSTER}",
    )
]
KARPENTER_TEMPLATE = schemas_dir() / "karpenter" / "v1.14.1" / "cloudformation.yaml"
# The EC2 resource types of eksctl's VPC and node group stacks (eksctl@v0.230.0 pkg/cfn/builder/vpc*.go,
# managed_nodegroup.go), with the call that creates each.
EKSCTL_EC2_TYPES = {
    "AWS::EC2::VPC": "CreateVpc",
    "AWS::EC2::Subnet": "CreateSubnet",
    "AWS::EC2::InternetGateway": "CreateInternetGateway",
    "AWS::EC2::EIP": "AllocateAddress",
    "AWS::EC2::NatGateway": "CreateNatGateway",
    "AWS::EC2::RouteTable": "CreateRouteTable",
    "AWS::EC2::SecurityGroup": "CreateSecurityGroup",
    "AWS::EC2::LaunchTemplate": "CreateLaunchTemplate",
}


def _cfn_schema(resource_type: str) -> dict:
    """CloudFormation's registry schema of a resource type (handlers' permissions, tagging), as cfn-lint ships it."""
    base = resources.files(cfnlint.data.schemas)
    index = json.loads((base / "providers" / "us-west-2.json").read_text())
    return json.loads((base / "resources" / f"{index[resource_type]}.json").read_text())


def _listed(value: object) -> list:
    return [value] if isinstance(value, str) else list(value)


def _karpenter_controller_policies() -> dict[str, dict]:
    """The controller's managed policies of Karpenter's getting-started template, resolved for the cluster."""
    template = cfn.load(KARPENTER_TEMPLATE)
    node_role = f"arn:aws:iam::{ACCOUNT}:role/KarpenterNodeRole-{CLUSTER}"
    queue = f"arn:aws:sqs:us-west-2:{ACCOUNT}:{CLUSTER}"
    policies = {}
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::ManagedPolicy":
            text = cfn.resolve(resource["Properties"]["PolicyDocument"], {"ClusterName": CLUSTER})
            text = text.replace("<getatt:KarpenterNodeRole.Arn>", node_role)
            text = text.replace("<getatt:KarpenterInterruptionQueue.Arn>", queue)
            assert "<" not in text, text
            policies[name] = json.loads(text)
    assert len(policies) == 6, policies.keys()
    return policies


def _needs(stack: dict) -> list[tuple[str, dict]]:
    """Every statement of every policy the deploy's roles get: the AWS managed policies (moto's copy
    of AWS's documents) and Karpenter's controller policies."""
    documents = {**stack["managed_documents"], **_karpenter_controller_policies()}
    return [(name, statement) for name, document in documents.items() for statement in document["Statement"]]


def _satisfying(condition: dict) -> dict:
    """Condition keys of a request that a statement's Condition block accepts."""
    context: dict = {}
    for operator, keys in condition.items():
        for key, expected in keys.items():
            values = _listed(expected)
            if operator == "Null":
                if values == ["false"]:
                    context.setdefault(key, ["x"] if key == "aws:TagKeys" else "x")
            elif operator.startswith("ForAllValues:StringNotEquals"):
                context[key] = ["another-key"]
            elif operator.startswith(("ForAllValues:", "ForAnyValue:")):
                context[key] = values
            else:
                context[key] = values[0].replace("*", "x") if "Like" in operator else values[0]
    return context


def test_item_18_roles_are_created_and_given_permissions_only_within_the_boundary(stack):
    """IAM User Guide, "Permissions boundaries for IAM entities"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html): a boundary sets
    "the maximum permissions that an identity-based policy can grant to an IAM entity", and its
    delegation example (statement CreateOrChangeOnlyWithBoundary) lets an administrator create and
    change entities only with the condition iam:PermissionsBoundary naming the boundary. Service
    Authorization Reference, IAM (list_awsidentityandaccessmanagementiam.html): iam:PermissionsBoundary
    is a condition key of CreateRole, PutRolePolicy, AttachRolePolicy, PutRolePermissionsBoundary and
    DeleteRolePermissionsBoundary (the boundary the request sets, or the role has).
    CloudFormation's AWS::IAM::Role handlers (registry schema, cfn-lint's copy) call these to create a
    role (eksctl's stacks, Karpenter's stack) and to set its boundary on update.

    The cluster's roles can be created and given permissions only with <cluster>-deploy-boundary: a
    role without it, or with another one, is refused, and the boundary can be neither removed nor rewritten."""
    deploy = stack["deploy"]
    handlers = _cfn_schema("AWS::IAM::Role")["handlers"]
    calls = {action for handler in ("create", "update") for action in handlers[handler]["permissions"]}
    granting = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"}
    assert granting | {"iam:DeleteRolePermissionsBoundary"} <= calls
    policy = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"}
    for role in CLUSTER_ROLES:
        for action in sorted(granting):
            assert _allowed(deploy, action, role, **policy, **WITHIN), f"{action} on {role}"
            assert not _allowed(deploy, action, role, **policy), f"{action} on {role} without the boundary"
            for other in (
                f"arn:aws:iam::{ACCOUNT}:policy/other-cluster-deploy-boundary",
                "arn:aws:iam::aws:policy/AdministratorAccess",
            ):
                assert not _allowed(deploy, action, role, **policy, **{"iam:PermissionsBoundary": other}), action
        assert not _allowed(deploy, "iam:DeleteRolePermissionsBoundary", role, **WITHIN)
        assert not _allowed(
            deploy,
            "iam:AttachRolePolicy",
            role,
            **WITHIN,
            **{"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"},
        )
    for role in ("admin", "eksctl-other-cluster-cluster-ServiceRole-0A1B", f"{CLUSTER}-github-deploy"):
        assert not _allowed(deploy, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{role}", **WITHIN), role
    for name in (naming.boundary_policy_name(CLUSTER), naming.network_policy_name(CLUSTER)):
        for action in (
            "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:DeletePolicy",
        ):
            assert not _allowed(deploy, action, stack["local"][name]), f"{action} on {name}"


def test_item_18_boundary_is_named_after_the_cluster(stack):
    """eksctl@v0.230.0 takes a boundary as an ARN in the ClusterConfig (pkg/apis/eksctl.io/v1alpha5/
    iam.go serviceRolePermissionsBoundary and podIdentityAssociations[].permissionsBoundaryARN, types.go
    instanceRolePermissionsBoundary, addon.go permissionsBoundary) and writes it into each role's
    PermissionsBoundary (pkg/cfn/builder/iam.go, iam_helper.go). A customer managed policy's ARN is
    arn:PARTITION:iam::ACCOUNT:policy/PATH NAME (IAM User Guide, reference_identifiers.html#identifiers-arns):
    at path / it follows from the cluster's name and the account, so the chart writes it without a lookup."""
    expected = naming.boundary_arn(CLUSTER, "us-west-2", ACCOUNT)
    assert expected == BOUNDARY == stack["local"][f"{CLUSTER}-deploy-boundary"]
    assert naming.boundary_arn(CLUSTER, "cn-north-1", ACCOUNT) == (
        f"arn:aws-cn:iam::{ACCOUNT}:policy/{CLUSTER}-deploy-boundary"
    )
    template = cfn.load(stack["repo"] / layout.BOOTSTRAP_TEMPLATE)
    properties = template["Resources"]["DeployBoundary"]["Properties"]
    assert (properties["ManagedPolicyName"], properties["Path"]) == (f"{CLUSTER}-deploy-boundary", "/")
    assert template["Outputs"]["DeployBoundaryArn"]["Value"] == {"Ref": "DeployBoundary"}
    named = {
        value
        for s in stack["deploy"]["Statement"]
        for keys in s.get("Condition", {}).values()
        for key, value in keys.items()
        if key == "iam:PermissionsBoundary"
    }
    assert named == {expected}
    settings = bootstrap_settings.read_settings(stack["repo"], github_org_id=ORG_ID, github_repo_id=REPO_ID)
    assert f"permissions boundary {expected}" in " ".join(
        bootstrap.instructions(settings, layout.BOOTSTRAP_TEMPLATE).split()
    )


def test_item_18_boundary_allows_what_eksctls_and_karpenters_roles_need(stack):
    """The policies the deploy's roles get, each statement as a request the boundary must allow:
    eksctl@v0.230.0 attaches AmazonEKSClusterPolicy and AmazonEKSVPCResourceController to the cluster role
    (pkg/cfn/builder/iam.go), AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryPullOnly and
    AmazonSSMManagedInstanceCore to the node group role (iam_helper.go makeManagedPolicies; no
    AmazonEKS_CNI_Policy there with iam.withOIDC), AmazonEKS_CNI_Policy to the VPC CNI add-on's role
    (pkg/actions/addon/create.go setRecommendedPoliciesForIRSA) and the EBS CSI driver's policy to its
    pod identity role; Karpenter's getting-started template (karpenter-provider-aws v1.14.1,
    generator/schemas/karpenter/v1.14.1/cloudformation.yaml) gives its node role the first four and
    its controller six managed policies. The documents are moto's copy of AWS's and the template's."""
    boundary = stack["boundary"]
    for name, statement in _needs(stack):
        context = _satisfying(statement.get("Condition", {}))
        for action in _listed(statement["Action"]):
            for resource in _listed(statement["Resource"]):
                assert _allowed({"Statement": [statement]}, action, resource, **context), (name, action, context)
                assert _allowed(boundary, action, resource, **context), f"{name}: {action} on {resource}"


def test_item_18_boundary_grants_nothing_beyond_those_roles(stack):
    """IAM User Guide, "Permissions boundaries for IAM entities": the effective permissions are the
    intersection of the identity policy and the boundary, so whatever the deploy role writes into a
    role's policy, the role gets no more than this. Its Allow statements are the union of the actions
    of the policies above and nothing else: a Describe*, Get* or List* stands for reads they name, a
    service wildcard only for a service whose every action (Service Authorization Reference, cfn-lint's
    copy) they grant, as AmazonSSMManagedInstanceCore does for ec2messages and ssmmessages. No IAM action
    that makes or changes a role or a policy, no sts:AssumeRole, no data service. And no role may put
    alpha.eksctl.io/cluster-name or karpenter.sh/discovery on a resource that exists (the deploy role's
    EC2 scoping trusts the first, Karpenter's EC2NodeClass selects by the second), which creating a
    resource with tags (ec2:CreateAction, EC2 User Guide "Grant permission to tag Amazon EC2 resources
    during creation") still may."""
    boundary = stack["boundary"]
    table = json.loads((resources.files(cfnlint.data.AdditionalSpecs) / "Policies.json").read_text())
    needed = {action for _, statement in _needs(stack) for action in _listed(statement["Action"])}
    granted = {action for s in boundary["Statement"] if s["Effect"] == "Allow" for action in _listed(s["Action"])}
    wildcards = {pattern for pattern in granted if "*" in pattern}
    for pattern in wildcards:
        matched = {action for action in needed if _glob(pattern, action)}
        service, _, verb = pattern.partition(":")
        if verb == "*":  # a whole service, only where the roles are given its every action (SAR's list)
            assert set(table[service]["Actions"]) == {a.partition(":")[2].lower() for a in matched}, pattern
        else:  # the reads of a service, standing for the ones the policies name
            assert matched and verb in ("Describe*", "Get*", "List*"), pattern
    assert granted - wildcards == {a for a in needed if not any(_glob(w, a) for w in wildcards)}
    role, subnet, vpc = CLUSTER_ROLES[0], f"{EC2}:subnet/subnet-0a1b", f"{EC2}:vpc/vpc-0a1b"
    for action, resource, context in [
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/minted", {}),
        ("iam:PutRolePolicy", role, WITHIN),
        ("iam:AttachRolePolicy", role, {**WITHIN, "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ("iam:PutRolePermissionsBoundary", role, {}),
        ("iam:DeleteRolePermissionsBoundary", role, WITHIN),
        ("iam:UpdateAssumeRolePolicy", role, {}),
        ("iam:CreatePolicyVersion", BOUNDARY, {}),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/minted", {}),
        ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/admin", {}),
        (
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-github-deploy",
            {"iam:PassedToService": "ec2.amazonaws.com"},
        ),
        ("iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {}),
        ("s3:GetObject", "arn:aws:s3:::any-bucket/key", {}),
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:x", {}),
        ("ssm:SendCommand", f"{EC2}:instance/i-0a1b", {}),
        ("ec2:ModifySnapshotAttribute", "arn:aws:ec2:us-west-2::snapshot/snap-0a1b", {}),
        ("ec2:DeleteVpc", vpc, OURS),
        ("ec2:CreateTags", subnet, {"aws:TagKeys": [bootstrap_iam.DISCOVERY_TAG], **THEIRS}),
        ("ec2:CreateTags", vpc, {"aws:TagKeys": ["Name", bootstrap_iam.CLUSTER_TAG]}),
    ]:
        assert not _allowed(boundary, action, resource, **context), f"{action} on {resource}"
    # Tags that no scoping reads stay free to change; resources are created with any tags.
    assert _allowed(boundary, "ec2:CreateTags", f"{EC2}:instance/i-0a1b", **{"aws:TagKeys": ["Name"]})
    assert _allowed(
        boundary,
        "ec2:CreateTags",
        f"{EC2}:launch-template/lt-0a1b",
        **{"aws:TagKeys": [bootstrap_iam.DISCOVERY_TAG], "ec2:CreateAction": "CreateLaunchTemplate"},
    )


def test_item_18_network_is_tagged_only_for_this_cluster(stack):
    """EC2 User Guide, "Grant permission to tag Amazon EC2 resources during creation"
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html): tagging in
    a create call is authorized as ec2:CreateTags with ec2:CreateAction set to that call; Service
    Authorization Reference, EC2: aws:ResourceTag/${TagKey} is a condition key of every resource type.
    CloudFormation's schemas of the EC2 types eksctl's stacks create (cfn-lint's copy) say "tagOnCreate":
    true, and its User Guide (aws-properties-resource-tags.html) that "all stack-level tags [...] are
    propagated to resources that CloudFormation supports"; eksctl@v0.230.0 tags its stacks
    alpha.eksctl.io/cluster-name=<cluster> and with metadata.tags (pkg/cfn/manager/api.go
    NewStackCollection; types.go ClusterNameTag), where the chart puts karpenter.sh/discovery.

    So: tags come with the create call and name this cluster, existing resources are retagged only when
    tagged for this cluster, and a foreign subnet or security group cannot be given Karpenter's tag."""
    deploy = stack["deploy"]
    stack_tags = {
        f"aws:RequestTag/{bootstrap_iam.CLUSTER_TAG}": CLUSTER,
        f"aws:RequestTag/{bootstrap_iam.DISCOVERY_TAG}": CLUSTER,
        "aws:TagKeys": [bootstrap_iam.CLUSTER_TAG, bootstrap_iam.DISCOVERY_TAG],
    }
    for resource_type, create in EKSCTL_EC2_TYPES.items():
        schema = _cfn_schema(resource_type)
        assert f"ec2:{create}" in schema["handlers"]["create"]["permissions"], resource_type
        if resource_type != "AWS::EC2::LaunchTemplate":  # not taggable by CloudFormation: eksctl's carries no tags
            assert schema["tagging"]["tagOnCreate"] and "ec2:CreateTags" in schema["handlers"]["create"]["permissions"]
        assert create in bootstrap_iam.NETWORK_CREATE_ACTIONS
        assert _allowed(deploy, f"ec2:{create}", "*")
        assert not _allowed(deploy, f"ec2:{create}", "*", **{"aws:RequestedRegion": "eu-west-1"})
        on_create = {"ec2:CreateAction": create, **stack_tags}
        assert _allowed(deploy, "ec2:CreateTags", "*", **on_create), create
        assert not _allowed(deploy, "ec2:CreateTags", "*", **{**on_create, "aws:RequestedRegion": "eu-west-1"})
        for key in (bootstrap_iam.CLUSTER_TAG, bootstrap_iam.DISCOVERY_TAG):  # tags naming another cluster
            assert not _allowed(deploy, "ec2:CreateTags", "*", **{**on_create, f"aws:RequestTag/{key}": "other"})
        assert not _allowed(deploy, "ec2:CreateTags", "*", **{"ec2:CreateAction": create})  # no stack tags
    assert not _allowed(
        deploy, "ec2:CreateTags", f"{EC2}:instance/*", **{"ec2:CreateAction": "RunInstances", **stack_tags}
    )
    for kind in ("subnet/subnet-0a1b", "security-group/sg-0a1b", "vpc/vpc-0a1b", "route-table/rtb-0a1b"):
        resource = f"{EC2}:{kind}"
        name = {"aws:RequestTag/Name": "x", "aws:TagKeys": ["Name"]}
        assert _allowed(deploy, "ec2:CreateTags", resource, **OURS, **name), resource
        assert _allowed(deploy, "ec2:DeleteTags", resource, **OURS, **name), resource
        discovery = {
            f"aws:RequestTag/{bootstrap_iam.DISCOVERY_TAG}": CLUSTER,
            "aws:TagKeys": [bootstrap_iam.DISCOVERY_TAG],
        }
        for foreign in (THEIRS, {}):  # another cluster's, or anyone's untagged subnet or group
            assert not _allowed(deploy, "ec2:CreateTags", resource, **foreign, **discovery), (resource, foreign)
            assert not _allowed(deploy, "ec2:DeleteTags", resource, **foreign, **name), (resource, foreign)
        for key in (bootstrap_iam.CLUSTER_TAG, bootstrap_iam.DISCOVERY_TAG):  # this cluster's, pointed at another
            assert not _allowed(
                deploy,
                "ec2:CreateTags",
                resource,
                **OURS,
                **{f"aws:RequestTag/{key}": "other-cluster", "aws:TagKeys": [key]},
            ), (resource, key)


def test_item_18_network_is_changed_and_deleted_only_for_this_cluster(stack):
    """Service Authorization Reference, EC2 (cfn-lint's copy, AdditionalSpecs/Policies.json): the
    resource types each call names, every one with the condition key aws:ResourceTag/${TagKey}; a
    request is allowed when each resource it names is. CloudFormation's schemas (cfn-lint's copy) list
    what its handlers call to delete eksctl's VPC resources; eksctl@v0.230.0 tags its stacks
    alpha.eksctl.io/cluster-name (pkg/cfn/manager/api.go), which CloudFormation propagates. The EKS
    User Guide (sec-group-reqs.html): EKS tags the cluster security group aws:eks:cluster-name=<cluster>;
    eksctl's cluster stack adds a rule to it (pkg/cfn/builder/cluster.go IngressNodeToDefaultClusterSG).

    Deleting or changing a VPC, subnet, gateway, address, route table or security group needs it tagged
    for this cluster: one tagged for another cluster, or not at all, is out of reach."""
    deploy = stack["deploy"]
    table = json.loads((resources.files(cfnlint.data.AdditionalSpecs) / "Policies.json").read_text())["ec2"]
    untagged = {"security-group-rule", "network-interface"}  # created by the rule request; the NAT gateway's
    never_named = {"ipv4pool-ec2", "ipv6pool-ec2", "vpn-gateway"}  # eksctl's routes use gateways of its own VPC
    for action in bootstrap_iam.NETWORK_CHANGE_ACTIONS:
        kinds = set(table["Actions"][action.lower()]["Resources"]) - never_named
        for kind in kinds:
            assert "aws:ResourceTag/${TagKey}" in table["Resources"][kind]["ConditionKeys"], kind
            resource = f"{EC2}:{kind}/x-0a1b"
            if kind in untagged:
                assert _allowed(deploy, f"ec2:{action}", resource), (action, kind)
                continue
            assert _allowed(deploy, f"ec2:{action}", resource, **OURS), (action, kind)
            for foreign in (THEIRS, {}):
                assert not _allowed(deploy, f"ec2:{action}", resource, **foreign), (action, kind, foreign)
            assert not _allowed(deploy, f"ec2:{action}", resource, **OURS, **{"aws:RequestedRegion": "eu-west-1"})
    assert not _allowed(deploy, "ec2:DeleteVpc", f"{EC2}:vpc/vpc-0a1b", **THEIRS)  # a VPC of another cluster
    # What CloudFormation's handlers call to delete eksctl's VPC resources is among those calls.
    deleted = [
        *EKSCTL_EC2_TYPES,
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::Route",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::SecurityGroupEgress",
    ]
    deletes = {
        action.removeprefix("ec2:")
        for resource_type in deleted
        if resource_type != "AWS::EC2::LaunchTemplate"
        for action in _cfn_schema(resource_type)["handlers"]["delete"]["permissions"]
        if action.startswith("ec2:") and not action.startswith("ec2:Describe") and "VpnGateway" not in action
    }
    assert deletes and deletes <= set(bootstrap_iam.NETWORK_CHANGE_ACTIONS), deletes - set(
        bootstrap_iam.NETWORK_CHANGE_ACTIONS
    )
    # The rule eksctl's cluster stack adds to the security group EKS creates (tagged by EKS, not by eksctl).
    for action in ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"):
        group = f"{EC2}:security-group/sg-0a1b"
        assert _allowed(deploy, action, group, **{"aws:ResourceTag/aws:eks:cluster-name": CLUSTER})
        assert not _allowed(deploy, action, group, **{"aws:ResourceTag/aws:eks:cluster-name": "other-cluster"})
    # Launch templates: CloudFormation does not tag them (its schema: "taggable": false), so eksctl's has no
    # tags; Karpenter's, of every cluster, carry karpenter.sh/nodepool (its NodeLifecyclePolicy's conditions).
    assert _cfn_schema("AWS::EC2::LaunchTemplate")["tagging"]["taggable"] is False
    template, karpenters = f"{EC2}:launch-template/lt-0a1b", {"aws:ResourceTag/karpenter.sh/nodepool": "default"}
    for action in ("ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate"):
        assert _allowed(deploy, action, template), action
        assert not _allowed(deploy, action, template, **karpenters), action


def _boundary_gaps(repo: Path) -> list[str]:
    """Each place of the generated repository that creates an IAM role without naming the boundary."""
    config = yaml.safe_load((repo / layout.RENDERED / "eksctl" / "cluster.yaml").read_text())
    gaps = []

    def check(value: object, where: str) -> None:
        if value != BOUNDARY:
            gaps.append(where)

    iam = config.get("iam") or {}
    check(iam.get("serviceRolePermissionsBoundary"), "iam.serviceRolePermissionsBoundary")
    for i, association in enumerate(iam.get("podIdentityAssociations") or []):
        check(association.get("permissionsBoundaryARN"), f"iam.podIdentityAssociations[{i}].permissionsBoundaryARN")
    for i, group in enumerate(config.get("managedNodeGroups") or []):
        check(
            (group.get("iam") or {}).get("instanceRolePermissionsBoundary"),
            f"managedNodeGroups[{i}].iam.instanceRolePermissionsBoundary",
        )
    if (config.get("addonsConfig") or {}).get("autoApplyPodIdentityAssociations"):
        gaps.append("addonsConfig.autoApplyPodIdentityAssociations: eksctl makes those roles without a boundary")
    for addon in config.get("addons") or []:
        name = addon["name"]
        if addon.get("useDefaultPodIdentityAssociations"):
            gaps.append(f"addons[{name}].useDefaultPodIdentityAssociations: eksctl makes its roles without a boundary")
        check(addon.get("permissionsBoundary"), f"addons[{name}].permissionsBoundary")
        for i, association in enumerate(addon.get("podIdentityAssociations") or []):
            check(
                association.get("permissionsBoundaryARN"),
                f"addons[{name}].podIdentityAssociations[{i}].permissionsBoundaryARN",
            )
    template = cfn.load(repo / layout.CLOUDFORMATION)
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            check(
                cfn.resolve(resource["Properties"].get("PermissionsBoundary")),
                f"{layout.CLOUDFORMATION}: {name}.Properties.PermissionsBoundary",
            )
    return gaps


def test_item_18_generated_repository_sets_the_boundary_on_every_role(generated):
    """Every role a deploy creates must carry the boundary, or the deploy role may not create it.
    eksctl@v0.230.0 sets PermissionsBoundary from iam.serviceRolePermissionsBoundary (pkg/cfn/builder/
    iam.go addResourcesForServiceRole), managedNodeGroups[].iam.instanceRolePermissionsBoundary
    (iam_helper.go createRole), iam.podIdentityAssociations[].permissionsBoundaryARN and
    addons[].podIdentityAssociations[].permissionsBoundaryARN (iam.go NewIAMRoleResourceSetForPodIdentity)
    and addons[].permissionsBoundary for an add-on's IRSA role (pkg/actions/addon/create.go
    createRoleResourceSet; the VPC CNI gets one with iam.withOIDC). useDefaultPodIdentityAssociations
    and addonsConfig.autoApplyPodIdentityAssociations build their roles without one (create.go, the
    AutoApply case; update.go), and cannot be combined with explicit podIdentityAssociations
    (validation.go). Karpenter's getting-started template gives KarpenterNodeRole no PermissionsBoundary."""
    assert _boundary_gaps(generated) == []


# ---- every action scoped to ARNs has a resource type to match them ----------------------------------


def test_actions_without_resource_types_are_granted_on_every_resource(stack):
    """Service Authorization Reference: an action whose resource-types column is empty matches only
    `"Resource": "*"`; scoped to ARNs it is denied. cfn-lint's copy of that table
    (AdditionalSpecs/Policies.json) judges every action of both roles' policies. This is how
    eks:CreateCluster was found: it takes no ARN, so the deploy role could never create its cluster."""
    table = json.loads((resources.files(cfnlint.data.AdditionalSpecs) / "Policies.json").read_text())
    unscoped = []
    for statement in stack["deploy"]["Statement"]:
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if targets == ["*"] or statement["Effect"] != "Allow":
            continue
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            service, _, name = action.partition(":")
            entry = table[service]["Actions"].get(name.lower())
            assert entry is not None, f"{action} is not an IAM action"
            if not entry.get("Resources"):
                unscoped.append(f"{statement.get('Sid')}: {action}")
    assert unscoped == []
