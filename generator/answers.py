"""The answers to `eksgen new`: one strict, typed model, checked before any file is written.

Raw answers arrive keyed by long option name (`region`, `k8s-version`, ...) from the command
line, a `--config` file or prompts. `Answers.from_raw` checks every one and raises `AnswerError`
naming the option, the value and the rule; nothing downstream re-validates user input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator import regions, rules, versions
from generator.errors import AnswerError

# Long option names accepted as keys in a --config file, with their defaults.
DEFAULTS: dict[str, object] = {
    "region": "us-west-2",
    "k8s-version": versions.DEFAULT_KUBERNETES,
    "karpenter-version": None,  # derived from k8s-version when not given
    "instance-type": "t3.medium",  # holds a Karpenter controller replica (1 GiB) beside the system pods
    "vpc-cidr": "10.10.0.0/16",
    "capacity-types": ["spot", "on-demand"],
    "architectures": ["amd64"],
    "github-repo": None,
    "environment": "production",
    "aws-account-id": None,
    "codeowners": [],
    "tags": {},
}

CAPACITY_TYPES = ("spot", "on-demand")
ARCHITECTURES = ("amd64", "arm64")


@dataclass(frozen=True)
class Answers:
    name: str
    region: str
    k8s_version: str
    karpenter_version: str
    instance_type: str
    vpc_cidr: str
    capacity_types: list[str]
    architectures: list[str]
    github_repo: str | None
    environment: str
    aws_account_id: str | None
    codeowners: list[str]
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_raw(cls, name: object, raw: Mapping[str, object]) -> Answers:
        unknown = sorted(set(raw) - set(DEFAULTS))
        if unknown:
            raise AnswerError("--config", unknown[0], f"unknown key; the keys are {', '.join(DEFAULTS)}")
        merged = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
        k8s = _k8s_version(merged["k8s-version"])
        return cls(
            name=rules.cluster_name("NAME", name),
            region=_region(merged["region"]),
            k8s_version=k8s,
            karpenter_version=_karpenter_version(merged["karpenter-version"], k8s),
            instance_type=_instance_type(merged["instance-type"]),
            vpc_cidr=rules.vpc_cidr("--vpc-cidr", merged["vpc-cidr"]),
            capacity_types=_choices("--capacity-types", merged["capacity-types"], CAPACITY_TYPES),
            architectures=_choices("--architectures", merged["architectures"], ARCHITECTURES),
            github_repo=_github_repo(merged["github-repo"]),
            environment=rules.environment("--environment", merged["environment"]),
            aws_account_id=rules.account_id("--aws-account-id", merged["aws-account-id"]),
            codeowners=_codeowners(merged["codeowners"]),
            tags=rules.tags("--tag", merged["tags"]),
        )

    def as_config(self) -> dict[str, object]:
        """The answers keyed as in a --config file (what .eksgen.yaml records)."""
        return {
            "region": self.region,
            "k8s-version": self.k8s_version,
            "karpenter-version": self.karpenter_version,
            "instance-type": self.instance_type,
            "vpc-cidr": self.vpc_cidr,
            "capacity-types": list(self.capacity_types),
            "architectures": list(self.architectures),
            "github-repo": self.github_repo,
            "environment": self.environment,
            "aws-account-id": self.aws_account_id,
            "codeowners": list(self.codeowners),
            "tags": dict(self.tags),
        }


_string = rules.string
_matching = rules.matching


def _optional(value: object, option: str, pattern: re.Pattern[str], rule: str) -> str | None:
    if value in (None, ""):
        return None
    return _matching(option, value, pattern, rule)


def _github_repo(value: object) -> str | None:
    """ORG/NAME as GitHub allows it. Names are ASCII letters, digits, '.', '-' and '_', at most 100; GitHub
    strips a trailing .git and refuses a trailing .wiki (github/docs issue #44518, "Repository limits"), and
    refuses '.' and '..' ("The repository . is reserved": dead-claudia/github-limits pull request #5)."""
    repo = _optional(value, "--github-repo", rules.GITHUB_REPO, "must be ORG/NAME as on GitHub")
    if repo is None:
        return None
    name = repo.split("/", 1)[1]
    if name in (".", ".."):
        raise AnswerError("--github-repo", repo, f"GitHub reserves the repository name {name!r}")
    if name.lower().endswith((".git", ".wiki")):
        raise AnswerError("--github-repo", repo, "GitHub repository names cannot end in .git or .wiki")
    return repo


def _region(value: object) -> str:
    region = _string("--region", value)
    if region not in regions.REGIONS:
        raise AnswerError(
            "--region",
            region,
            f"not an AWS region with EKS; known regions: {', '.join(sorted(regions.REGIONS))}",
        )
    return region


def _k8s_version(value: object) -> str:
    version = str(value) if isinstance(value, (int, float)) else _string("--k8s-version", value)
    if version not in versions.KUBERNETES:
        raise AnswerError(
            "--k8s-version",
            version,
            f"eksctl v{versions.EKSCTL_VERSION} supports Kubernetes {', '.join(versions.KUBERNETES)}",
        )
    release = versions.KUBERNETES[version]
    if release.support_on(versions.today()) == "ended":
        raise AnswerError(
            "--k8s-version", version, f"EKS ended Kubernetes {version} on {release.end_of_extended_support}"
        )
    return version


def _karpenter_version(value: object, k8s: str) -> str:
    supported = versions.karpenter_versions_for(k8s)
    if value is None:
        if versions.DEFAULT_KARPENTER in supported:
            return versions.DEFAULT_KARPENTER
        return supported[-1]
    version = _string("--karpenter-version", value).removeprefix("v")
    release = versions.KARPENTER.get(version)
    if release is None:
        raise AnswerError(
            "--karpenter-version",
            value,
            f"not a pinned Karpenter release; choose one of {', '.join(versions.KARPENTER)}",
        )
    if not release.supports(k8s):
        raise AnswerError(
            "--karpenter-version",
            value,
            f"Karpenter {version} supports Kubernetes {release.min_kubernetes} to "
            f"{release.max_kubernetes}, not {k8s}; for {k8s} use {', '.join(supported)}",
        )
    return version


def _instance_type(value: object) -> str:
    return _matching(
        "--instance-type",
        value,
        rules.INSTANCE_TYPE,
        "not an EC2 instance type (FAMILY.SIZE, for example t3.small or m7g.2xlarge)",
    )


def _choices(option: str, value: object, allowed: tuple[str, ...]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise AnswerError(option, value, f"must be a non-empty list of {', '.join(allowed)}")
    chosen: list[str] = []
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if text not in allowed:
            raise AnswerError(option, item, f"must be one of {', '.join(allowed)}")
        if text not in chosen:
            chosen.append(text)
    return chosen


def _codeowners(value: object) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise AnswerError("--codeowners", value, "must be a list of @user or @org/team handles")
    owners = [i.strip() if isinstance(i, str) else i for i in items]
    for owner in owners:
        _matching("--codeowners", owner, rules.GITHUB_HANDLE, "must be a GitHub @user or @org/team")
    return [o for o in owners if o]
