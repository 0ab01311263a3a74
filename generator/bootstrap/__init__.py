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

import shlex
from pathlib import Path

from generator.bootstrap.settings import (
    CHINA_AUDIENCE,
    EXISTING_PROVIDER_PARAMETER,
    FIND_IDS_HINT,
    GITHUB_OIDC_HOST,
    Settings,
    Written,
    read_settings,
)
from generator.bootstrap.stack import DEPLOY_SESSION_SECONDS, template
from generator.errors import TargetExistsError
from generator.layout import BOOTSTRAP_TEMPLATE
from generator.naming import bootstrap_stack_name, boundary_arn
from generator.regions import partition
from generator.transaction import write_file


def write(repo: Path, text: str, force: bool = False) -> Written:
    """Write the template into the repository, refusing to replace a different one unless forced."""
    path = repo / BOOTSTRAP_TEMPLATE
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
    write_file(path, text)
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
    how = FIND_IDS_HINT.format(repo=s.github_repo)
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
