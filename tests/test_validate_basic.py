"""`eksgen validate` (values and render checks) and `eksgen render --check` on a real repo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.answers import Answers
from generator.scaffold import generate


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("val", {}), tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    copy = tmp_path / "val"
    shutil.copytree(pristine, copy)
    return copy


def test_a_fresh_repo_passes_every_check(cli_invoke, repo, schemas):
    result = cli_invoke("validate", repo, "--schemas", schemas)
    assert result.exit_code == 0, result.output
    for check in ("values", "render", "eksctl", "kubeconform", "apiserver", "policy", "hygiene"):
        assert f"PASS  {check}" in result.output


def test_a_misspelt_key_is_named_with_file_and_line(cli_invoke, repo):
    values = repo / "values.yaml"
    text = values.read_text().replace("    consolidateAfter: 1m", "    consolidateAftr: 1m")
    values.write_text(text)
    line = text.splitlines().index("    consolidateAftr: 1m") + 1
    result = cli_invoke("validate", repo, "--only", "values")
    assert result.exit_code == 1
    assert f"values.yaml:{line}: karpenter.nodePool.consolidateAftr: unknown key" in result.output


def test_a_bad_value_is_named_with_its_line(cli_invoke, repo):
    values = repo / "values.yaml"
    text = values.read_text().replace("  maxSize: 3", "  maxSize: three")
    values.write_text(text)
    line = text.splitlines().index("  maxSize: three") + 1
    result = cli_invoke("validate", repo, "--only", "values", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output.split("\nError:")[0])
    assert report["passed"] is False
    (check,) = report["checks"]
    assert check["check"] == "values" and not check["passed"]
    assert check["findings"][0]["line"] == line
    assert "'three' is not of type 'integer'" in check["findings"][0]["message"]


def test_a_hand_edit_to_rendered_is_caught(cli_invoke, repo):
    pool = repo / "rendered/manifests/nodepool.yaml"
    pool.write_text(pool.read_text().replace('cpu: "1000"', 'cpu: "2000"'))
    result = cli_invoke("validate", repo, "--only", "values,render")
    assert result.exit_code == 1
    assert "FAIL  render" in result.output
    assert "rendered/manifests/nodepool.yaml: differs from what helm renders" in result.output
    assert cli_invoke("validate", repo, "--only", "values,render", "--skip", "render").exit_code == 0

    check = cli_invoke("render", "--repo", repo, "--check")
    assert check.exit_code == 1 and "rendered/manifests/nodepool.yaml: changed" in check.output


def test_render_rewrites_rendered_from_values(cli_invoke, repo):
    values = repo / "values.yaml"
    values.write_text(values.read_text().replace('      cpu: "1000"', '      cpu: "2000"'))
    (repo / "rendered/manifests/stray.yaml").write_text("kind: Stray\n")
    assert cli_invoke("render", "--repo", repo, "--check").exit_code == 1
    assert cli_invoke("render", "--repo", repo).exit_code == 0
    assert 'cpu: "2000"' in (repo / "rendered/manifests/nodepool.yaml").read_text()
    assert not (repo / "rendered/manifests/stray.yaml").exists()
    assert cli_invoke("render", "--repo", repo, "--check").exit_code == 0
    assert sorted(p.name for p in repo.iterdir() if p.name.startswith(".rendered")) == []


def test_a_value_the_schema_rejects_fails_render_with_helms_message(cli_invoke, repo):
    values = repo / "values.yaml"
    values.write_text(values.read_text().replace("natGateway: Single", "natGateway: Double"))
    result = cli_invoke("render", "--repo", repo)
    assert result.exit_code == 1
    assert "natGateway" in result.output
    assert (repo / "rendered/eksctl/cluster.yaml").is_file(), "a failed render keeps the old rendered/"


def test_missing_schemas_are_an_error_not_a_skip(cli_invoke, repo, tmp_path, monkeypatch):
    monkeypatch.delenv("EKSGEN_SCHEMAS", raising=False)
    empty = tmp_path / "no-schemas"
    empty.mkdir()
    result = cli_invoke("validate", repo, "--only", "eksctl", "--schemas", empty)
    assert result.exit_code == 1
    assert "eksctl schema not found" in result.output


def test_unknown_check_names_are_refused(cli_invoke, repo):
    result = cli_invoke("validate", repo, "--only", "vibes")
    assert result.exit_code == 2 and "unknown check 'vibes'" in result.output


def test_github_annotations_when_running_in_actions(cli_invoke, repo, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    values = repo / "values.yaml"
    values.write_text(values.read_text().replace("  natGateway: Single", "  natGatewy: Single"))
    result = cli_invoke("validate", repo, "--only", "values")
    assert "::error file=values.yaml,line=" in result.output
