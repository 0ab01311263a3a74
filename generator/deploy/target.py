"""What a deploy aims at: the cluster that values.yaml and rendered/ describe at the commit HEAD."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator import tools
from generator.errors import AnswerError, PreflightError
from generator.layout import CLOUDFORMATION, CLUSTER_CONFIG, RENDERED, VALUES
from generator.plan import state


@dataclass(frozen=True)
class Target:
    repo: Path
    head: str  # the full commit id of HEAD
    subject: str  # its first line, for the log
    cluster: str
    region: str
    account_id: str | None
    eks_version: str
    karpenter_version: str
    rendered: state.State  # rendered/ and values.yaml at HEAD

    @property
    def short(self) -> str:
        return self.head[:12]

    @property
    def cluster_config(self) -> dict:
        return self.rendered.cluster

    def names(self, kind: str) -> list[str]:
        """Names of the rendered objects of a kind (NodePool, EC2NodeClass, StorageClass), sorted."""
        return sorted(self.rendered.of_kind(kind))

    @property
    def default_storage_class(self) -> str | None:
        """The StorageClass rendered/ makes the cluster's default, if any."""
        for name, doc in self.rendered.of_kind("StorageClass").items():
            annotations = (doc.get("metadata") or {}).get("annotations") or {}
            if str(annotations.get(DEFAULT_CLASS, "")).lower() == "true":
                return name
        return None

    def text(self, path: str) -> str:
        return self.rendered.files[path]


DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
# A deploy applies these files from the working tree, so they must be the committed ones.
DEPLOYED_PATHS = (str(VALUES), str(RENDERED))


def load(repo: Path, *, require_clean: bool = True) -> Target:
    """Read HEAD; with `require_clean`, refuse a working tree whose values.yaml or rendered/ differ from it."""
    git = tools.git()
    if not tools.succeeds([git, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd=repo):
        raise PreflightError(
            f"{repo} is not a git repository with a commit; deploys run from a clone of the cluster repository"
        )
    head = tools.run([git, "rev-parse", "HEAD"], cwd=repo).stdout.strip()
    subject = tools.run([git, "log", "-1", "--format=%s", head], cwd=repo).stdout.strip()
    if require_clean:
        dirty = tools.run(
            [git, "status", "--porcelain", "--untracked-files=all", "--", *DEPLOYED_PATHS], cwd=repo
        ).stdout.splitlines()
        if dirty:
            listed = ", ".join(line[3:] for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise PreflightError(
                f"values.yaml or rendered/ differ from HEAD ({listed}): a deploy applies committed "
                "files only and records the commit it applied; commit or discard the changes"
            )
    rendered = state.from_git(repo, head)
    values = rendered.values
    cluster = _required(values, "clusterName")
    region = _required(values, "awsRegion")
    eks_version = _required(values, "eksVersion")
    karpenter_version = str((values.get("karpenter") or {}).get("version") or "")
    if not karpenter_version:
        raise AnswerError("karpenter.version", "", "values.yaml at HEAD must name the Karpenter release to deploy")
    for path in (CLUSTER_CONFIG, CLOUDFORMATION):
        if path not in rendered.files:
            raise PreflightError(f"{path} is not in HEAD's rendered/: run ./eks-accelerator.sh render and commit it")
    config_meta = rendered.cluster.get("metadata") or {}
    if (config_meta.get("name"), config_meta.get("region")) != (cluster, region):
        raise PreflightError(
            f"{CLUSTER_CONFIG} names cluster {config_meta.get('name')!r} in "
            f"{config_meta.get('region')!r}, but values.yaml says {cluster!r} in {region!r}: "
            "rendered/ is out of date; run ./eks-accelerator.sh render and commit it"
        )
    account = str(values.get("awsAccountId") or "") or None
    return Target(
        repo=repo,
        head=head,
        subject=subject,
        cluster=cluster,
        region=region,
        account_id=account,
        eks_version=eks_version,
        karpenter_version=karpenter_version,
        rendered=rendered,
    )


def _required(values: dict, key: str) -> str:
    value = values.get(key)
    if value is None or str(value) == "":
        raise AnswerError(key, value, "values.yaml at HEAD must set it")
    return str(value)
