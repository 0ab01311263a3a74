"""`eksgen bootstrap`: bootstrap/github-oidc.yaml, GitHub Actions' keyless access to AWS.

The template must lint clean and deploy into moto; the roles' trust policies are checked claim by
claim and evaluated against the tokens GitHub issues; the roles' permissions are evaluated (with
moto's IAM policy engine) against the resources moto really creates from Karpenter's stack.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from moto.iam.access_control import IAMPolicyStatement
from ruamel.yaml import YAML

from generator import layout, naming
from generator.bootstrap import boundary as bootstrap_boundary
from generator.bootstrap import deploy_iam as bootstrap_deploy_iam
from generator.bootstrap import iam as bootstrap_iam
from generator.bootstrap import settings as bootstrap_settings
from generator.bootstrap import stack as bootstrap_stack
from generator.cli import cli
from tests import cfn
from tests.aws import fresh, policy_document

pytestmark = pytest.mark.filterwarnings(r"ignore:Tried to parse AWS.{2}(IAM.{2}OIDCProvider|SQS.{2}QueuePolicy)")

CLUSTER = "my-cluster"
GITHUB_REPO = "acme/eks-prod"
ORG_ID, REPO_ID = "123456", "789012"  # GitHub's numeric ids of acme and of acme/eks-prod
IDS = ("--github-org-id", ORG_ID, "--github-repo-id", REPO_ID)
ACCOUNT = "123456789012"
HOST = "token.actions.githubusercontent.com"
DEPLOY_SUB = "repo:acme@123456/eks-prod@789012:environment:production"  # GitHub's immutable sub form
PLAN_SUB = "repo:acme@123456/eks-prod@789012:pull_request"
LEGACY_DEPLOY_SUB = "repo:acme/eks-prod:environment:production"
LEGACY_PLAN_SUB = "repo:acme/eks-prod:pull_request"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{HOST}"


def _new(out: Path, *options: str) -> Path:
    result = CliRunner().invoke(
        cli,
        ["new", CLUSTER, "--output-dir", str(out), "--no-input", "--aws-account-id", ACCOUNT, *options],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out / CLUSTER


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return _new(tmp_path_factory.mktemp("with-repo"), "--github-repo", GITHUB_REPO)


@pytest.fixture(scope="module")
def generated_without_github_repo(tmp_path_factory) -> Path:
    return _new(tmp_path_factory.mktemp("without-repo"))


@pytest.fixture
def repo(generated, tmp_path) -> Path:
    """A copy of the generated repository that the test may change."""
    return Path(shutil.copytree(generated, tmp_path / CLUSTER))


@pytest.fixture
def written(repo, cli_invoke) -> tuple[Path, str]:
    """`eksgen bootstrap --repo REPO`: the template's path and what the command printed."""
    result = cli_invoke("bootstrap", "--repo", repo, *IDS)
    assert result.exit_code == 0, result.output
    return repo / "bootstrap" / "github-oidc.yaml", result.output


def _printed_deploy_command(output: str) -> list[str]:
    (line,) = [line.strip() for line in output.splitlines() if line.strip().startswith("aws cloudformation deploy")]
    return shlex.split(line)


# ---- the command ---------------------------------------------------------------------------


def test_writes_the_template_and_says_how_to_deploy_it(written, repo):
    path, output = written
    assert path.is_file()
    assert output.startswith(f"Wrote {path}\n")
    assert _printed_deploy_command(output) == [
        "aws",
        "cloudformation",
        "deploy",
        "--template-file",
        str(path),
        "--stack-name",
        "my-cluster-github-oidc",
        "--region",
        "us-west-2",
        "--capabilities",
        "CAPABILITY_NAMED_IAM",
        "--no-fail-on-empty-changeset",
    ]
    assert f"--parameter-overrides ExistingOIDCProviderArn={PROVIDER_ARN}" in output
    variables = dict(re.findall(r"^\s+(AWS_[A-Z_]+)\s{2,}(\S+)$", output, re.MULTILINE))
    assert variables == {
        "AWS_PLAN_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/my-cluster-github-plan",
        "AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/my-cluster-github-deploy",
        "AWS_REGION": "us-west-2",
    }
    assert f"gh variable set AWS_DEPLOY_ROLE_ARN --repo {GITHUB_REPO}" in output
    assert PLAN_SUB in output and DEPLOY_SUB in output


