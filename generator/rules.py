"""The one rule set for the strings a cluster is named and tagged with, and its network.

`eksgen new` (answers.py) checks its answers with these, and so does `eksgen set` over the values it
writes (values_edit.py), so neither accepts what the other refuses; the chart's values.schema.json
states the same patterns and limits for helm and `eksgen validate` (tests/test_hostile_input.py fails
when they drift apart). Each check raises `AnswerError` naming the option or key, the value and the rule.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping

from generator.errors import AnswerError

# eksctl: "a letter followed by letters, digits and hyphens" (its ClusterConfig validation and
# CloudFormation stack names, [a-zA-Z][-a-zA-Z0-9]*, which eksctl builds from the name).
CLUSTER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
NODE_ROLE_PREFIX = "KarpenterNodeRole-"  # IAM role names are at most 64 characters
MAX_CLUSTER_NAME = 64 - len(NODE_ROLE_PREFIX)
INSTANCE_TYPE = re.compile(
    r"^[a-z][a-z0-9]*[0-9][a-z0-9]*(-[a-z0-9]+)*\."
    r"(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$"
)
GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
GITHUB_HANDLE = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(/[A-Za-z0-9._-]+)?$")
ENVIRONMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,254}$")
ENVIRONMENT_RULE = "must be 1-255 letters, digits, spaces, '.', '_' or '-'"
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
ACCOUNT_ID_RULE = "must be the 12 digits of an AWS account id"
PRIVATE_BLOCKS = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
VPC_PREFIXES = (16, 21)  # the largest VPC AWS allows; the smallest whose eight subnets hold nodes and pods

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
RESERVED_TAG_KEYS = (
    "karpenter.sh/discovery",
    "karpenter.sh/nodepool",
    "karpenter.sh/nodeclaim",
    "karpenter.k8s.aws/ec2nodeclass",
    "eks:eks-cluster-name",
)
RESERVED_TAG_PREFIXES = ("kubernetes.io/cluster", "eksgen.io/", "alpha.eksctl.io/", "eksctl.cluster.k8s.io/")
# eksgen's own rule, not AWS's: a key may not read as an option ('-') or as a parameter file the aws CLI
# loads in place of the value (file://, fileb://, and in v1 http:// and https://) wherever a command takes
# tags as KEY=VALUE words.
COMMAND_LINE_PREFIXES = ("-", "file://", "fileb://", "http://", "https://")


def string(option: str, value: object) -> str:
    if not isinstance(value, str):
        raise AnswerError(option, value, "must be a string (quote it in YAML)")
    return value


def matching(option: str, value: object, pattern: re.Pattern[str], rule: str) -> str:
    text = string(option, value)
    if not pattern.fullmatch(text):
        raise AnswerError(option, text, rule)
    return text


def cluster_name(option: str, value: object) -> str:
    name = string(option, value)
    if not CLUSTER_NAME.fullmatch(name):
        raise AnswerError(
            option,
            name,
            "eksctl cluster names start with a letter and hold only letters, digits and '-' "
            "(eksctl names CloudFormation stacks after the cluster)",
        )
    if len(name) > MAX_CLUSTER_NAME:
        raise AnswerError(
            option,
            name,
            f"is {len(name)} characters; at most {MAX_CLUSTER_NAME} fit, because the IAM role "
            f"'{NODE_ROLE_PREFIX}NAME' may be at most 64 characters",
        )
    return name


def environment(option: str, value: object) -> str:
    return matching(option, value, ENVIRONMENT, ENVIRONMENT_RULE)


def account_id(option: str, value: object) -> str | None:
    """An AWS account id, or None for none (empty)."""
    if value in (None, ""):
        return None
    return matching(option, value, ACCOUNT_ID, ACCOUNT_ID_RULE)


def vpc_cidr(option: str, value: object) -> str:
    text = string(option, value)
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        raise AnswerError(option, text, f"not an IPv4 network address in CIDR form ({exc})") from None
    if not any(network.subnet_of(block) for block in PRIVATE_BLOCKS):
        raise AnswerError(option, text, "must lie in a private range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    if network.prefixlen < VPC_PREFIXES[0]:
        raise AnswerError(option, text, "AWS VPCs are at most /16")
    if network.prefixlen > VPC_PREFIXES[1]:
        raise AnswerError(
            option,
            text,
            "too small for the subnets: use /16 to /21; eksctl cuts the VPC into eight blocks, a "
            "private and a public subnet per zone, and each private one needs at least 256 addresses "
            "for nodes and pods",
        )
    return str(network)


def tags(option: str, value: object) -> dict[str, str]:
    """A map of tags by AWS's rules and eksgen's (see above); `option` names them in errors (--tag, tags)."""
    if not isinstance(value, Mapping):
        raise AnswerError(option, value, "tags must be a map of KEY to VALUE")
    checked: dict[str, str] = {}
    for key, raw in value.items():
        key = string(option, key)
        text = string(f"{option} {key}", raw)
        tag_key(option, key)
        tag_value(f"{option} {key}", text)
        checked[key] = text
    if len(checked) > MAX_USER_TAGS:
        raise AnswerError(
            option,
            f"{len(checked)} tags",
            f"at most {MAX_USER_TAGS}: AWS allows {TAGS_PER_RESOURCE} tags per resource, and eksgen, eksctl and "
            f"Karpenter add {ADDED_TAGS} of their own to each resource that carries these",
        )
    return checked


def tag_key(option: str, key: str) -> None:
    if not key or len(key) > MAX_TAG_KEY:
        raise AnswerError(option, key, f"AWS tag keys are 1 to {MAX_TAG_KEY} characters")
    tag_characters(option, key)
    if key.lower().startswith("aws:"):
        raise AnswerError(option, key, "tag keys starting with 'aws:' are reserved by AWS")
    if key in RESERVED_TAG_KEYS or key.startswith(RESERVED_TAG_PREFIXES):
        raise AnswerError(option, key, "this tag key is set by eksgen, EKS, eksctl or Karpenter")
    if "=" in key:
        raise AnswerError(option, key, "tag keys cannot contain '=' (written as KEY=VALUE)")
    if key.lower().startswith(COMMAND_LINE_PREFIXES):
        raise AnswerError(
            option,
            key,
            "tag keys cannot start with '-', file://, fileb://, http:// or https:// "
            "(the aws CLI would read them as an option or a file to load)",
        )


def tag_value(option: str, value: str) -> None:
    if len(value) > MAX_TAG_VALUE:
        raise AnswerError(option, value, f"AWS tag values are at most {MAX_TAG_VALUE} characters")
    tag_characters(option, value)
    if value.lower().startswith("aws:"):
        raise AnswerError(option, value, "tag values starting with 'aws:' are reserved by AWS")


def tag_character_allowed(char: str) -> bool:
    """AWS's tag characters: letters, numbers, spaces (\\p{L}, \\p{N}, \\p{Zs}) and _ . : / = + - @."""
    if char.isascii():
        return char.isalnum() or char == " " or char in TAG_SYMBOLS
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Zs"


def tag_characters(option: str, text: str) -> None:
    for char in text:
        if tag_character_allowed(char):
            continue
        kind = "control character" if unicodedata.category(char) == "Cc" else "character"
        raise AnswerError(
            option,
            text,
            f"contains the {kind} U+{ord(char):04X} {char!r}; AWS tag keys and values hold only {TAG_CHARACTERS}",
        )


def check_values(values: Mapping) -> None:
    """values.yaml's answers, by the rules `eksgen new` checks them with (what `eksgen set` writes)."""
    cluster_name("clusterName", values.get("clusterName"))
    environment("environment", values.get("environment"))
    account_id("awsAccountId", values.get("awsAccountId"))
    vpc = values.get("vpc")
    vpc_cidr("vpc.cidr", vpc.get("cidr") if isinstance(vpc, Mapping) else None)
    tags("tags", values.get("tags") if values.get("tags") is not None else {})
