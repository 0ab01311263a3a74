"""The deployed state, recorded on the cluster itself as two tags of the EKS cluster.

- `eksgen.io/deployed-commit`: the commit of the last deploy that completed every step. The next
  deploy plans from it (not from "the previous commit"), so a failed deploy is repaired by running
  it again, and a later merge also carries what an earlier failed one missed.
- `eksgen.io/cluster-commit`: the commit whose ClusterConfig the cluster was last brought to (after
  `eksctl create cluster`, or after the ClusterConfig changes of a deploy). eksctl does not
  reconcile a ClusterConfig, so the cluster's own actions are planned from this commit: a deploy
  that failed after changing the cluster does not change it twice.

Tags live and die with the cluster: `destroy` leaves no record behind, the deploy role may write
them (eks:TagResource on this cluster), and the read-only plan role sees them in describe-cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from generator.deploy.live import Live
from generator.deploy.shell import Runner
from generator.deployed import CLUSTER, DEPLOYED

KEYS = (DEPLOYED, CLUSTER)


@dataclass(frozen=True)
class Record:
    deployed: str | None  # last complete deploy
    cluster: str | None  # last ClusterConfig applied

    @property
    def cluster_base(self) -> str | None:
        return self.cluster or self.deployed


def read(cluster: dict | None) -> Record:
    tags = (cluster or {}).get("tags") or {}
    return Record(tags.get(DEPLOYED) or None, tags.get(CLUSTER) or None)


def write(runner: Runner, live: Live, **commits: str) -> bool:
    """Tag the cluster with the given commits (deployed=..., cluster=...); False when they are already there."""
    described = live.cluster()
    if described is None:
        raise AssertionError("the record is written only on a cluster that exists")
    keys = {"deployed": DEPLOYED, "cluster": CLUSTER}
    wanted = {keys[name]: commit for name, commit in commits.items()}
    current = described.get("tags") or {}
    if all(current.get(key) == value for key, value in wanted.items()):
        return False
    runner.change(
        [
            "aws",
            "eks",
            "tag-resource",
            "--region",
            live.target.region,
            "--resource-arn",
            described["arn"],
            "--tags",
            json.dumps(wanted, sort_keys=True),
        ]
    )
    live.invalidate("cluster")
    return True
