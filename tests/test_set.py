"""`eksgen set`: round-trip edits of values.yaml that keep comments and layout, or change nothing."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from generator import versions
from generator.answers import Answers
from generator.scaffold import generate
from tests.helpers import load_yaml


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    # one minor below the newest, so that the edit below is an upgrade
    return generate(Answers.from_raw("setme", {"k8s-version": "1.34"}), tmp_path_factory.mktemp("set"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    copy = tmp_path / "setme"
    shutil.copytree(pristine, copy)
    return copy


def _snapshot(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_edits_change_only_their_lines_and_keep_every_comment(cli_invoke, repo):
    before = (repo / "values.yaml").read_text()
    result = cli_invoke(
        "set",
        "--repo",
        repo,
        "eksVersion=1.35",
        "karpenter.nodePool.limits.cpu=2000",
        "karpenter.nodePool.capacityTypes=[on-demand]",
    )
    assert result.exit_code == 0, result.output
    after = (repo / "values.yaml").read_text()
    assert _changed_lines(before, after) == [
        '-eksVersion: "1.34"',
        '+eksVersion: "1.35"',
        '-    capacityTypes: ["spot", "on-demand"]',
        '+    capacityTypes: ["on-demand"]',
        '-      cpu: "1000"',
        '+      cpu: "2000"',
    ]
    assert [line for line in before.splitlines() if line.lstrip().startswith("#")] == [
        line for line in after.splitlines() if line.lstrip().startswith("#")
    ]
    values = load_yaml(repo / "values.yaml")
    assert values["eksVersion"] == "1.35" and values["karpenter"]["nodePool"]["limits"]["cpu"] == "2000"
    nodepool = (repo / "rendered/manifests/nodepool.yaml").read_text()
    assert 'values: ["on-demand"]' in nodepool and 'cpu: "2000"' in nodepool
    assert 'version: "1.35"' in (repo / "rendered/eksctl/cluster.yaml").read_text()
    assert cli_invoke("render", "--repo", repo, "--check").exit_code == 0


def test_strings_that_yaml_would_retype_stay_strings(cli_invoke, repo):
    result = cli_invoke("set", "--repo", repo, "environment=yes", "tags={on: '0123', note: 'a: b = c'}")
    assert result.exit_code == 0, result.output
    text = (repo / "values.yaml").read_text()
    assert 'environment: "yes"' in text and 'tags: {"on": "0123", "note": "a: b = c"}' in text
    assert load_yaml(repo / "values.yaml")["tags"] == {"on": "0123", "note": "a: b = c"}


def test_a_new_key_in_a_list_item_lands_inside_its_block(cli_invoke, repo):
    result = cli_invoke("set", "--repo", repo, "addons[4].version=v1.40.0-eksbuild.1")
    assert result.exit_code == 0, result.output
    assert (
        '    useDefaultPodIdentityAssociations: true\n    version: "v1.40.0-eksbuild.1"\n\npolicy:'
        in (repo / "values.yaml").read_text()
    )


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("karpenter.nodePool.limits.cpux=1", "karpenter.nodePool.limits.cpux: unknown key"),
        ("vpc.natGateway=Double", "'Double' is not one of"),
        ("managedNodeGroup.maxSize=three", "'three' is not of type 'integer'"),
        ("eksVersion=1.30", "'1.30' is not one of"),
        ("addons[9].version=x", "no such list item"),
        ("no-equals-sign", "must be KEY=VALUE"),
        ("bad key=1", "must be KEY=VALUE"),
        ("tags=[unclosed", "not a YAML value"),
    ],
)
def test_a_bad_edit_changes_nothing(cli_invoke, repo, assignment, message):
    before = _snapshot(repo)
    result = cli_invoke("set", "--repo", repo, "karpenter.nodePool.limits.cpu=2000", assignment)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _snapshot(repo) == before, "values.yaml and rendered/ must be byte for byte unchanged"


def test_an_edit_helm_rejects_changes_nothing(cli_invoke, repo):
    before = _snapshot(repo)
    # the schema allows any pinned Karpenter, but the chart's helper fails on an unknown one
    schema = repo / "charts/eks-complete/values.schema.json"
    pinned = f'"type": "string", "enum": {json.dumps(list(versions.KARPENTER))}'
    assert pinned in schema.read_text()
    schema.write_text(schema.read_text().replace(pinned, '"type": "string"'))
    before["charts/eks-complete/values.schema.json"] = schema.read_bytes()
    result = cli_invoke("set", "--repo", repo, "karpenter.version=9.9.9")
    assert result.exit_code == 1
    assert "no controller policies known for this release" in result.output
    assert _snapshot(repo) == before