def test_running_it_again_changes_nothing(written, cli_invoke, repo):
    path, _ = written
    before = path.read_bytes()
    result = cli_invoke("bootstrap", "--repo", repo, *IDS)
    assert result.exit_code == 0
    assert result.output.startswith(f"Unchanged: {path}\n")
    assert path.read_bytes() == before


def test_refuses_to_overwrite_a_file_that_differs(written, cli_invoke, repo):
    path, _ = written
    session = f"MaxSessionDuration: {bootstrap_stack.DEPLOY_SESSION_SECONDS}"
    edited = path.read_text().replace(session, "MaxSessionDuration: 43200")
    path.write_text(edited)
    result = cli_invoke("bootstrap", "--repo", repo, *IDS)
    assert result.exit_code == 1
    assert "exists and differs" in result.output and "--force" in result.output
    assert path.read_text() == edited
    assert [p.name for p in path.parent.iterdir()] == ["github-oidc.yaml"], "no temporary file is left"

    forced = cli_invoke("bootstrap", "--repo", repo, *IDS, "--force")
    assert forced.exit_code == 0
    assert session in path.read_text()


def test_refuses_without_a_github_repository(generated_without_github_repo, cli_invoke):
    result = cli_invoke("bootstrap", "--repo", generated_without_github_repo, *IDS)
    assert result.exit_code == 2
    assert "--github-repo" in result.output and ".eksgen.yaml" in result.output and "github-repo" in result.output
    assert not (generated_without_github_repo / "bootstrap").exists()


def test_github_repo_option_supplies_or_overrides_the_answer(generated_without_github_repo, tmp_path, cli_invoke):
    repo = Path(shutil.copytree(generated_without_github_repo, tmp_path / "copy"))
    bad = cli_invoke("bootstrap", "--repo", repo, "--github-repo", "not a repo", *IDS)
    assert bad.exit_code == 2 and "ORG/NAME" in bad.output
    result = cli_invoke(
        "bootstrap",
        "--repo",
        repo,
        "--github-repo",
        "other-org/cluster-repo",
        "--github-org-id",
        "42",
        "--github-repo-id",
        "4242",
    )
    assert result.exit_code == 0, result.output
    trust = _resources(repo / layout.BOOTSTRAP_TEMPLATE)["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"] == (
        "repo:other-org@42/cluster-repo@4242:environment:production"
    )


def test_the_environment_comes_from_values_yaml(repo, cli_invoke):
    values = repo / layout.VALUES
    text = values.read_text()
    assert text.count('environment: "production"\n') == 1
    values.write_text(text.replace('environment: "production"\n', 'environment: "prod eu"\n'))
    result = cli_invoke("bootstrap", "--repo", repo, *IDS)
    assert result.exit_code == 0, result.output
    trust = _resources(repo / layout.BOOTSTRAP_TEMPLATE)["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"] == (
        "repo:acme@123456/eks-prod@789012:environment:prod eu"
    )
    assert "'prod eu'" in result.output


# ---- the template, offline ----------------------------------------------------------------


def _resources(path: Path) -> dict:
    return cfn.load(path)["Resources"]


