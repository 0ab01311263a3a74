"""`eksgen update`: repositories of eksgen 0.1.0 (built from this project's own history, commit e7e0e74)
updated to this eksgen, with their owners' edits kept; conflicts, dropped files, dry runs, fleets."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

import generator
from generator.answers import Answers
from generator.scaffold import generate
from generator.update import migrations
from tests import eksctl_oracle as oracle

eksctl_oracle = oracle.eksctl_oracle  # the session fixture, registered for this module
ROOT = Path(__file__).resolve().parents[1]
OLD = "e7e0e74"  # eksgen 0.1.0, before any fix of this round
BRANCH = f"eksgen-update-{generator.__version__}"
CONFIG = "rendered/eksctl/cluster.yaml"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=Owner", "-c", "user.email=owner@example.com", "commit", "--quiet", "-m", message)


@pytest.fixture(scope="session")
def old_repo(tmp_path_factory) -> Path:
    """A repository made by eksgen 0.1.0: its source from `git archive e7e0e74` of this project, its `new` run
    with this venv's python (0.1.0's generator reads nothing outside its tree; the reference data folder
    only served its tests). Defaults of 0.1.0: Kubernetes 1.31, Karpenter 1.14.1, fixed zones and subnets."""
    work = tmp_path_factory.mktemp("eksgen-0.1.0")
    source = work / "src"
    source.mkdir()
    archive = subprocess.run(["git", "archive", OLD], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    env = dict(os.environ, PYTHONPATH=str(source), GIT_AUTHOR_NAME="eksgen", GIT_AUTHOR_EMAIL="e@x")
    env |= {"GIT_COMMITTER_NAME": "eksgen", "GIT_COMMITTER_EMAIL": "e@x"}
    args = ["new", "demo", "--no-input", "--output-dir", str(work / "out"), "--aws-account-id", "123456789012"]
    # cwd: `python -m` puts it first on sys.path, where this project's own generator/ must not be
    subprocess.run(
        [sys.executable, "-m", "generator", *args, "--github-repo", "acme/demo"], env=env, cwd=work, check=True
    )
    repo = work / "out" / "demo"
    assert yaml.safe_load((repo / ".eksgen.yaml").read_text())["generator"]["version"] == "0.1.0"
    return repo


@pytest.fixture
def repo(old_repo, tmp_path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(old_repo, copy, symlinks=True)
    return copy


def state(repo: Path) -> tuple:
    """Everything an update could change: refs, index, status, and every file's bytes."""
    files = hashlib.sha256()
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts):
        files.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return (
        git(repo, "show-ref"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "worktree", "list", "--porcelain"),
        files.hexdigest(),
    )


def edit_values(repo: Path) -> None:
    text = (repo / "values.yaml").read_text()
    text = text.replace("  maxSize: 3\n", "  maxSize: 5 # peak season, ticket OPS-42\n")
    text = text.replace('      cpu: "1000"\n', '      # finance approved 2000 cores\n      cpu: "2000"\n')
    (repo / "values.yaml").write_text(text)


@pytest.mark.slow
def test_a_0_1_0_repository_updates_with_user_edits_kept_and_eksctl_accepts_it(repo, cli_invoke, eksctl_oracle):
    edit_values(repo)
    with (repo / "README.md").open("a") as handle:
        handle.write("\n## On call\n\nPage #platform-oncall before merging.\n")
    workflow = repo / ".github/workflows/validate.yml"
    workflow.write_text("# Owned by the platform team.\n" + workflow.read_text())
    commit_all(repo, "our edits")
    main_before = git(repo, "rev-parse", "main")
    old_config = repo / CONFIG
    assert not eksctl_oracle.dry_run(old_config).ok, "eksctl refuses 0.1.0's ClusterConfig (the bug being fixed)"

    result = cli_invoke("update", "--repo", repo)
    assert result.exit_code == 0, result.output
    assert "migrated     values.yaml" in result.output and "merged       README.md" in result.output
    assert git(repo, "rev-parse", "main") == main_before and git(repo, "branch", "--show-current") == "main"
    assert not (repo.parent / f"demo-{BRANCH}").exists(), "the worktree is gone after the commit"
    merge = git(repo, "log", "-1", "--format=%P%n%s", BRANCH).splitlines()
    assert merge[1] == f"eksgen update: 0.1.0 \u2192 {generator.__version__}"
    assert merge[0].split()[0] == main_before
    pristine = merge[0].split()[1]
    assert git(repo, "log", "-1", "--format=%(trailers:key=Eksgen-Version,valueonly)", pristine).strip() == "0.2.0"

    git(repo, "checkout", "--quiet", BRANCH)
    values = (repo / "values.yaml").read_text()
    assert "  maxSize: 5 # peak season, ticket OPS-42\n" in values
    assert '      # finance approved 2000 cores\n      cpu: "2000"\n' in values
    assert "privateSubnets" not in values and "publicSubnets" not in values
    assert "  # eksctl divides vpc.cidr into a private and a public subnet" in values
    assert "  # -- vpc.natGateway is Single" in values, "the doc of the key after the removed ones stays"
    assert 'eksVersion: "1.32"' in values, "EKS ended 1.31: one minor forward"
    readme = (repo / "README.md").read_text()
    assert "Page #platform-oncall before merging." in readme
    assert "starts from the commit the last deploy recorded on the cluster" in readme, "0.2.0's README text"
    flow = workflow.read_text()
    assert flow.startswith("# Owned by the platform team.\n") and "--from-deployed" in flow
    record = yaml.safe_load((repo / ".eksgen.yaml").read_text())
    assert record["generator"]["version"] == generator.__version__
    assert record["answers"]["k8s-version"] == "1.32"
    dockerfile = (repo / "toolchain/Dockerfile").read_text()
    assert "ARG KUBECTL_VERSION=v1.32." in dockerfile

    validated = cli_invoke("validate", repo)
    assert validated.exit_code == 0, validated.output
    accepted = eksctl_oracle.dry_run(repo / CONFIG)
    assert accepted.ok, accepted.output
    config = yaml.safe_load((repo / CONFIG).read_text())
    assert config["managedNodeGroups"][0]["maxSize"] == 5

    planned = cli_invoke("plan", "--base", "main", "--repo", repo)
    # main's ClusterConfig (refused by eksctl) fixed zones and subnets: against it, the plan lists the
    # control-plane upgrade and says why the zone change cannot reach a running cluster.
    assert "upgrade the control plane from 1.31 to 1.32" in planned.output
    assert "availabilityZones" in planned.output and "BLOCKED" in planned.output

    # merged with a merge commit, the next update finds eksgen 0.2.0's output as its base: nothing to do
    git(repo, "checkout", "--quiet", "main")
    git(repo, "-c", "user.name=O", "-c", "user.email=o@x", "merge", "--quiet", "--no-ff", "-m", "merge", BRANCH)
    again = cli_invoke("update", "--repo", repo)
    assert again.exit_code == 0 and "already up to date" in again.output, again.output


