"""ClusterConfig changes of the cluster's settings: identity and access (OIDC, authentication mode,
access entries, pod identities), control-plane logging, and the cluster's tags."""

from __future__ import annotations

import json

from generator.plan.model import CFG, Action, Blocker, get, meta

_AUTH_ORDER = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]


def identity(base: dict, head: dict, where: list[str], blockers: list[Blocker]) -> list[Action]:
    actions = []
    if get(base, "iam.withOIDC") != get(head, "iam.withOIDC"):
        if get(head, "iam.withOIDC"):
            actions.append(
                Action(
                    "identity-and-access",
                    "associate the IAM OIDC provider",
                    ["eksctl", "utils", "associate-iam-oidc-provider", *CFG, "--approve"],
                )
            )
        else:
            blockers.append(
                Blocker(
                    "iam.withOIDC",
                    True,
                    get(head, "iam.withOIDC"),
                    "eksctl cannot remove the cluster's OIDC provider",
                    "remove the IAM OIDC provider by hand once nothing uses it",
                )
            )
    before_mode = get(base, "accessConfig.authenticationMode") or "API_AND_CONFIG_MAP"
    after_mode = get(head, "accessConfig.authenticationMode") or "API_AND_CONFIG_MAP"
    if before_mode != after_mode:
        if _AUTH_ORDER.index(after_mode) < _AUTH_ORDER.index(before_mode):
            blockers.append(
                Blocker(
                    "accessConfig.authenticationMode",
                    before_mode,
                    after_mode,
                    "EKS only moves authentication from CONFIG_MAP towards API",
                    "keep the current mode",
                )
            )
        else:
            actions.append(
                Action(
                    "identity-and-access",
                    f"switch authentication mode to {after_mode}",
                    ["eksctl", "utils", "update-authentication-mode", *where, "--authentication-mode", after_mode],
                )
            )
    entries_before = {e.get("principalARN"): e for e in get(base, "accessConfig.accessEntries") or []}
    entries_after = {e.get("principalARN"): e for e in get(head, "accessConfig.accessEntries") or []}
    for arn, entry in entries_before.items():
        if entries_after.get(arn) != entry:
            actions.append(
                Action(
                    "identity-and-access",
                    f"delete access entry {arn}",
                    ["eksctl", "delete", "accessentry", *where, "--principal-arn", arn],
                )
            )
    if any(entries_before.get(arn) != e for arn, e in entries_after.items()):
        actions.append(
            Action("identity-and-access", "create the new access entries", ["eksctl", "create", "accessentry", *CFG])
        )
    ids_before = {
        (p.get("namespace"), p.get("serviceAccountName")): p for p in get(base, "iam.podIdentityAssociations") or []
    }
    ids_after = {
        (p.get("namespace"), p.get("serviceAccountName")): p for p in get(head, "iam.podIdentityAssociations") or []
    }
    if any(k not in ids_before for k in ids_after):
        actions.append(
            Action(
                "identity-and-access",
                "create the new pod identity associations",
                ["eksctl", "create", "podidentityassociation", *CFG],
            )
        )
    if any(k in ids_before and ids_before[k] != v for k, v in ids_after.items()):
        actions.append(
            Action(
                "identity-and-access",
                "update the changed pod identity associations",
                ["eksctl", "update", "podidentityassociation", *CFG],
            )
        )
    for namespace, account in (k for k in ids_before if k not in ids_after):
        actions.append(
            Action(
                "identity-and-access",
                f"delete pod identity {namespace}/{account}",
                [
                    "eksctl",
                    "delete",
                    "podidentityassociation",
                    *where,
                    "--namespace",
                    namespace,
                    "--service-account-name",
                    account,
                ],
            )
        )
    return actions


def logging(base: dict, head: dict, where: list[str], name: str, region: str) -> list[Action]:
    actions = []
    types = "cloudWatch.clusterLogging.enableTypes"
    if sorted(get(base, types) or []) != sorted(get(head, types) or []):
        actions.append(
            Action(
                "logging",
                "update the control-plane log types",
                ["eksctl", "utils", "update-cluster-logging", *CFG, "--approve"],
                detail=f"{get(base, types)} -> {get(head, types)}",
            )
        )
    days = "cloudWatch.clusterLogging.logRetentionInDays"
    if get(base, days) != get(head, days) and get(head, days):
        actions.append(
            Action(
                "logging",
                f"keep control-plane logs {get(head, days)} days",
                [
                    "aws",
                    "logs",
                    "put-retention-policy",
                    "--region",
                    region,
                    "--log-group-name",
                    f"/aws/eks/{name}/cluster",
                    "--retention-in-days",
                    str(get(head, days)),
                ],
            )
        )
    return actions


def tags(base: dict, head: dict, name: str, region: str) -> list[Action]:
    """Tag and untag the cluster. Tag keys and values are user data: they reach the aws CLI only inside one JSON
    argument, never as argv items of their own, where a key such as `--endpoint-url=...` would be read as an
    option (argparse) or `file://...` as a file to load (the aws CLI's parameter files)."""
    before, after = meta(base, "tags") or {}, meta(head, "tags") or {}
    actions = []
    # {cluster_arn} is filled in by the deploy from `aws eks describe-cluster`.
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        actions.append(
            Action(
                "tags",
                f"tag the cluster: {', '.join(sorted(changed))}",
                [
                    "aws",
                    "eks",
                    "tag-resource",
                    "--region",
                    region,
                    "--resource-arn",
                    "{cluster_arn}",
                    "--tags",
                    json_argument(changed),
                ],
                detail="resources eksctl already created (VPC, subnets, node groups) keep their "
                "tags; Karpenter's nodes take the EC2NodeClass tags as they are replaced",
            )
        )
    removed = sorted(k for k in before if k not in after)
    if removed:
        actions.append(
            Action(
                "tags",
                f"untag the cluster: {', '.join(removed)}",
                [
                    "aws",
                    "eks",
                    "untag-resource",
                    "--region",
                    region,
                    "--resource-arn",
                    "{cluster_arn}",
                    "--tag-keys=" + json_argument(removed),
                ],
            )
        )
    return actions


def json_argument(value: dict | list) -> str:
    """A map or list parameter of the aws CLI as JSON. It starts with '{' or '[', so it is never read as an
    option nor as a file:// or http(s):// parameter file; the aws CLI parses a map given as '{...}', and a list
    given as one '[...]' word, as JSON (awscli/argprocess.py _unpack_complex_cli_arg). A list goes after
    `--name=`: with the option and its value in one word, argparse never takes the value for an option."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
