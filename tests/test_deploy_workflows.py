"""The generated repository's deploy and destroy workflows, and the entrypoint commands they run.

The workflows are thin: check out, build the toolchain image (cached), assume the deploy role with OIDC,
run ./eks-accelerator.sh. In docker mode the entrypoint passes the AWS variables and the step summary
into the container; a fake `docker` records what it was asked to run.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from generator.answers import Answers
from generator.bootstrap import stack as bootstrap_stack
from generator.scaffold import generate
from tests.helpers import load_yaml

# Actions the workflows may use, by full commit SHA: each tag's commit in the action's repository
# (`git rev-parse TAG^{commit}` on a snapshot of it), all of them running on node24, the runners'
# default since GitHub's June 2026 change (runs.using in each action.yml at the tag).
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "docker/setup-buildx-action": ("37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0"),
    "docker/build-push-action": ("53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "actions/upload-artifact": ("043fb46d1a93c77aae656e7c1c64a875d1fc6a0a", "v7.0.1"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
}
WORKFLOWS = Path(".github/workflows")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return generate(
        Answers.from_raw("demo", {"environment": "prod eu", "aws-account-id": "123456789012"}),
        tmp_path_factory.mktemp("workflows"),
    )


def _workflow(repo: Path, name: str) -> tuple[dict, str]:
    path = repo / WORKFLOWS / name
    return load_yaml(path), path.read_text()


def _uses(workflow: dict) -> list[tuple[str, str]]:
    return [
        tuple(step["uses"].split("@")) for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step
    ]


@pytest.mark.parametrize("name", ["deploy.yml", "destroy.yml"])
def test_least_privilege_pinned_actions_oidc_only(repo, name):
    workflow, text = _workflow(repo, name)
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["target"]["permissions"] == {"contents": "read"}
    main = jobs[name.removesuffix(".yml")]
    assert main["permissions"] == {"contents": "read", "id-token": "write"}
    assert main["needs"] == "target" and main["environment"] == "${{ needs.target.outputs.environment }}"
    for action, sha in _uses(workflow):
        assert PINNED[action][0] == sha, action
        assert re.search(rf"uses: {re.escape(action)}@{sha} # {re.escape(PINNED[action][1])}\n", text)
    credentials = next(s for s in main["steps"] if s.get("uses", "").startswith("aws-actions/"))["with"]
    assert credentials["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials)
    assert "secrets." not in text, "no stored AWS keys or other secrets"
    for job in jobs.values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            if "run" in step:
                assert "${{" not in step["run"], "inputs and contexts reach run steps through env only"
    build = next(s for s in jobs["target"]["steps"] if s.get("uses", "").startswith("docker/build-push-action@"))
    assert (build["with"]["context"], build["with"]["push"], build["with"]["tags"], build["with"]["outputs"]) == (
        "toolchain",
        False,
        "eks-toolchain:ci",
        "type=docker,dest=${{ runner.temp }}/toolchain.tar",
    )
    build = build["with"]
    assert build["cache-from"] == "type=gha,scope=eks-toolchain"
    run = main["steps"][-1]
    assert run["env"]["EKS_ACCELERATOR_MODE"] == "docker" and run["env"]["EKS_ACCELERATOR_IMAGE"] == "eks-toolchain:ci"


def test_deploy_runs_on_merges_that_change_the_cluster_one_at_a_time(repo):
    deploy, _ = _workflow(repo, "deploy.yml")
    destroy, _ = _workflow(repo, "destroy.yml")
    triggers = deploy["on"]
    assert triggers["push"] == {
        "branches": ["main"],
        "paths": ["values.yaml", "charts/**", "rendered/**", "toolchain/**"],
    }
    assert "workflow_dispatch" in triggers and "pull_request" not in triggers
    assert (
        deploy["concurrency"]
        == destroy["concurrency"]
        == {"group": "cluster-${{ github.repository }}", "cancel-in-progress": False, "queue": "max"}
    )
    steps = deploy["jobs"]["deploy"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0, "the deployed commit must be in the clone's history"
    # the image is built once, by the target job, and the deploy job loads it
    target = deploy["jobs"]["target"]["steps"]
    build = next(s for s in target if s.get("uses", "").startswith("docker/build-push-action@"))["with"]
    assert build["cache-to"] == "type=gha,scope=eks-toolchain,mode=max", "only main's deploys write the cache"
    assert not any(s.get("uses", "").startswith("docker/build-push-action@") for s in steps)
    assert any(s.get("run", "").startswith("docker load --input") for s in steps)
    assert steps[-1]["run"] == "./eks-accelerator.sh deploy"


def test_a_pending_destroy_is_queued_behind_never_replaced_by_a_later_deploy(repo, tmp_path):
    """GitHub keeps one pending run per concurrency group and cancels it when another arrives, unless the
    group has `queue: max` (GitHub changelog 2026-05-07; docs "Control the concurrency of workflows and
    jobs": values single|max, max only without cancel-in-progress). Deploy and destroy share one group
    with `queue: max`. actionlint v1.7.12 does not know the key (rhysd/actionlint#657): without the
    repository's .github/actionlint.yaml it reports exactly that message on both workflows; with it, nothing,
    while another unknown key is still reported. The value itself is checked by the hygiene check."""
    from generator.validate import workflow_rules

    bare = tmp_path / "bare"
    (bare / ".github").mkdir(parents=True)
    subprocess.run(["cp", "-r", str(repo / WORKFLOWS), str(bare / WORKFLOWS)], check=True)
    subprocess.run(["git", "init", "--quiet", str(bare)], check=True)  # actionlint finds .github from the root
    plain = subprocess.run(["actionlint", "-oneline"], cwd=bare, capture_output=True, text=True)
    lines = plain.stdout.strip().splitlines()
    assert len(lines) == 2 and all('unexpected key "queue" for "concurrency" section' in line for line in lines)
    assert {line.split(":")[0] for line in lines} == {f"{WORKFLOWS}/deploy.yml", f"{WORKFLOWS}/destroy.yml"}
    assert subprocess.run(["actionlint"], cwd=repo, capture_output=True).returncode == 0

    edited = repo.parent / "edited"
    subprocess.run(["cp", "-r", str(repo), str(edited)], check=True)
    deploy = edited / WORKFLOWS / "deploy.yml"
    deploy.write_text(deploy.read_text().replace("  queue: max\n", "  queue: max\n  queued: yes\n"))
    assert (
        'unexpected key "queued"' in subprocess.run(["actionlint"], cwd=edited, capture_output=True, text=True).stdout
    )
    for wrong, rule in (("queue: maxx", "must be one of single, max"), ("queue: max\n  cancel-in-progress: true", "")):
        deploy.write_text(
            (repo / WORKFLOWS / "deploy.yml")
            .read_text()
            .replace("  cancel-in-progress: false\n  queue: max", "  " + wrong)
        )
        found = workflow_rules.run(edited, [f"{WORKFLOWS}/deploy.yml"])
        assert len(found) == 1, (found, deploy.read_text()[:1500])
        (finding,) = found
        assert (
            finding.file == f"{WORKFLOWS}/deploy.yml"
            and (rule or "only with cancel-in-progress false") in finding.message
        )
    assert workflow_rules.run(repo, [f"{WORKFLOWS}/deploy.yml", f"{WORKFLOWS}/destroy.yml"]) == []


def test_destroy_is_dispatched_with_the_cluster_name_typed_out(repo):
    destroy, _ = _workflow(repo, "destroy.yml")
    assert set(destroy["on"]) == {"workflow_dispatch"}
    confirm = destroy["on"]["workflow_dispatch"]["inputs"]["confirm"]
    assert confirm["required"] is True and confirm["type"] == "string"
    step = destroy["jobs"]["destroy"]["steps"][-1]
    assert step["env"]["CONFIRM"] == "${{ inputs.confirm }}"
    assert step["run"] == './eks-accelerator.sh destroy --confirm "${CONFIRM}"'
    build = next(s for s in destroy["jobs"]["target"]["steps"] if s.get("uses", "").startswith("docker/build"))
    assert "cache-to" not in build["with"]


def test_actionlint_and_pedantic_zizmor_are_clean(repo):
    for command in (
        ["actionlint", "-no-color"],
        ["zizmor", "--offline", "--persona", "pedantic", "--no-progress", str(WORKFLOWS)],
    ):
        result = subprocess.run(command, cwd=repo, capture_output=True, text=True)
        assert result.returncode == 0, f"{command[0]}: {result.stdout}{result.stderr}"
    assert "No findings to report" in result.stdout


def test_the_environment_comes_from_values_yaml(repo):
    result = subprocess.run(["./eks-accelerator.sh", "environment"], cwd=repo, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "prod eu\n")


# ---- docker mode ---------------------------------------------------------------------------------
@pytest.fixture
def docker(tmp_path, monkeypatch) -> Path:
    """A fake `docker` first on PATH that records its arguments, one invocation per line."""
    folder, log = tmp_path / "docker-bin", tmp_path / "docker.log"
    folder.mkdir()
    (folder / "docker").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n')
    (folder / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


def _entrypoint(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_", "EKS_ACCELERATOR_"))}
    return subprocess.run(
        ["./eks-accelerator.sh", *args], cwd=repo, env={**keep, **env}, capture_output=True, text=True
    )


def test_docker_mode_passes_aws_variables_and_the_step_summary(repo, docker, tmp_path):
    summary = tmp_path / "runner" / "_temp" / "step_summary_1"
    env = {
        "EKS_ACCELERATOR_MODE": "docker",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTIONS": "true",
        "AWS_ACCESS_KEY_ID": "AKIA",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "AWS_REGION": "us-west-2",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
    }
    result = _entrypoint(repo, env, "deploy", "--wait-timeout", "60")
    assert result.returncode == 0, result.stderr
    build, run = docker.read_text().splitlines()
    assert build == f"build --quiet --tag eks-toolchain:local {repo}/toolchain"
    for name in (
        "GITHUB_ACTIONS",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "GITHUB_STEP_SUMMARY",
    ):
        assert f" --env {name} " in run, name
    assert "secret" not in run and "AKIA" not in run, "values stay in the environment, not on the command line"
    assert f" --volume {summary.parent}:{summary.parent} " in run
    assert " --env HOME=/tmp " in run
    assert run.endswith("eks-toolchain:local deploy --repo . --wait-timeout 60")


def test_docker_mode_runs_a_given_image_without_building(repo, docker):
    result = _entrypoint(
        repo,
        {"EKS_ACCELERATOR_MODE": "docker", "EKS_ACCELERATOR_IMAGE": "eks-toolchain:ci"},
        "destroy",
        "--confirm",
        "demo",
    )
    assert result.returncode == 0, result.stderr
    (run,) = docker.read_text().splitlines()
    assert run.startswith("run --rm ") and "GITHUB_STEP_SUMMARY" not in run
    assert run.endswith("eks-toolchain:ci destroy --repo . --confirm demo")


def test_without_the_deploy_tools_the_entrypoint_uses_docker(repo, docker, tmp_path):
    """eksgen and helm alone are enough for render, not for deploy: that runs in the image."""
    folder = tmp_path / "only"
    folder.mkdir()
    for tool in ("eksgen", "helm"):
        (folder / tool).write_text("#!/bin/sh\necho native\n")
        (folder / tool).chmod(0o755)
    env = {"PATH": f"{docker.parent / 'docker-bin'}{os.pathsep}{folder}{os.pathsep}/usr/bin:/bin"}
    assert _entrypoint(repo, env, "render").stdout == "native\n"
    assert _entrypoint(repo, env, "status").returncode == 0
    assert docker.read_text().splitlines()[-1].endswith("eks-toolchain:local status --repo .")


def test_item_20_the_credentials_last_as_long_as_the_job(repo):
    """configure-aws-credentials ends the session after role-duration-seconds (default 3600; its
    README at v6.2.3), and GitHub ends the job after timeout-minutes: a deploy that runs longer than
    its session fails mid-step. The bootstrap role allows 3 h (MaxSessionDuration 10800)."""

    checked = 0
    for path in sorted((repo / WORKFLOWS).glob("*.yml")):
        for job in load_yaml(path)["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                    seconds = int(step["with"].get("role-duration-seconds", 3600))  # the action's default
                    assert job["timeout-minutes"] * 60 <= seconds <= bootstrap_stack.DEPLOY_SESSION_SECONDS, path.name
                    checked += 1
    assert checked >= 3  # deploy, destroy, and the plan's read-only role