@pytest.mark.slow
def test_a_conflict_is_marked_listed_and_nothing_is_committed(repo, cli_invoke):
    workflow = repo / ".github/workflows/validate.yml"
    old_pin = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
    ours = "actions/checkout@0000000000000000000000000000000000000000 # our fork"
    workflow.write_text(workflow.read_text().replace(old_pin, ours))
    commit_all(repo, "our checkout fork")
    head = git(repo, "rev-parse", "HEAD")

    result = cli_invoke("update", "--repo", repo)
    assert result.exit_code == 1
    assert "conflict" in result.output and ".github/workflows/validate.yml" in result.output
    assert "nothing was committed" in result.output
    worktree = repo.parent / f"demo-{BRANCH}"
    marked = (worktree / ".github/workflows/validate.yml").read_text()
    assert "<<<<<<< yours" in marked and "=======" in marked and f">>>>>>> eksgen {generator.__version__}" in marked
    assert git(repo, "rev-parse", BRANCH) == head, "the branch has no commit"
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    assert (worktree / ".git").exists() and git(worktree, "rev-parse", "-q", "--verify", "MERGE_HEAD")


@pytest.mark.slow
def test_a_file_the_new_version_dropped_is_removed_unless_the_user_changed_it(repo, cli_invoke):
    # eksgen 0.1.0 did not drop files; make its first commit one that also held two files 0.2.0 no longer has
    (repo / "docs").mkdir()
    (repo / "docs/old-notes.md").write_text("generated notes\n")
    (repo / "docs/runbook.md").write_text("generated runbook\n")
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=eksgen", "-c", "user.email=e@x", "commit", "--quiet", "--amend", "--no-edit")
    (repo / "docs/runbook.md").write_text("generated runbook\nour escalation steps\n")
    commit_all(repo, "our runbook")

    result = cli_invoke("update", "--repo", repo)
    assert result.exit_code == 0, result.output
    assert "removed            docs/old-notes.md" in result.output
    assert "kept-user-changed  docs/runbook.md" in result.output
    files = git(repo, "ls-tree", "-r", "--name-only", BRANCH).splitlines()
    assert "docs/old-notes.md" not in files and "docs/runbook.md" in files
    assert git(repo, "show", f"{BRANCH}:docs/runbook.md").endswith("our escalation steps")


@pytest.mark.slow
def test_dry_run_prints_each_file_and_writes_nothing(repo, cli_invoke):
    edit_values(repo)
    commit_all(repo, "our values")
    before = state(repo)
    result = cli_invoke("update", "--dry-run", "--repo", repo)
    assert result.exit_code == 0, result.output
    for line in ("updated      README.md", "migrated     values.yaml", "rendered     rendered/eksctl/cluster.yaml"):
        assert line in result.output
    assert "added        toolchain/wheels/README.md" in result.output
    assert "removed vpc.privateSubnets" in result.output and "dry run: nothing was written" in result.output
    assert state(repo) == before
    assert not (repo.parent / f"demo-{BRANCH}").exists()


