"""`eksgen deploy`, `status` and `destroy`: operate the one cluster a repository describes.

A deploy makes the cluster what rendered/ at HEAD says, with eksctl, the aws CLI, helm and kubectl,
and needs no human at a terminal:

- preflight.py  values.yaml's awsAccountId (required), the tools at their pinned versions, the AWS
                identity (another account than awsAccountId is refused), the region, a clean working tree;
- record.py     the deployed state, recorded as tags of the EKS cluster: the plan runs from the last
                deploy that completed, not from "the previous commit";
- run.py        plans from that record (generator.plan), refuses blockers before any change, runs
                the steps and writes the report (log lines, GitHub step summary);
- steps.py      the steps in order, each reading the live state (live.py) first and changing only
                what differs, so that running a deploy again converges and changes nothing when
                nothing changed; guards.py holds the checks of the ClusterConfig actions;
- status.py     the live cluster next to rendered/; destroy.py deletes everything a deploy created.
"""

from __future__ import annotations

from generator.deploy.destroy import destroy
from generator.deploy.run import deploy
from generator.deploy.status import Status, status

__all__ = ["Status", "deploy", "destroy", "status"]
