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
import pytest
import yaml
from click.testing import CliRunner

from generator import bootstrap, render
from generator.cli import cli
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
    values = repo / render.VALUES
    text, count = re.subn(r"(?m)^awsRegion: .*$", f'awsRegion: "{region}"', values.read_text())
    assert count == 1
    values.write_text(text)


def _cfn_lint(path: Path, *options: str) -> None:
    result = subprocess.run(["cfn-lint", str(path), *options], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def _trust_conditions(path: Path) -> dict[str, dict]:
    resources_ = _resources(path)
    return {role: resources_[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
            for role in ("PlanRole", "DeployRole")}


def _deployed_trust(aws) -> dict[str, dict]:  # noqa: ANN001 - the Aws handle
    iam = aws.client("iam")
    return {role: policy_document(iam.get_role(RoleName=f"{CLUSTER}-github-{name}")["Role"]["AssumeRolePolicyDocument"])
            for role, name in (("PlanRole", "plan"), ("DeployRole", "deploy"))}


def _who_may_assume(trust: dict[str, dict], audience: str, subject: str) -> set[str]:
    return {role for role, document in trust.items()
            if _assumable(document, PROVIDER_ARN, {"aud": audience, "sub": subject})}


def _existing_provider(aws, audience: str = bootstrap.AUDIENCE) -> None:  # noqa: ANN001
    aws.client("iam").create_open_id_connect_provider(Url=f"https://{HOST}", ClientIDList=[audience],
                                                      ThumbprintList=["0" * 40])


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
        _deploy_bootstrap(aws, repo / bootstrap.TEMPLATE, result.output, PROVIDER_ARN)
        iam = aws.client("iam")
        managed = {p["PolicyName"]: p["Arn"] for page in iam.get_paginator("list_policies").paginate(Scope="AWS")
                   for p in page["Policies"]}
        return {
            "repo": repo,
            "deploy_role": iam.get_role(RoleName=f"{CLUSTER}-github-deploy")["Role"],
            "plan_role": iam.get_role(RoleName=f"{CLUSTER}-github-plan")["Role"],
            "deploy": _role_policy(iam, f"{CLUSTER}-github-deploy"),
            "managed": managed,
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
    for path in bootstrap.ATTACHABLE_AWS_POLICIES:
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
    path = repo / bootstrap.TEMPLATE
    _cfn_lint(path)
    conditions = _trust_conditions(path)
    assert conditions["PlanRole"]["StringEquals"][f"{HOST}:sub"] == "repo:acme@123456/eks-prod@789012:pull_request"
    assert conditions["DeployRole"]["StringEquals"][f"{HOST}:sub"] == (
        "repo:acme@123456/eks-prod@789012:environment:production")

    _existing_provider(aws)
    _deploy_bootstrap(aws, path, result.output, PROVIDER_ARN)
    trust = _deployed_trust(aws)
    assert _who_may_assume(trust, "sts.amazonaws.com", PLAN_SUB) == {"PlanRole"}
    assert _who_may_assume(trust, "sts.amazonaws.com", DEPLOY_SUB) == {"DeployRole"}
    for subject in (LEGACY_PLAN_SUB, LEGACY_DEPLOY_SUB,  # what a name-only trust used to accept
                    "repo:acme@123456/eks-prod@1:environment:production",  # a recycled repository name
                    "repo:acme@1/eks-prod@789012:pull_request"):  # a recycled owner name
        assert _who_may_assume(trust, "sts.amazonaws.com", subject) == set(), subject


def test_item_3_legacy_subject_is_an_explicit_choice(repo, aws):
    """configure-aws-credentials@v6.2.3 README: repositories created "prior to 15 July 2026 will omit
    the `@<ORG_ID>` and `@<REPO_ID>` suffixes unless opted in"; --legacy-subject trusts that form."""
    result = _bootstrap(repo, "--legacy-subject")
    assert result.exit_code == 0, result.output
    path = repo / bootstrap.TEMPLATE
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


@pytest.mark.parametrize(("options", "option", "value"), [
    ((), "--github-org-id", "''"),
    (("--github-org-id", ORG_ID), "--github-repo-id", "''"),
    (("--github-repo-id", REPO_ID), "--github-org-id", "''"),
    (("--github-org-id", "0", "--github-repo-id", REPO_ID), "--github-org-id", "'0'"),
    (("--github-org-id", "-5", "--github-repo-id", REPO_ID), "--github-org-id", "'-5'"),
    (("--github-org-id", ORG_ID, "--github-repo-id", "acme"), "--github-repo-id", "'acme'"),
    (("--github-org-id", ORG_ID, "--github-repo-id", "12.5"), "--github-repo-id", "'12.5'"),
    (("--github-org-id", "0123", "--github-repo-id", REPO_ID), "--github-org-id", "'0123'"),
])
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
    path = repo / bootstrap.TEMPLATE
    _cfn_lint(path, "--regions", "cn-northwest-1")
    template = cfn.load(path)
    assert template["Resources"]["GitHubOIDCProvider"]["Properties"]["ClientIdList"] == ["sts.amazonaws.com.cn"]
    for condition in _trust_conditions(path).values():
        assert condition["StringEquals"][f"{HOST}:aud"] == "sts.amazonaws.com.cn"
    assert "audience: sts.amazonaws.com.cn" in result.output
    assert "arn:aws-cn:iam::" in result.output

    _existing_provider(aws, "sts.amazonaws.com.cn")
    # Deployed in moto's region: the audience, not the partition moto emulates, is what is tested.
    aws.deploy(path, bootstrap.bootstrap_stack_name(CLUSTER), f"ExistingOIDCProviderArn={PROVIDER_ARN}")
    trust = _deployed_trust(aws)
    assert _who_may_assume(trust, "sts.amazonaws.com.cn", DEPLOY_SUB) == {"DeployRole"}
    assert _who_may_assume(trust, "sts.amazonaws.com", DEPLOY_SUB) == set()


def test_item_6_other_partitions_keep_the_default_audience():
    """configure-aws-credentials@v6.2.3:action.yml: input `audience`, default sts.amazonaws.com."""
    assert {region: bootstrap.audience(region) for region in ("us-west-2", "us-gov-west-1", "cn-north-1")} == {
        "us-west-2": "sts.amazonaws.com", "us-gov-west-1": "sts.amazonaws.com", "cn-north-1": "sts.amazonaws.com.cn"}


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
    assert session == bootstrap.DEPLOY_SESSION_SECONDS
    assert max(jobs.values()) <= session <= 43200, (jobs, session)
    for name, timeout in _jobs_assuming(stack["repo"], "AWS_PLAN_ROLE_ARN").items():
        assert timeout <= stack["plan_role"]["MaxSessionDuration"], name


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