def test_a_repository_of_this_version_is_up_to_date(tmp_path, cli_invoke):
    repo = generate(Answers.from_raw("fresh", {"aws-account-id": "123456789012"}), tmp_path)
    assert git(repo, "log", "-1", "--format=%(trailers:key=Eksgen-Version,valueonly)").strip() == "0.2.0"
    before = state(repo)
    result = cli_invoke("update", "--repo", repo)
    assert result.exit_code == 0 and "already up to date" in result.output, result.output
    assert state(repo) == before, "no branch, no file"


def test_refusals_name_the_problem(repo, tmp_path, cli_invoke):
    (repo / "README.md").write_text("mid-edit\n")
    (repo / "notes.txt").write_text("untracked\n")
    dirty = cli_invoke("update", "--repo", repo)
    assert dirty.exit_code == 1 and "README.md" in dirty.output and "notes.txt" in dirty.output
    assert "uncommitted changes" in dirty.output and "internal error" not in dirty.output
    assert BRANCH not in git(repo, "branch")

    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = cli_invoke("update", "--repo", plain)
    assert not_git.exit_code == 1 and "not a git repository" in not_git.output

    git(repo, "checkout", "--quiet", "--", "README.md")
    (repo / "notes.txt").unlink()
    record = repo / ".eksgen.yaml"
    record.write_text(record.read_text().replace('version: "0.1.0"', 'version: "9.0.0"'))
    commit_all(repo, "from the future")
    newer = cli_invoke("update", "--repo", repo)
    assert newer.exit_code == 1 and "newer than this eksgen" in newer.output

    record.unlink()
    commit_all(repo, "no record")
    missing = cli_invoke("update", "--repo", repo)
    assert missing.exit_code == 1 and ".eksgen.yaml is missing" in missing.output


@pytest.mark.slow
def test_many_repositories_update_in_parallel_with_one_table(old_repo, tmp_path, cli_invoke):
    repos = []
    for name in ("blue", "green"):
        shutil.copytree(old_repo, tmp_path / name, symlinks=True)
        repos.append(tmp_path / name)
    broken = tmp_path / "broken"
    broken.mkdir()
    result = cli_invoke("update", *repos, broken, "--jobs", "2")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split() == ["REPOSITORY", "RESULT", "SECONDS", "DETAIL"]
    assert sum(" updated " in line for line in lines) == 2 and "not a git repository" in result.output
    assert "1 FAILED, 2 updated" in result.output
    for repo in repos:
        assert git(repo, "rev-parse", BRANCH) != git(repo, "rev-parse", "main")


# ---- migrations, one key at a time -------------------------------------------------------------------------
def rt(text: str):
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    return yaml_rt.load(text)


def dump(document) -> str:
    import io

    out = io.StringIO()
    yaml_rt = YAML(typ="rt")
    yaml_rt.width = 4096
    yaml_rt.dump(document, out)
    return out.getvalue()


def test_the_migration_chain_reaches_this_version():
    assert [s.target for s in migrations.chain("0.1.0", generator.__version__)][-1] == generator.__version__
    assert migrations.chain(generator.__version__, generator.__version__) == []
    with pytest.raises(migrations.MigrationError):
        migrations.chain("0.0.9", generator.__version__)


def test_a_new_key_takes_its_doc_from_the_template_and_user_comments_stay():
    user = rt("a: 1 # mine\n# -- c is the last\nc: 3\n")
    template = rt(
        "# -- a is first\na: 1\n# -- b is new: what it does\n# over two lines\nb: 2\n# -- c is the last\nc: 3\n"
    )
    migrations.insert_key(user, "b", 2, template, "b")
    assert dump(user) == "a: 1 # mine\n# -- b is new: what it does\n# over two lines\nb: 2\n# -- c is the last\nc: 3\n"


def test_a_removed_key_takes_its_doc_along_and_leaves_the_next_one():
    user = rt("a: 1 # mine\n# -- b goes\nb:\n  x: 1\n# -- c stays\nc: 3\n")
    migrations.remove_key(user, "b")
    assert dump(user) == "a: 1 # mine\n# -- c stays\nc: 3\n"


def test_retention_eksctl_refuses_becomes_the_next_longer_one():
    document = rt("logging:\n  retentionInDays: 2192 # seven years, audit\n")
    notes = migrations.chain("0.1.0", "0.2.0")[0].run(document, rt("{}"))
    assert document["logging"]["retentionInDays"] == 3653 and "2192 -> 3653" in notes[0]
    assert "# seven years, audit" in dump(document)


def test_an_ended_minor_moves_one_step_or_stops():
    document = rt('eksVersion: "1.31"\nkarpenter:\n  version: "1.0.9"\n')
    notes = migrations.follow_support(document)
    assert document["eksVersion"] == "1.32" and document["karpenter"]["version"] == "1.14.1"
    assert dump(document).startswith('eksVersion: "1.32"'), "quoted as the user wrote it"
    assert any("1.31 -> 1.32" in n for n in notes) and any("1.0.9 -> 1.14.1" in n for n in notes)
    with pytest.raises(migrations.MigrationError, match="one minor at a time"):
        migrations.follow_support(rt('eksVersion: "1.30"\n'))
