"""The answers to `eksgen new`: one strict, typed model, checked before any file is written.

Raw answers arrive keyed by long option name (`region`, `k8s-version`, ...) from the command
line, a `--config` file or prompts. `Answers.from_raw` checks every one and raises `AnswerError`
naming the option, the value and the rule; nothing downstream re-validates user input.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator import regions, versions
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

# eksctl: "a letter followed by letters, digits and hyphens" (its ClusterConfig validation and
# CloudFormation stack names, [a-zA-Z][-a-zA-Z0-9]*, which eksctl builds from the name).
_CLUSTER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_NODE_ROLE_PREFIX = "KarpenterNodeRole-"  # IAM role names are at most 64 characters
MAX_CLUSTER_NAME = 64 - len(_NODE_ROLE_PREFIX)
_INSTANCE_TYPE = re.compile(
    r"^[a-z][a-z0-9]*[0-9][a-z0-9]*(-[a-z0-9]+)*\."
    r"(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$"
)
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GITHUB_HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(/[A-Za-z0-9._-]+)?$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,254}$")
_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_PRIVATE_BLOCKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
# AWS's tag rules (the CloudFormation reference's AWS::EKS::* Tag pages, "Tag restrictions", e.g.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-eks-fargateprofile-tag.html;
# the API Tag types give them as a pattern, [\p{L}\p{Z}\p{N}_.:/=+\-@]*, e.g.
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html): keys of 1 to 128 and values of at most 256
# Unicode characters, made of letters, numbers, spaces and _ . : / = + - @; no key or value starting with aws:
# (any case); at most 50 tags per resource (EKS TagResource: "Maximum number of 50 items",
# https://docs.aws.amazon.com/goto/WebAPI/eks/TagResource), aws: tags not counted.
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
TAG_SYMBOLS = "_.:/=+-@"
TAG_CHARACTERS = "letters, numbers, spaces and _ . : / = + - @"
TAGS_PER_RESOURCE = 50
# Every resource that carries the user's tags carries 6 more, which count against the same 50:
# - the cluster: karpenter.sh/discovery (the chart's eks-complete.awsTags), eksctl's three stack tags
#   alpha.eksctl.io/cluster-name, eksctl.cluster.k8s.io/v1alpha1/cluster-name and alpha.eksctl.io/eksctl-version
#   (eksctl's pkg/cfn/manager/api.go NewStackCollection; CloudFormation hands stack tags on to the stack's
#   resources), and the deploy's eksgen.io/cluster-commit and eksgen.io/deployed-commit (deploy/record.py);
# - a node group's stack: the same four, and alpha.eksctl.io/nodegroup-name and alpha.eksctl.io/nodegroup-type;
# - Karpenter's instances: kubernetes.io/cluster/NAME, karpenter.sh/nodepool, eks:eks-cluster-name and
#   karpenter.k8s.aws/ec2nodeclass at launch (karpenter-provider-aws pkg/cloudprovider), then karpenter.sh/nodeclaim
#   and Name from its tagging controller.
ADDED_TAGS = 6
MAX_USER_TAGS = TAGS_PER_RESOURCE - ADDED_TAGS
# Tag keys the generator, eksctl, EKS or Karpenter own; a user tag with one of these would break discovery,
# the deploy's record or eksctl's stacks, or be rejected by the EC2NodeClass CRD (which refuses every key
# starting with kubernetes.io/cluster, slash or not).
_RESERVED_TAG_KEYS = {
    "karpenter.sh/discovery",
    "karpenter.sh/nodepool",
    "karpenter.sh/nodeclaim",
    "karpenter.k8s.aws/ec2nodeclass",
    "eks:eks-cluster-name",
}
_RESERVED_TAG_PREFIXES = ("kubernetes.io/cluster", "eksgen.io/", "alpha.eksctl.io/", "eksctl.cluster.k8s.io/")
# eksgen's own rule, not AWS's: a key may not read as an option ('-') or as a parameter file the aws CLI
# loads in place of the value (file://, fileb://, and in v1 http:// and https://) wherever a command takes
# tags as KEY=VALUE words.
_COMMAND_LINE_PREFIXES = ("-", "file://", "fileb://", "http://", "https://")


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
            name=_cluster_name(name),
            region=_region(merged["region"]),
            k8s_version=k8s,
            karpenter_version=_karpenter_version(merged["karpenter-version"], k8s),
            instance_type=_instance_type(merged["instance-type"]),
            vpc_cidr=_vpc_cidr(merged["vpc-cidr"]),
            capacity_types=_choices("--capacity-types", merged["capacity-types"], CAPACITY_TYPES),
            architectures=_choices("--architectures", merged["architectures"], ARCHITECTURES),
            github_repo=_github_repo(merged["github-repo"]),
            environment=_matching(
                "--environment",
                merged["environment"],
                _ENVIRONMENT,
                "must be 1-255 letters, digits, spaces, '.', '_' or '-'",
            ),
            aws_account_id=_optional(
                merged["aws-account-id"], "--aws-account-id", _ACCOUNT_ID, "must be the 12 digits of an AWS account id"
            ),
            codeowners=_codeowners(merged["codeowners"]),
            tags=_tags(merged["tags"]),
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


def _string(option: str, value: object) -> str:
    if not isinstance(value, str):
        raise AnswerError(option, value, "must be a string (quote it in YAML)")
    return value


def _matching(option: str, value: object, pattern: re.Pattern[str], rule: str) -> str:
    text = _string(option, value)
    if not pattern.fullmatch(text):
        raise AnswerError(option, text, rule)
    return text


def _optional(value: object, option: str, pattern: re.Pattern[str], rule: str) -> str | None:
    if value in (None, ""):
        return None
    return _matching(option, value, pattern, rule)


def _github_repo(value: object) -> str | None:
    """ORG/NAME as GitHub allows it. Names are ASCII letters, digits, '.', '-' and '_', at most 100; GitHub
    strips a trailing .git and refuses a trailing .wiki (github/docs issue #44518, "Repository limits"), and
    refuses '.' and '..' ("The repository . is reserved": dead-claudia/github-limits pull request #5)."""
    repo = _optional(value, "--github-repo", _GITHUB_REPO, "must be ORG/NAME as on GitHub")
    if repo is None:
        return None
    name = repo.split("/", 1)[1]
    if name in (".", ".."):
        raise AnswerError("--github-repo", repo, f"GitHub reserves the repository name {name!r}")
    if name.lower().endswith((".git", ".wiki")):
        raise AnswerError("--github-repo", repo, "GitHub repository names cannot end in .git or .wiki")
    return repo


def _cluster_name(value: object) -> str:
    name = _string("NAME", value)
    if not _CLUSTER_NAME.fullmatch(name):
        raise AnswerError(
            "NAME",
            name,
            "eksctl cluster names start with a letter and hold only letters, digits and '-' "
            "(eksctl names CloudFormation stacks after the cluster)",
        )
    if len(name) > MAX_CLUSTER_NAME:
        raise AnswerError(
            "NAME",
            name,
            f"is {len(name)} characters; at most {MAX_CLUSTER_NAME} fit, because the IAM role "
            f"'{_NODE_ROLE_PREFIX}NAME' may be at most 64 characters",
        )
    return name


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
        _INSTANCE_TYPE,
        "not an EC2 instance type (FAMILY.SIZE, for example t3.small or m7g.2xlarge)",
    )


def _vpc_cidr(value: object) -> str:
    text = _string("--vpc-cidr", value)
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        raise AnswerError("--vpc-cidr", text, f"not an IPv4 network address in CIDR form ({exc})") from None
    if not any(network.subnet_of(block) for block in _PRIVATE_BLOCKS):
        raise AnswerError(
            "--vpc-cidr",
            text,
            "must lie in a private range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
        )
    if network.prefixlen < 16:
        raise AnswerError("--vpc-cidr", text, "AWS VPCs are at most /16")
    if network.prefixlen > 21:
        raise AnswerError(
            "--vpc-cidr",
            text,
            "too small for the subnets: use /16 to /21; eksctl cuts the VPC into eight blocks, a "
            "private and a public subnet per zone, and each private one needs at least 256 addresses "
            "for nodes and pods",
        )
    return str(network)


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
        _matching("--codeowners", owner, _GITHUB_HANDLE, "must be a GitHub @user or @org/team")
    return [o for o in owners if o]


def _tags(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise AnswerError("--tag", value, "tags must be a map of KEY to VALUE")
    tags: dict[str, str] = {}
    for key, tag_value in value.items():
        key = _string("--tag", key)
        tag_value = _string(f"--tag {key}", tag_value)
        _check_tag_key(key)
        _check_tag_value(key, tag_value)
        tags[key] = tag_value
    if len(tags) > MAX_USER_TAGS:
        raise AnswerError(
            "--tag",
            f"{len(tags)} tags",
            f"at most {MAX_USER_TAGS}: AWS allows {TAGS_PER_RESOURCE} tags per resource, and eksgen, eksctl and "
            f"Karpenter add {ADDED_TAGS} of their own to each resource that carries these",
        )
    return tags


def _check_tag_key(key: str) -> None:
    if not key or len(key) > MAX_TAG_KEY:
        raise AnswerError("--tag", key, f"AWS tag keys are 1 to {MAX_TAG_KEY} characters")
    _check_tag_characters("--tag", key)
    if key.lower().startswith("aws:"):
        raise AnswerError("--tag", key, "tag keys starting with 'aws:' are reserved by AWS")
    if key in _RESERVED_TAG_KEYS or key.startswith(_RESERVED_TAG_PREFIXES):
        raise AnswerError("--tag", key, "this tag key is set by eksgen, EKS, eksctl or Karpenter")
    if "=" in key:
        raise AnswerError("--tag", key, "tag keys cannot contain '=' (written as KEY=VALUE)")
    if key.lower().startswith(_COMMAND_LINE_PREFIXES):
        raise AnswerError(
            "--tag",
            key,
            "tag keys cannot start with '-', file://, fileb://, http:// or https:// "
            "(the aws CLI would read them as an option or a file to load)",
        )


def _check_tag_value(key: str, value: str) -> None:
    option = f"--tag {key}"
    if len(value) > MAX_TAG_VALUE:
        raise AnswerError(option, value, f"AWS tag values are at most {MAX_TAG_VALUE} characters")
    _check_tag_characters(option, value)
    if value.lower().startswith("aws:"):
        raise AnswerError(option, value, "tag values starting with 'aws:' are reserved by AWS")


def tag_character_allowed(char: str) -> bool:
    """AWS's tag characters: letters, numbers, spaces (\\p{L}, \\p{N}, \\p{Zs}) and _ . : / = + - @."""
    if char.isascii():
        return char.isalnum() or char == " " or char in TAG_SYMBOLS
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Zs"


def _check_tag_characters(option: str, text: str) -> None:
    for char in text:
        if tag_character_allowed(char):
            continue
        kind = "control character" if unicodedata.category(char) == "Cc" else "character"
        raise AnswerError(
            option,
            text,
            f"contains the {kind} U+{ord(char):04X} {char!r}; AWS tag keys and values hold only {TAG_CHARACTERS}",
        )
