"""The generated workflows, executed by act with stand-ins for the remote actions (see
tests/workflow_runner.py): what a pull request and a merge really run, and what they say."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from generator.answers import Answers
from generator.scaffold import generate
from generator.values_edit import set_values
from tests.deploy_support import fakes_fixture  # noqa: F401 - the `fakes` fixture
from tests.workflow_runner import GIT, WorkflowRunner

pytestmark = pytest.mark.slow

# A pull request whose checks pass: the image built once, validated, planned, commented.
ALL_SUCCEEDED = {"toolchain": "succeeded", "validate": "succeeded", "plan": "succeeded", "comment": "succeeded"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(
        Answers.from_raw("demo", {"aws-account-id": "123456789012", "github-repo": "acme/demo"}),
        tmp_path_factory.mktemp("workflows"),
    )


@pytest.fixture
def runner(pristine, tmp_path) -> WorkflowRunner:
    repo = tmp_path / "demo"
    shutil.copytree(pristine, repo)
    return WorkflowRunner(repo, tmp_path)


def _branch(runner: WorkflowRunner, name: str, *edits: str, hand_edit: tuple[str, str, str] | None = None) -> None:
    subprocess.run([*GIT, "checkout", "--quiet", "-b", name], cwd=runner.repo, check=True)
    if edits:
        set_values(runner.repo, list(edits))
    if hand_edit:
        path, old, new = hand_edit
        target = runner.repo / path
        target.write_text(target.read_text().replace(old, new, 1))
    subprocess.run([*GIT, "commit", "--quiet", "-am", name], cwd=runner.repo, check=True)
    subprocess.run([*GIT, "checkout", "--quiet", "main"], cwd=runner.repo, check=True)


def test_a_clean_pull_request_is_validated_planned_and_commented(runner):
    _branch(runner, "more-cpu", "karpenter.nodePool.limits.cpu=2000")
    runner.open_pull_request(7, "more-cpu")
    run = runner.pull_request(7, "more-cpu")
    assert run.jobs == ALL_SUCCEEDED, run.log[-3000:]
    # validate and plan ran in the toolchain image the toolchain job built, as on GitHub
    assert run.log.count("eks-accelerator.sh: running in the toolchain image (EKS_ACCELERATOR_MODE=docker)") == 2
    assert "Loaded image: eks-toolchain:ci" in run.log
    comment = run.comments["eksgen-plan"]
    assert comment.startswith("<!-- eksgen-plan -->") and "in place: 1 action" in comment
    assert "apply rendered/manifests/nodepool.yaml" in comment


def test_a_pull_request_that_breaks_a_rule_fails_validate_with_an_annotation_and_no_comment(runner):
    _branch(runner, "no-limits", hand_edit=("rendered/manifests/nodepool.yaml", 'cpu: "1000"', 'cpu: "5000"'))
    runner.open_pull_request(8, "no-limits")
    run = runner.pull_request(8, "no-limits")
    assert run.jobs == {"toolchain": "succeeded", "validate": "failed"}, run.log[-3000:]
    assert "::error file=rendered/manifests/nodepool.yaml" in run.log
    assert run.comments == {}


def test_a_blocked_plan_fails_the_check_and_the_comment_says_why(runner):
    _branch(runner, "new-vpc", "vpc.cidr=10.20.0.0/16")
    runner.open_pull_request(9, "new-vpc")
    run = runner.pull_request(9, "new-vpc")
    assert run.jobs == {"toolchain": "succeeded", "validate": "succeeded", "plan": "failed", "comment": "succeeded"}, (
        run.log[-3000:]
    )
    comment = run.comments["eksgen-plan"]
    assert "BLOCKED" in comment and "vpc.cidr" in comment and "cannot change under a running cluster" in comment


def test_a_fork_pull_request_gets_no_comment_job_and_its_plan_in_the_log(runner):
    _branch(runner, "from-a-fork", "karpenter.nodePool.limits.cpu=2000")
    runner.open_pull_request(10, "from-a-fork")
    run = runner.pull_request(10, "from-a-fork", fork=True)
    assert run.jobs == {"toolchain": "succeeded", "validate": "succeeded", "plan": "succeeded"}, run.log[-3000:]
    assert run.comments == {}


def test_the_first_push_before_bootstrap_deploys_nothing_and_says_what_to_do(runner):
    run = runner.push_main()
    assert run.jobs == {"target": "succeeded"}, run.log[-3000:]
    assert "Not deployed: this repository is not bootstrapped yet" in run.log
    assert "eksgen bootstrap --repo ." in run.log


def test_a_push_after_bootstrap_deploys_through_the_toolchain_image(pristine, tmp_path, fakes, aws):
    """After bootstrap, a push runs the deploy job as on GitHub: the image built (the stand-in records it),
    the deploy role assumed (moto's credentials), then `./eks-accelerator.sh deploy` in the toolchain image,
    whose entrypoint eksgen drives the recording fakes of eksctl, helm and kubectl and the real aws CLI
    against moto (the fakes fixture, as in tests/test_deploy.py): the cluster is created and the deployed
    commit recorded on it."""
    repo = tmp_path / "demo"
    shutil.copytree(pristine, repo)
    runner = WorkflowRunner(repo, tmp_path, aws_endpoint=aws.endpoint)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    run = runner.push_main(
        {"AWS_DEPLOY_ROLE_ARN": "arn:aws:iam::123456789012:role/demo-github-deploy", "AWS_REGION": "us-west-2"}
    )
    assert run.jobs == {"target": "succeeded", "deploy": "succeeded"}, run.log[-3000:]
    assert "eks-accelerator.sh: running in the toolchain image (EKS_ACCELERATOR_MODE=docker)" in run.log
    assert any(line.startswith("eksctl create cluster") for line in fakes.changes())
    cluster = aws.client("eks").describe_cluster(name="demo")["cluster"]
    assert cluster["tags"]["eksgen.io/deployed-commit"] == head


def test_the_plan_goes_into_the_job_summary(pristine, tmp_path, cli_invoke, monkeypatch):
    """What a fork's pull request shows (GitHub's GITHUB_STEP_SUMMARY: markdown appended by a step)."""
    repo = tmp_path / "demo"
    shutil.copytree(pristine, repo)
    set_values(repo, ["karpenter.nodePool.limits.cpu=2000"])
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = cli_invoke("plan", "--repo", repo, "--base", "main", "--output", tmp_path / "plan.md")
    assert result.exit_code == 0, result.output
    assert summary.read_text().rstrip("\n") == (tmp_path / "plan.md").read_text().rstrip("\n")


def test_the_plan_of_a_bootstrapped_repository_starts_from_the_deployed_commit(pristine, tmp_path, aws):
    """With the read-only plan role (its stand-in gives the job moto's credentials), the plan job
    reads the commit the last deploy recorded on the cluster and plans from it: here a commit
    behind main, so the pull request's plan also shows what main has not deployed yet."""
    repo = tmp_path / "demo"
    shutil.copytree(pristine, repo)
    deployed = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    aws.client("eks").create_cluster(
        name="demo",
        version="1.35",
        roleArn="arn:aws:iam::123456789012:role/eksctl-demo-cluster-ServiceRole",
        resourcesVpcConfig={"subnetIds": []},
        tags={"eksgen.io/deployed-commit": deployed},
    )
    runner = WorkflowRunner(repo, tmp_path, aws_endpoint=aws.endpoint)
    set_values(repo, ["managedNodeGroup.maxSize=5"])  # merged to main, never deployed
    subprocess.run([*GIT, "commit", "--quiet", "-am", "bigger group"], cwd=repo, check=True)
    _branch(runner, "more-cpu", "karpenter.nodePool.limits.cpu=2000")
    runner.open_pull_request(11, "more-cpu")
    run = runner.pull_request(
        11,
        "more-cpu",
        variables={"AWS_PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/demo-github-plan", "AWS_REGION": "us-west-2"},
    )
    assert run.jobs == ALL_SUCCEEDED, run.log[-3000:]
    comment = run.comments["eksgen-plan"]
    assert f"Base `{deployed[:12]} (the commit deployed on cluster demo)`" in comment
    assert "eksctl scale nodegroup" in comment and "apply rendered/manifests/nodepool.yaml" in comment


def test_before_bootstrap_the_plan_says_it_starts_from_the_base_branch(runner):
    _branch(runner, "more-cpu", "karpenter.nodePool.limits.cpu=2000")
    runner.open_pull_request(12, "more-cpu")
    run = runner.pull_request(12, "more-cpu")
    assert (
        "no AWS credentials (the plan role is not set up): planned from the base branch" in run.comments["eksgen-plan"]
    )


def test_new_and_the_readme_give_the_first_steps_in_the_same_order(cli_invoke, tmp_path):
    result = cli_invoke("new", "ordered", "--github-repo", "acme/ordered", "--output-dir", tmp_path, "--no-input")
    assert result.exit_code == 0, result.output
    said = result.output.split("Next steps")[1]
    readme = (tmp_path / "ordered" / "README.md").read_text().split("## First steps")[1].split("## ")[0]
    for text in (said, readme):
        order = [text.lower().index(word) for word in ("bootstrap", "aws_deploy_role_arn", "environment", "push")]
        assert order == sorted(order), text
