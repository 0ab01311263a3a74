"""`eksgen plan` scenarios on real git repositories, each kept as a golden markdown file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator import plan as plan_module
from generator.answers import Answers
from generator.plan import markdown
from generator.scaffold import generate
from generator.values_edit import set_values
from tests.helpers import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "plan"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("plans")
    return {
        "default": generate(Answers.from_raw("plan-demo", {"aws-account-id": "111122223333"}), base / "a"),
        "1.34": generate(Answers.from_raw("plan-demo", {"k8s-version": "1.34"}), base / "b"),
        "1.33": generate(Answers.from_raw("plan-demo", {"k8s-version": "1.33"}), base / "c"),
    }


def _scenario(
    pristine: dict[str, Path],
    tmp_path: Path,
    edits: list[str],
    source: str = "default",
    rename_group: str | None = None,
) -> Path:
    repo = tmp_path / "plan-demo"
    shutil.copytree(pristine[source], repo)
    if rename_group:  # a node group added and one removed: the only group gets a new name
        edits = [*edits, f"managedNodeGroup.name={rename_group}"]
    if edits:
        set_values(repo, edits)
    return repo


def _plan(repo: Path, schemas: Path):
    return plan_module.build(repo, "main", schemas=schemas)


def _golden(name: str, text: str) -> None:
    assert_golden(GOLDEN / f"{name}.md", text)


def _phases(plan) -> list[tuple[str, str]]:
    return [(a.phase, a.title) for a in plan.actions]


def test_no_change_is_a_no_op(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, []), schemas)
    assert plan.kind == "no-op" and plan.actions == [] and plan.files == []
    _golden("no-change", markdown.render(plan))


def test_nodepool_limit_change_applies_in_place(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, ["karpenter.nodePool.limits.cpu=2000"]), schemas)
    assert plan.kind == "in-place"
    assert _phases(plan) == [("manifests", "apply rendered/manifests/nodepool.yaml")]
    assert [(i.change, i.effect) for i in plan.karpenter.impacts] == [("spec.limits.cpu", "in-place")]
    assert plan.karpenter.budgets == []
    _golden("nodepool-limit", markdown.render(plan))


def test_instance_families_change_drifts_nodes(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, ["karpenter.nodePool.instanceCategories=[c, m]"]), schemas)
    assert plan.kind == "disruptive"
    assert [(i.object, i.change, i.effect) for i in plan.karpenter.impacts] == [
        ("NodePool/default", "requirements", "drift")
    ]
    assert plan.karpenter.budgets == [{"nodePool": "default", "budgets": [{"nodes": "10%"}]}]
    _golden("instance-families", markdown.render(plan))


def test_kubernetes_minor_upgrade_runs_control_plane_addons_node_groups_in_order(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, ["eksVersion=1.35"], source="1.34"), schemas)
    assert plan.kind == "disruptive" and plan.blockers == []
    addons = ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]
    assert _phases(plan) == [
        ("control-plane", "upgrade the control plane from 1.34 to 1.35"),
        *(("addons", f"update add-on {name} to latest for Kubernetes 1.35") for name in addons),
        ("node-groups", "upgrade node group system to Kubernetes 1.35"),
    ]
    assert plan.actions[1].command == [
        "eksctl",
        "update",
        "addon",
        "--cluster",
        "plan-demo",
        "--region",
        "us-west-2",
        "--name",
        "vpc-cni",
        "--version",
        "latest",
        "--wait",
    ]
    assert plan.actions[0].command == [
        "eksctl",
        "upgrade",
        "cluster",
        "--config-file",
        "rendered/eksctl/cluster.yaml",
        "--approve",
    ]
    assert ("EC2NodeClass/default", "drift") in [(i.object, i.effect) for i in plan.karpenter.impacts]
    _golden("kubernetes-1.34-to-1.35", markdown.render(plan))


def test_skipping_a_kubernetes_minor_is_blocked(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, ["eksVersion=1.35"], source="1.33"), schemas)
    assert plan.kind == "blocked"
    (blocker,) = plan.blockers
    assert (blocker.field, blocker.before, blocker.after) == ("metadata.version", "1.33", "1.35")
    assert "one minor version at a time" in blocker.reason and "eksVersion=1.34" in blocker.manual
    _golden("kubernetes-1.33-to-1.35", markdown.render(plan))


def test_node_group_added_and_removed(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, [], rename_group="workers"), schemas)
    assert plan.kind == "disruptive"
    assert _phases(plan) == [
        ("node-groups", "create node group workers"),
        ("node-group-removals", "drain and delete node group system"),
    ]
    assert plan.actions[0].command[-2:] == ["--include", "workers"]
    assert "--drain=true" in plan.actions[1].command
    _golden("node-group-added-and-removed", markdown.render(plan))


def test_vpc_cidr_change_is_blocked(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, ["vpc.cidr=10.20.0.0/16"]), schemas)
    assert plan.kind == "blocked"
    assert [b.field for b in plan.blockers] == ["vpc.cidr"]
    assert plan.blockers[0].before == "10.10.0.0/16" and plan.blockers[0].after == "10.20.0.0/16"
    _golden("vpc-cidr", markdown.render(plan))


def test_json_carries_the_same_content(pristine, tmp_path, schemas, cli_invoke):
    repo = _scenario(pristine, tmp_path, ["eksVersion=1.35"], source="1.34")
    result = cli_invoke("plan", "--base", "main", "--repo", repo, "--format", "json", "--schemas", schemas)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"]["kind"] == "disruptive"
    assert [a["order"] for a in data["actions"]] == [1, 2, 3, 4, 5, 6, 7]
    assert data["actions"][0]["command"][:3] == ["eksctl", "upgrade", "cluster"]
    assert {f["path"] for f in data["files"]} == {"rendered/eksctl/cluster.yaml"}
    assert data["karpenter"]["replacesNodes"] is True


def test_plan_against_a_committed_base_branch(pristine, tmp_path, schemas, cli_invoke):
    repo = _scenario(pristine, tmp_path, [])
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "checkout", "-q", "-b", "bigger"], check=True)
    set_values(repo, ["managedNodeGroup.maxSize=5", "managedNodeGroup.desiredCapacity=3"])
    subprocess.run([*git, "commit", "-qam", "bigger"], check=True)
    result = cli_invoke("plan", "--base", "main", "--repo", repo, "--output", tmp_path / "plan.md")
    assert result.exit_code == 0 and result.output.startswith("in place: 1 action")
    text = (tmp_path / "plan.md").read_text()
    assert text.startswith(markdown.MARKER)
    assert "eksctl scale nodegroup --cluster plan-demo --region us-west-2 --name system --nodes 3" in text


def test_unknown_base_ref_is_a_clear_error(pristine, tmp_path, cli_invoke):
    repo = _scenario(pristine, tmp_path, [])
    result = cli_invoke("plan", "--base", "no-such-branch", "--repo", repo)
    assert result.exit_code == 1 and "--base 'no-such-branch': not a commit" in result.output


def test_tag_change_tags_the_cluster_and_blocks_nothing(pristine, tmp_path, schemas):
    plan = _plan(_scenario(pristine, tmp_path, ["tags={team: platform}"]), schemas)
    assert plan.blockers == []
    tag = next(a for a in plan.actions if a.phase == "tags")
    assert tag.command[:3] == ["aws", "eks", "tag-resource"] and tag.command[-1] == '{"team": "platform"}'
    assert ("EC2NodeClass/default", "spec.tags.team", "drift") in [
        (i.object, i.change, i.effect) for i in plan.karpenter.impacts
    ]
    _golden("tags", markdown.render(plan))
