"""`eksgen validate REPO REPO...`: repositories validated in parallel processes, one summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.answers import Answers
from generator.errors import EksgenError
from generator.scaffold import generate
from generator.validate import check_names, many

ALL_CHECKS = check_names()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("many", {}), tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def repos(pristine, tmp_path) -> list[Path]:
    """Three copies of a fresh repository; the second has a value its schema rejects."""
    copies = []
    for name in ("alpha", "broken", "gamma"):
        copies.append(tmp_path / name)
        shutil.copytree(pristine, copies[-1])
    values = copies[1] / "values.yaml"
    text = values.read_text()
    assert "  maxSize: 3\n" in text
    values.write_text(text.replace("  maxSize: 3\n", "  maxSize: three\n"))
    return copies


def test_several_repos_give_one_table_and_one_failing_repo_fails_the_run(cli_invoke, repos, schemas):
    result = cli_invoke("validate", *repos, "--schemas", schemas, "--jobs", "2")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "RESULT", "SECONDS", "FAILING", "CHECKS"]
    rows = [line.split(maxsplit=3) for line in lines[1:4]]
    assert [row[0] for row in rows] == [str(r) for r in repos]  # in the order given
    assert [row[1] for row in rows] == ["PASS", "FAIL", "PASS"]
    assert all(float(row[2]) > 0 for row in rows)
    assert [row[3] for row in rows] == ["-", "values, render", "-"]  # helm rejects it too
    assert lines[4].startswith("3 repositories: 2 passed, 1 failed;")
    assert "2 worker processes" in lines[4]
    assert f"Error: 1 of 3 repositories failed: {repos[1]}" in result.output
    assert "PASS  values" not in result.output  # the per-check report is for one repository


def test_json_is_a_list_with_one_report_per_repo(cli_invoke, repos, schemas):
    result = cli_invoke("validate", *repos, "--schemas", schemas, "--format", "json", "--jobs", "2")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [r["repo"] for r in report] == [str(r) for r in repos]
    assert [r["passed"] for r in report] == [True, False, True]
    assert report[1]["failed_checks"] == ["values", "render"]
    for entry in report:
        assert [c["check"] for c in entry["checks"]] == ALL_CHECKS
        assert entry["error"] is None and entry["seconds"] > 0
    (values,) = [c for c in report[1]["checks"] if c["check"] == "values"]
    assert "'three' is not of type 'integer'" in values["findings"][0]["message"]


def test_one_repo_keeps_the_detailed_report(cli_invoke, repos, schemas):
    result = cli_invoke("validate", repos[1], "--schemas", schemas, "--only", "values,policy")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL  values ")
    assert "'three' is not of type 'integer'" in lines[1]
    assert lines[2].startswith("PASS  policy ")
    assert "REPOSITORY" not in result.output
    assert "Error: failed checks: values" in result.output


def test_only_and_skip_apply_to_every_repo(repos, schemas):
    report = many.validate_many(repos, only=["values", "policy"], skip=["policy"], schemas=schemas, jobs=2)
    assert [[c.name for c in r.checks] for r in report.results] == [["values"]] * 3
    assert [r.passed for r in report.results] == [True, False, True]
    assert report.failed == [repos[1]]


def test_one_job_validates_in_this_process_with_the_same_verdicts(repos, schemas):
    report = many.validate_many(repos, skip=["hygiene"], schemas=schemas, jobs=1)
    assert report.jobs == 1
    assert [r.failed_checks for r in report.results] == [[], ["values", "render"], []]
    assert "in this process" in report.lines()[-1]


def test_an_unknown_check_is_refused_before_any_repo_is_validated(cli_invoke, repos, schemas):
    result = cli_invoke("validate", *repos, "--schemas", schemas, "--only", "valeus")
    assert result.exit_code == 2
    assert "unknown check 'valeus'" in result.output
    assert "REPOSITORY" not in result.output
    with pytest.raises(EksgenError, match="unknown check"):
        many.validate_many(repos, skip=["nope"])


def test_a_directory_that_is_no_repository_fails_its_row_only(cli_invoke, repos, schemas, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli_invoke("validate", repos[0], empty, "--schemas", schemas, "--only", "values,render")
    assert result.exit_code == 1
    rows = [line.split(maxsplit=3) for line in result.stdout.splitlines()[1:3]]
    assert rows[0][:2] == [str(repos[0]), "PASS"]
    assert rows[1][:2] == [str(empty), "FAIL"] and rows[1][3] == "values, render"
