"""What the bootstrap template is made from: values.yaml, the recorded answers and the GitHub
repository with its ids, checked; and how the OIDC `sub` claim names that repository."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from generator import render, repofiles, rules
from generator.errors import AnswerError, EksgenError
from generator.layout import ANSWERS
from generator.regions import partition

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
CHINA_AUDIENCE = "sts.amazonaws.com.cn"  # the China partition's STS (configure-aws-credentials' `audience`)
EXISTING_PROVIDER_PARAMETER = "ExistingOIDCProviderArn"
CREATE_PROVIDER_CONDITION = "CreateOIDCProvider"


_GITHUB_ID = re.compile(r"^[1-9][0-9]{0,18}$")
FIND_IDS_HINT = "gh api repos/{repo} --jq '.owner.id, .id' (REST: GET /repos/{repo}, fields owner.id and id)"


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
        rules.CLUSTER_NAME,
        "must be an EKS cluster name: letters, digits, '-' and '_'",
    )
    if len(cluster) > rules.MAX_CLUSTER_NAME:
        raise AnswerError("clusterName", cluster, f"at most {rules.MAX_CLUSTER_NAME} characters")
    region = values.get("awsRegion")
    if not isinstance(region, str) or not region:
        raise AnswerError("awsRegion", region, "must name the AWS region of the cluster")
    environment = _checked(
        "environment", values.get("environment"), rules.ENVIRONMENT, "must be the name of a GitHub environment"
    )
    account = values.get("awsAccountId") or None
    if account is not None:
        account = _checked("awsAccountId", str(account), rules.ACCOUNT_ID, "must be 12 digits")
    tags = values.get("tags") or {}
    if not isinstance(tags, dict):
        raise AnswerError("tags", tags, "must be a map of tag keys to values")
    if github_repo is None:
        github_repo = _recorded_github_repo(repo)
        if not github_repo:
            raise AnswerError(
                "--github-repo",
                "",
                f"no GitHub repository is recorded in {repo / ANSWERS} (answers.github-repo); pass "
                "--github-repo ORG/NAME, or set github-repo there, so that the roles trust only that repository",
            )
    github_repo = _checked("--github-repo", github_repo, rules.GITHUB_REPO, "must be ORG/NAME as on GitHub")
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
    how = FIND_IDS_HINT.format(repo=github_repo)
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
    path = repo / ANSWERS
    if not path.exists() and not path.is_symlink():
        raise EksgenError(f"{path}: not found; is {repo} a repository made by `eksgen new`?")
    data = repofiles.load_file(path, repo)
    recorded = (data or {}).get("answers") if isinstance(data, dict) else None
    value = recorded.get("github-repo") if isinstance(recorded, dict) else None
    return value or None


def audience(region: str) -> str:
    """The `aud` of the tokens workflows request for AWS STS: China's partition has its own."""
    return CHINA_AUDIENCE if partition(region) == "aws-cn" else AUDIENCE