def test_cfn_lint_is_clean(written):
    path, _ = written
    result = subprocess.run(["cfn-lint", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_yaml_1_1_and_1_2_readers_read_the_same_template(written):
    path, _ = written
    text = path.read_text()
    assert yaml.safe_load(text) == YAML(typ="safe", pure=True).load(text)  # CloudFormation reads YAML 1.1


def _policies(path: Path) -> dict[str, dict]:
    """Every policy document of the template: the roles' inline policies and the managed policies."""
    resources = _resources(path)
    out = {role: resources[role]["Properties"]["Policies"][0]["PolicyDocument"] for role in ("PlanRole", "DeployRole")}
    out.update(
        {
            name: resource["Properties"]["PolicyDocument"]
            for name, resource in resources.items()
            if resource["Type"] == "AWS::IAM::ManagedPolicy"
        }
    )
    return out


def _deploy_permissions(path: Path) -> list[dict]:
    """The deploy role's statements: its inline policy and the managed policies attached to it."""
    resources = _resources(path)
    attached = [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": "DeployRole"} in r["Properties"].get("Roles", [])
    ]
    inline = resources["DeployRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    return [s for document in [inline, *attached] for s in document["Statement"]]


def test_every_permission_has_a_sid_and_a_comment(written):
    path, _ = written
    lines = path.read_text().splitlines()
    inline = [i for i, line in enumerate(lines) if re.match(r"^ {14}- Sid: ", line)]
    managed = [i for i, line in enumerate(lines) if re.match(r"^ {10}- Sid: (?!GitHubActionsOIDC$)", line)]
    args = (CLUSTER, "us-west-2")
    assert len(inline) == len(bootstrap_iam.plan_statements(*args) + bootstrap_deploy_iam.deploy_statements(*args))
    assert len(managed) == len(
        bootstrap_deploy_iam.deploy_network_statements(*args) + bootstrap_boundary.boundary_statements(*args)
    )
    for i in inline + managed:
        assert lines[i - 1].lstrip().startswith("# "), f"no comment above {lines[i].strip()}"
    for name, document in _policies(path).items():
        sids = [s["Sid"] for s in document["Statement"]]
        assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", s) for s in sids), (name, sids)
    deploy = [s["Sid"] for s in _deploy_permissions(path)]
    assert len(deploy) == len(set(deploy)), deploy


def test_trust_policies_claim_by_claim(written):
    path, _ = written
    resources = _resources(path)
    expected = {"PlanRole": PLAN_SUB, "DeployRole": DEPLOY_SUB}
    for role, subject in expected.items():
        (statement,) = resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {
            "Federated": {
                "Fn::If": ["CreateOIDCProvider", {"Ref": "GitHubOIDCProvider"}, {"Ref": "ExistingOIDCProviderArn"}]
            }
        }
        assert statement["Condition"] == {"StringEquals": {f"{HOST}:aud": "sts.amazonaws.com", f"{HOST}:sub": subject}}


def test_creates_the_provider_unless_one_is_given(written):
    path, _ = written
    template = cfn.load(path)
    assert template["Parameters"]["ExistingOIDCProviderArn"]["Default"] == ""
    pattern = template["Parameters"]["ExistingOIDCProviderArn"]["AllowedPattern"]
    assert re.fullmatch(pattern, PROVIDER_ARN) and re.fullmatch(pattern, "")
    assert not re.fullmatch(pattern, f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/X")
    assert template["Conditions"]["CreateOIDCProvider"] == {"Fn::Equals": [{"Ref": "ExistingOIDCProviderArn"}, ""]}
    provider = template["Resources"]["GitHubOIDCProvider"]
    assert provider["Condition"] == "CreateOIDCProvider"
    assert provider["Properties"] == {"Url": f"https://{HOST}", "ClientIdList": ["sts.amazonaws.com"]}


def test_plan_role_only_reads(written):
    path, _ = written
    (policy,) = _resources(path)["PlanRole"]["Properties"]["Policies"]
    actions = [a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]]
    writes = [
        a
        for a in actions
        if not re.match(r"^[a-z0-9-]+:(Describe|Get|List)", a) and a != "cloudformation:ValidateTemplate"
    ]
    assert writes == []


def test_deploy_role_names_every_action(written):
    """No service wildcards; the only wildcard is EC2's Describe*, which reads."""
    path, _ = written
    for statement in _deploy_permissions(path):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        for action in statement["Action"]:
            assert "*" not in action or action == "ec2:Describe*", action


def test_roles_are_held_to_the_clusters_region_wherever_the_stack_is_deployed(written):
    path, _ = written
    text = path.read_text()
    assert "AWS::Region" not in text, "the region comes from values.yaml, not from where the stack runs"
    regions = {
        s["Condition"]["StringEquals"]["aws:RequestedRegion"]
        for s in _deploy_permissions(path)
        if "aws:RequestedRegion" in s.get("Condition", {}).get("StringEquals", {})
    }
    assert regions == {"us-west-2"}


# ---- who may assume what: tokens against the deployed trust policies ------------------------


def _assumable(trust: dict, provider: str, claims: dict[str, str]) -> bool:
    """IAM's decision for AssumeRoleWithWebIdentity with a token of these claims (StringEquals and
    StringLike; any other operator fails the test, so nothing is waved through)."""
    for statement in trust["Statement"]:
        if statement["Effect"] != "Allow" or statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        if statement["Principal"] != {"Federated": provider}:
            continue
        if all(
            _holds(operator, key, expected, claims)
            for operator, keys in statement.get("Condition", {}).items()
            for key, expected in keys.items()
        ):
            return True
    return False


def _holds(operator: str, key: str, expected: str | list[str], claims: dict[str, str]) -> bool:
    issuer, _, claim = key.partition(":")
    assert issuer == HOST, key
    values = [expected] if isinstance(expected, str) else expected
    if claim not in claims:
        return False
    if operator == "StringEquals":
        return claims[claim] in values
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(claims[claim], v) for v in values)
    raise AssertionError(f"condition operator {operator} is not evaluated by this test")


TOKENS = {  # GitHub's sub claim formats (docs: "Example subject claims"; immutable form with ids)
    "pull request": ("sts.amazonaws.com", PLAN_SUB, {"PlanRole"}),
    "job in the production environment": ("sts.amazonaws.com", DEPLOY_SUB, {"DeployRole"}),
    "push to main without environment": (
        "sts.amazonaws.com",
        "repo:acme@123456/eks-prod@789012:ref:refs/heads/main",
        set(),
    ),
    "job in another environment": ("sts.amazonaws.com", "repo:acme@123456/eks-prod@789012:environment:staging", set()),
    "environment of another repository": (
        "sts.amazonaws.com",
        "repo:evil@9/eks-prod@789012:environment:production",
        set(),
    ),
    "recycled name, other repository id": (
        "sts.amazonaws.com",
        "repo:acme@123456/eks-prod@999:environment:production",
        set(),
    ),
    "recycled owner name, other owner id": ("sts.amazonaws.com", "repo:acme@999/eks-prod@789012:pull_request", set()),
    "legacy name-only sub": ("sts.amazonaws.com", LEGACY_DEPLOY_SUB, set()),
    "pull request of a look-alike repository": (
        "sts.amazonaws.com",
        "repo:acme@123456/eks-prod-2@789012:pull_request",
        set(),
    ),
    "different case": ("sts.amazonaws.com", "repo:acme@123456/eks-prod@789012:environment:Production", set()),
    "token for another audience": ("https://github.com/acme", DEPLOY_SUB, set()),
}


def _deploy_bootstrap(aws, path: Path, output: str, provider: str | None) -> None:
    command = _printed_deploy_command(output)
    assert command[:3] == ["aws", "cloudformation", "deploy"]
    if provider:
        command += ["--parameter-overrides", f"ExistingOIDCProviderArn={provider}"]
    result = aws.cli(*command[1:])
    assert "Successfully created/updated stack - my-cluster-github-oidc" in result.stdout


def test_deployed_into_moto_with_the_accounts_existing_provider(written, aws):
    """The printed command, with the printed reuse option, deployed into moto."""
    path, output = written
    iam = aws.client("iam")
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )["OpenIDConnectProviderArn"]
    assert provider == PROVIDER_ARN
    _deploy_bootstrap(aws, path, output, provider)

    roles = {name: iam.get_role(RoleName=f"{CLUSTER}-github-{name}")["Role"] for name in ("plan", "deploy")}
    trust = {name: policy_document(role["AssumeRolePolicyDocument"]) for name, role in roles.items()}
    for name, subject in (("plan", PLAN_SUB), ("deploy", DEPLOY_SUB)):
        (statement,) = trust[name]["Statement"]
        assert statement["Principal"] == {"Federated": PROVIDER_ARN}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert set(statement["Condition"]) == {"StringEquals"}
        assert statement["Condition"]["StringEquals"][f"{HOST}:aud"] == "sts.amazonaws.com"
        assert statement["Condition"]["StringEquals"][f"{HOST}:sub"] == subject
    deploy_sub = trust["deploy"]["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:sub"]
    assert "*" not in deploy_sub and "?" not in deploy_sub
    assert roles["deploy"]["MaxSessionDuration"] == bootstrap_stack.DEPLOY_SESSION_SECONDS
    assert roles["plan"]["MaxSessionDuration"] == 3600

    for token, (audience, subject, roles_allowed) in TOKENS.items():
        claims = {"aud": audience, "sub": subject}
        allowed = {
            r
            for r, name in (("PlanRole", "plan"), ("DeployRole", "deploy"))
            if _assumable(trust[name], PROVIDER_ARN, claims)
        }
        assert allowed == roles_allowed, token
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": PROVIDER_ARN}]


def test_deployed_into_moto_creating_the_provider(written, aws):
    """moto's CloudFormation does not implement AWS::IAM::OIDCProvider (a known gap): the stack
    completes and the roles exist, but no provider is made, so the Federated principal of this
    path is checked offline above (test_trust_policies_claim_by_claim). If the provider assertion
    fails, moto learned it: check the roles' principal against its ARN here."""
    path, output = written
    _deploy_bootstrap(aws, path, output, provider=None)
    iam = aws.client("iam")
    for name, subject in (("plan", PLAN_SUB), ("deploy", DEPLOY_SUB)):
        role = iam.get_role(RoleName=f"{CLUSTER}-github-{name}")["Role"]
        (statement,) = policy_document(role["AssumeRolePolicyDocument"])["Statement"]
        assert statement["Condition"]["StringEquals"][f"{HOST}:sub"] == subject
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


# ---- what the roles may do, against the resources moto creates ------------------------------


def _allowed(document: dict, action: str, resource: str, **context: str | list[str]) -> bool:
    """IAM's decision for one request on one resource under one policy: an explicit Deny wins, else
    an Allow must match. moto's IAM engine (moto.iam.access_control.IAMPolicyStatement) matches
    Action and Resource. Conditions are evaluated here, as the IAM User Guide's "IAM JSON policy
    elements: Condition operators" page says, because moto 5.2.5 (moto/iam/policy_conditions.py)
    evaluates StringEquals only, lets a condition pass whose key the request lacks, and answers
    DENIED for an Allow statement whose condition fails: under moto alone, a role created without
    the permissions boundary, or a subnet of another cluster, would pass. `context` holds the
    request's condition keys (a list for a multivalued key such as aws:TagKeys); the request is in
    us-west-2 unless it says otherwise."""
    values = {"aws:RequestedRegion": "us-west-2", **context}
    verdict = False
    for statement in document["Statement"]:
        matcher = IAMPolicyStatement(statement)
        if not (
            matcher._check_element_matches("Action", action) and matcher._check_element_matches("Resource", resource)
        ):
            continue
        if not all(
            _condition_holds(operator, key, expected, values)
            for operator, keys in statement.get("Condition", {}).items()
            for key, expected in keys.items()
        ):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


def _glob(pattern: str, value: str) -> bool:
    """IAM's wildcards: * any characters, ? one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _arn_like(value: str, pattern: str) -> bool:
    """ArnLike and ArnEquals: the six colon-separated parts of the ARN are matched one by one."""
    parts, wanted = value.split(":", 5), pattern.split(":", 5)
    return len(parts) == len(wanted) == 6 and all(map(_glob, wanted, parts))


_MATCHERS = {
    "StringEquals": lambda value, pattern: value == pattern,
    "StringLike": lambda value, pattern: _glob(pattern, value),
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": lambda value, pattern: value.lower() == pattern.lower(),
}


def _condition_holds(operator: str, key: str, expected: object, values: dict) -> bool:
    """One key of one condition operator: values of the policy are ORed; a key the request lacks
    fails it, except for ...IfExists, negated operators, Null and ForAllValues (IAM User Guide,
    "Condition operators" and "Set operators for multivalued context keys")."""
    quantifier, _, base = operator.rpartition(":")
    assert quantifier in ("", "ForAnyValue", "ForAllValues"), operator
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    patterns = [expected] if isinstance(expected, str) else list(expected)
    present = key in values
    if base == "Null":
        (flag,) = patterns
        return (not present) == (flag == "true")
    negated = base in ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike")
    match = _MATCHERS[base.replace("Not", "") if negated else base]  # any other operator fails the test
    if not present:
        return {"ForAllValues": True, "ForAnyValue": False}.get(quantifier, if_exists or negated)
    request = values[key]

    def one(value: str) -> bool:
        return any(match(value, pattern) for pattern in patterns) != negated

    if quantifier == "ForAnyValue":
        return any(one(value) for value in request)
    if quantifier == "ForAllValues":
        return all(one(value) for value in request)
    assert isinstance(request, str), f"{key} is multivalued: the policy must use ForAnyValue or ForAllValues"
    return one(request)


def _role_policy(iam, role: str) -> dict:  # noqa: ANN001 - a boto3 client
    """The role's permissions as deployed: its inline policy and the statements of the customer
    managed policies attached to it (the deploy role's network policy), as one document."""
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = policy_document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        document["Statement"] += _managed_policy(iam, attached["PolicyArn"])["Statement"]
    return document


def _managed_policy(iam, arn: str) -> dict:  # noqa: ANN001 - a boto3 client
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return policy_document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


@pytest.fixture(scope="module")
def deployed(generated, moto_endpoint, tmp_path_factory) -> dict:
    """Karpenter's stack and the bootstrap stack deployed into moto once for the module: the
    deployed roles' policies and the ARNs moto gave Karpenter's resources (data, read back once)."""
    folder = tmp_path_factory.mktemp("deployed")
    repo = Path(shutil.copytree(generated, folder / CLUSTER))
    result = CliRunner().invoke(cli, ["bootstrap", "--repo", str(repo), *IDS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    aws = fresh(moto_endpoint, folder)
    stack = naming.karpenter_stack_name(CLUSTER)
    aws.deploy(repo / layout.CLOUDFORMATION, stack)
    aws.client("iam").create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    _deploy_bootstrap(aws, repo / layout.BOOTSTRAP_TEMPLATE, result.output, PROVIDER_ARN)
    cloudformation, iam, events, sqs = (aws.client(s) for s in ("cloudformation", "iam", "events", "sqs"))
    by_type: dict[str, list[str]] = {}
    for r in cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]:
        by_type.setdefault(r["ResourceType"], []).append(r["PhysicalResourceId"])
    queue_url = sqs.get_queue_url(QueueName=CLUSTER)["QueueUrl"]
    return {
        "repo": repo,
        "stack": cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackId"],
        "role": iam.get_role(RoleName=f"KarpenterNodeRole-{CLUSTER}")["Role"]["Arn"],
        "policies": by_type["AWS::IAM::ManagedPolicy"],
        "queue": sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"],
        "rules": [events.describe_rule(Name=n)["Arn"] for n in by_type["AWS::Events::Rule"]],
        "plan": _role_policy(iam, f"{CLUSTER}-github-plan"),
        "deploy": _role_policy(iam, f"{CLUSTER}-github-deploy"),
    }


# What CloudFormation calls, with the deploying role's credentials, to create, update and delete
# each resource of Karpenter's stack, and what `aws cloudformation deploy` calls on the stack.
KARPENTER_STACK_CALLS = {
    "stack": [
        "cloudformation:DescribeStacks",
        "cloudformation:CreateChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:ExecuteChangeSet",
        "cloudformation:DeleteChangeSet",
        "cloudformation:DescribeStackEvents",
        "cloudformation:GetTemplateSummary",
    ],
    "role": [
        "iam:CreateRole",
        "iam:GetRole",
        "iam:TagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:DetachRolePolicy",
        "iam:DeleteRole",
        "iam:AttachRolePolicy",
    ],
    "policies": [
        "iam:CreatePolicy",
        "iam:GetPolicy",
        "iam:GetPolicyVersion",
        "iam:CreatePolicyVersion",
        "iam:DeletePolicyVersion",
        "iam:ListPolicyVersions",
        "iam:DeletePolicy",
    ],
    "queue": ["sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:DeleteQueue"],
    "rules": [
        "events:PutRule",
        "events:DescribeRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:DeleteRule",
    ],
}


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{CLUSTER}-deploy-boundary"
# The condition keys of the calls that give the node role permissions: the boundary the chart's
# template sets on KarpenterNodeRole (PermissionsBoundary), and for AttachRolePolicy the policy.
WITHIN_BOUNDARY = {"iam:PermissionsBoundary": BOUNDARY}
NODE_POLICY = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"


def test_deploy_role_may_deploy_karpenters_stack(deployed):
    for kind, actions in KARPENTER_STACK_CALLS.items():
        arns = deployed[kind] if isinstance(deployed[kind], list) else [deployed[kind]]
        assert arns
        for arn in arns:
            for action in actions:
                context = {**WITHIN_BOUNDARY, "iam:PolicyARN": NODE_POLICY} if kind == "role" else {}
                assert _allowed(deployed["deploy"], action, arn, **context), f"{action} on {arn}"


def test_plan_role_reads_karpenters_stack_and_changes_nothing(deployed):
    reads = {
        "stack": "cloudformation:DescribeStacks",
        "role": "iam:GetRole",
        "policies": "iam:GetPolicyVersion",
        "queue": "sqs:GetQueueAttributes",
        "rules": "events:DescribeRule",
    }
    for kind, actions in KARPENTER_STACK_CALLS.items():
        for arn in deployed[kind] if isinstance(deployed[kind], list) else [deployed[kind]]:
            assert _allowed(deployed["plan"], reads[kind], arn), f"{reads[kind]} on {arn}"
            for action in actions:
                if not re.match(r"^[a-z]+:(Describe|Get|List)", action):
                    assert not _allowed(deployed["plan"], action, arn), f"{action} on {arn}"


ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}"
STACKS = f"arn:aws:cloudformation:us-west-2:{ACCOUNT}:stack"


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("cloudformation:CreateStack", f"{STACKS}/eksctl-{CLUSTER}-cluster/0a1b", {}),
        ("cloudformation:UpdateStack", f"{STACKS}/eksctl-{CLUSTER}-nodegroup-system/0a1b", {}),
        (
            "eks:CreateCluster",
            f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/{CLUSTER}",
            {"aws:RequestTag/karpenter.sh/discovery": CLUSTER},
        ),
        ("eks:CreateAddon", f"arn:aws:eks:us-west-2:{ACCOUNT}:addon/{CLUSTER}/aws-ebs-csi-driver/0a1b", {}),
        ("eks:CreateAccessEntry", f"arn:aws:eks:us-west-2:{ACCOUNT}:access-entry/{CLUSTER}/role/{ACCOUNT}/x/0a1b", {}),
        (
            "eks:CreatePodIdentityAssociation",
            f"arn:aws:eks:us-west-2:{ACCOUNT}:podidentityassociation/{CLUSTER}/a-0a1b",
            {},
        ),
        ("iam:CreateRole", f"{ACCOUNT_ARN}:role/eksctl-{CLUSTER}-cluster-ServiceRole-0A1B", WITHIN_BOUNDARY),
        ("iam:CreateRole", f"{ACCOUNT_ARN}:role/{CLUSTER}-karpenter", WITHIN_BOUNDARY),
        ("iam:PassRole", f"{ACCOUNT_ARN}:role/{CLUSTER}-karpenter", {"iam:PassedToService": "pods.eks.amazonaws.com"}),
        (
            "iam:PassRole",
            f"{ACCOUNT_ARN}:role/eksctl-{CLUSTER}-cluster-ServiceRole-0A1B",
            {"iam:PassedToService": "eks.amazonaws.com"},
        ),
        (
            "iam:CreateOpenIDConnectProvider",
            f"{ACCOUNT_ARN}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0A1B",
            {},
        ),
        (
            "iam:CreateServiceLinkedRole",
            f"{ACCOUNT_ARN}:role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot",
            {"iam:AWSServiceName": "spot.amazonaws.com"},
        ),
        ("ec2:CreateVpc", "*", {}),
        (
            "ssm:GetParameter",
            "arn:aws:ssm:us-west-2::parameter/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x",
            {},
        ),
        ("logs:PutRetentionPolicy", f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/aws/eks/{CLUSTER}/cluster", {}),
    ],
)
def test_deploy_role_may_run_eksctl_on_this_cluster(deployed, action, resource, context):
    assert _allowed(deployed["deploy"], action, resource, **context)


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("eks:DeleteCluster", f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/another-cluster", {}),
        ("cloudformation:DeleteStack", f"{STACKS}/eksctl-another-cluster-cluster/0a1b", {}),
        ("cloudformation:DeleteStack", f"{STACKS}/my-cluster-github-oidc/0a1b", {}),
        ("iam:UpdateAssumeRolePolicy", f"{ACCOUNT_ARN}:role/{CLUSTER}-github-deploy", {}),
        ("iam:PutRolePolicy", f"{ACCOUNT_ARN}:role/{CLUSTER}-github-plan", {}),
        ("iam:DeleteOpenIDConnectProvider", PROVIDER_ARN, {}),
        ("iam:CreateRole", f"{ACCOUNT_ARN}:role/admin", {}),
        ("iam:CreateUser", f"{ACCOUNT_ARN}:user/someone", {}),
        ("iam:CreatePolicy", f"{ACCOUNT_ARN}:policy/AnythingElse", {}),
        ("iam:PassRole", f"{ACCOUNT_ARN}:role/{CLUSTER}-karpenter", {"iam:PassedToService": "ec2.amazonaws.com"}),
        (
            "iam:CreateServiceLinkedRole",
            f"{ACCOUNT_ARN}:role/aws-service-role/x",
            {"iam:AWSServiceName": "rds.amazonaws.com"},
        ),
        ("ec2:CreateVpc", "*", {"aws:RequestedRegion": "eu-west-1"}),
        ("sqs:DeleteQueue", f"arn:aws:sqs:us-west-2:{ACCOUNT}:another-queue", {}),
        ("s3:GetObject", "arn:aws:s3:::any-bucket/key", {}),
    ],
)
def test_deploy_role_reaches_nothing_else(deployed, action, resource, context):
    assert not _allowed(deployed["deploy"], action, resource, **context)


def test_deploy_role_attaches_only_the_policies_the_stacks_name(deployed):
    """ArnLike on iam:PolicyARN (moto's engine skips ArnLike, so it is evaluated here)."""
    (statement,) = [s for s in deployed["deploy"]["Statement"] if s["Sid"] == "AttachKnownPoliciesToClusterRoles"]
    assert statement["Action"] == ["iam:AttachRolePolicy"]
    patterns = statement["Condition"]["ArnLike"]["iam:PolicyARN"]

    def attachable(arn: str) -> bool:
        return any(fnmatch.fnmatchcase(arn, p) for p in patterns)

    karpenter = cfn.load(deployed["repo"] / layout.CLOUDFORMATION)
    node_role_policies = cfn.resolve(karpenter["Resources"]["KarpenterNodeRole"]["Properties"]["ManagedPolicyArns"])
    for arn in [
        *node_role_policies,
        *deployed["policies"],
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    ]:
        assert attachable(arn), arn
    for arn in [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/IAMFullAccess",
        f"{ACCOUNT_ARN}:policy/KarpenterControllerPolicy-another-cluster",
        f"{ACCOUNT_ARN}:policy/Mine",
    ]:
        assert not attachable(arn), arn


def test_policies_fit_iam_limits_for_the_longest_cluster_name(aws, tmp_path):
    """IAM and STS quotas (IAM User Guide, reference_iam-quotas.html): 10,240 characters of inline
    policy per role, 6,144 characters of a managed policy (whitespace not counted), names of 64
    (role) and 128 (policy) characters; moto does not enforce them."""
    from generator.rules import MAX_CLUSTER_NAME

    name = "c" * MAX_CLUSTER_NAME
    settings = bootstrap_settings.Settings(
        cluster=name,
        region="us-west-2",
        github_repo="a" * 39 + "/" + "r" * 100,
        environment="e" * 255,
        account_id=ACCOUNT,
        github_ids=(10**18, 10**18),
    )
    path = tmp_path / "github-oidc.yaml"
    path.write_text(bootstrap_stack.template(settings))
    # CloudFormation API Reference, CreateStack TemplateBody: at most 51,200 bytes; the printed
    # `aws cloudformation deploy --template-file` sends the file as the body (no S3 bucket).
    assert len(path.read_bytes()) <= 51_200 - 2_048, f"{len(path.read_bytes())} bytes leave no room for tags"
    aws.client("iam").create_open_id_connect_provider(
        Url=f"https://{HOST}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    aws.deploy(path, "long", f"ExistingOIDCProviderArn={PROVIDER_ARN}")
    iam = aws.client("iam")
    for role in (settings.plan_role, settings.deploy_role):
        assert len(role) <= 64
        (inline,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = policy_document(iam.get_role_policy(RoleName=role, PolicyName=inline)["PolicyDocument"])
        size = len(json.dumps(document, separators=(",", ":")))
        assert size <= 10_240, f"{role}: {size} characters"
    managed = {naming.boundary_policy_name(name), naming.network_policy_name(name)}
    policies = {p["PolicyName"]: p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]}
    assert managed <= set(policies), policies
    for policy in managed:
        assert len(policy) <= 128
        size = len(re.sub(r"\s", "", json.dumps(_managed_policy(iam, policies[policy]), separators=(",", ":"))))
        assert size <= 6_144, f"{policy}: {size} characters"
