"""Every bad answer to `eksgen new` is refused before anything is written."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator import render, scaffold, versions
from generator.answers import Answers
from generator.errors import EksgenError

ROOT = Path(__file__).resolve().parents[1]

BAD_ANSWERS = [
    # (arguments, option named, value named, words of the rule)
    (["_starts-with-underscore"], "NAME", "_starts-with-underscore", "start with a letter"),
    (["1st-cluster"], "NAME", "1st-cluster", "start with a letter"),
    (["my_cluster"], "NAME", "my_cluster", "only letters, digits and '-' (eksctl names CloudFormation stacks"),
    (["has space"], "NAME", "has space", "letters, digits"),
    (["dotted.name"], "NAME", "dotted.name", "letters, digits"),
    (["a" * 47], "NAME", "a" * 47, "KarpenterNodeRole-NAME"),
    (["ok", "--region", "us-west-9"], "--region", "us-west-9", "not an AWS region with EKS"),
    (
        ["ok", "--k8s-version", "1.30"],
        "--k8s-version",
        "1.30",
        f"eksctl v{versions.EKSCTL_VERSION} supports Kubernetes {', '.join(versions.KUBERNETES)}",
    ),
    (
        ["ok", "--k8s-version", "1.31"],
        "--k8s-version",
        "1.31",  # EKS ended it on 2026-11-26
        f"supports Kubernetes {', '.join(versions.KUBERNETES)}",
    ),
    (["ok", "--k8s-version", "1.36"], "--k8s-version", "1.36", f"supports Kubernetes {', '.join(versions.KUBERNETES)}"),
    (["ok", "--karpenter-version", "0.37.0"], "--karpenter-version", "0.37.0", "not a pinned Karpenter release"),
    # Karpenter 1.0 (Kubernetes up to 1.31) is no longer pinned. Every pinned release runs every
    # offered minor; the incompatible-pair rule is tested below with a release pinned for the test.
    (
        ["ok", "--karpenter-version", "1.0.9"],
        "--karpenter-version",
        "1.0.9",
        f"not a pinned Karpenter release; choose one of {', '.join(versions.KARPENTER)}",
    ),
    (["ok", "--vpc-cidr", "8.8.0.0/16"], "--vpc-cidr", "8.8.0.0/16", "private range"),
    (["ok", "--vpc-cidr", "10.0.0.0/8"], "--vpc-cidr", "10.0.0.0/8", "at most /16"),
    (["ok", "--vpc-cidr", "10.0.0.0/24"], "--vpc-cidr", "10.0.0.0/24", "too small for the subnets"),
    (["ok", "--vpc-cidr", "10.0.0.1/16"], "--vpc-cidr", "10.0.0.1/16", "not an IPv4 network"),
    (["ok", "--vpc-cidr", "banana"], "--vpc-cidr", "banana", "not an IPv4 network"),
    (["ok", "--instance-type", "t3"], "--instance-type", "t3", "not an EC2 instance type"),
    (["ok", "--instance-type", "T3.small"], "--instance-type", "T3.small", "not an EC2 instance type"),
    (["ok", "--instance-type", "t3.huge"], "--instance-type", "t3.huge", "not an EC2 instance type"),
    (["ok", "--capacity-types", "spot,reserved"], "--capacity-types", "reserved", "spot, on-demand"),
    (["ok", "--architectures", "x86"], "--architectures", "x86", "amd64, arm64"),
    (["ok", "--aws-account-id", "12345"], "--aws-account-id", "12345", "12 digits"),
    (["ok", "--github-repo", "no-slash"], "--github-repo", "no-slash", "ORG/NAME"),
    (["ok", "--tag", "aws:owner=me"], "--tag", "aws:owner", "reserved by AWS"),
    (["ok", "--tag", "AWS:owner=me"], "--tag", "AWS:owner", "reserved by AWS"),
    (["ok", "--tag", "k" * 129 + "=v"], "--tag", "k" * 129, "1 to 128 characters"),
    (["ok", "--tag", "team=" + "v" * 257], "--tag team", "v" * 257, "at most 256 characters"),
    (["ok", "--tag", "no-equals-sign"], "--tag", "no-equals-sign", "KEY=VALUE"),
    (["ok", "--tag", "=empty-key"], "--tag", "", "1 to 128 characters"),
    (["ok", "--tag", "kubernetes.io/cluster/x=owned"], "--tag", "kubernetes.io/cluster/x", "set by eksgen, EKS"),
    (["ok", "--tag", "karpenter.sh/discovery=x"], "--tag", "karpenter.sh/discovery", "set by eksgen"),
    (["ok", "--tag", "bell=\a"], "--tag bell", "\a", "control"),
    (["ok", "--codeowners", "platform-team"], "--codeowners", "platform-team", "@user or @org/team"),
]


@pytest.mark.parametrize(("args", "option", "value", "rule"), BAD_ANSWERS, ids=lambda v: str(v)[:40])
def test_bad_answer_is_refused_with_option_value_and_rule(cli_invoke, tmp_path, args, option, value, rule):
    out = tmp_path / "out"
    result = cli_invoke("new", *args, "--output-dir", out, "--no-input")
    assert result.exit_code == 2, result.output
    assert f"{option} {value!r}" in result.output
    assert rule in result.output
    assert not out.exists(), "nothing may be written for a bad answer"


def test_karpenter_release_that_does_not_run_the_kubernetes_version_is_refused(cli_invoke, tmp_path, monkeypatch):
    """The pinned releases all run every offered minor, so an older release (Karpenter 1.0, up to
    Kubernetes 1.31) is pinned for this test only."""
    monkeypatch.setitem(versions.KARPENTER, "1.0.9", versions.KarpenterRelease("1.0.9", "1.25", "1.31", ()))
    out = tmp_path / "out"
    result = cli_invoke("new", "ok", "--karpenter-version", "1.0.9", "--output-dir", out, "--no-input")
    assert result.exit_code == 2, result.output
    assert "--karpenter-version '1.0.9'" in result.output
    assert (
        f"Karpenter 1.0.9 supports Kubernetes 1.25 to 1.31, not {versions.DEFAULT_KUBERNETES}; "
        f"for {versions.DEFAULT_KUBERNETES} use {versions.DEFAULT_KARPENTER}"
    ) in result.output
    assert not out.exists(), "nothing may be written for a bad answer"


def test_config_file_with_unknown_key_is_refused(cli_invoke, tmp_path):
    config = tmp_path / "answers.yaml"
    config.write_text("region: eu-west-1\nk8s_version: '1.32'\n")
    result = cli_invoke("new", "ok", "--config", config, "--output-dir", tmp_path / "out", "--no-input")
    assert result.exit_code == 2
    assert "--config 'k8s_version': unknown key" in result.output and "k8s-version" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "rule"), [("- a\n- b\n", "must be a mapping"), ("a: [\n", "not valid YAML")])
def test_config_file_that_is_not_a_mapping_is_refused(cli_invoke, tmp_path, text, rule):
    config = tmp_path / "answers.yaml"
    config.write_text(text)
    result = cli_invoke("new", "ok", "--config", config, "--output-dir", tmp_path / "out", "--no-input")
    assert result.exit_code == 2 and rule in result.output
    assert not (tmp_path / "out").exists()


def test_config_file_answers_are_checked_like_options(cli_invoke, tmp_path):
    config = tmp_path / "answers.yaml"
    config.write_text("tags:\n  cost-center: 1234\n")
    result = cli_invoke("new", "ok", "--config", config, "--output-dir", tmp_path / "out", "--no-input")
    assert result.exit_code == 2 and "must be a string" in result.output


def test_config_file_answers_apply_and_the_command_line_wins(cli_invoke, tmp_path):
    config = tmp_path / "answers.yaml"
    config.write_text("region: eu-west-1\nk8s-version: '1.32'\ntags:\n  team: from-file\n  env: prod\n")
    out = tmp_path / "out"
    result = cli_invoke(
        "new",
        "ok",
        "--config",
        config,
        "--region",
        "eu-north-1",
        "--tag",
        "team=cli",
        "--output-dir",
        out,
        "--no-input",
    )
    assert result.exit_code == 0, result.output
    recorded = (out / "ok" / ".eksgen.yaml").read_text()
    assert 'region: "eu-north-1"' in recorded and 'k8s-version: "1.32"' in recorded
    assert '"team": "cli"' in recorded and '"env": "prod"' in recorded


def test_existing_non_empty_target_is_refused_and_left_untouched(cli_invoke, tmp_path):
    target = tmp_path / "ok"
    target.mkdir()
    (target / "mine.txt").write_text("my work")
    result = cli_invoke("new", "ok", "--output-dir", tmp_path, "--no-input")
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert (target / "mine.txt").read_text() == "my work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "ok"]


def test_existing_empty_target_is_used(cli_invoke, tmp_path):
    (tmp_path / "ok").mkdir()
    result = cli_invoke("new", "ok", "--output-dir", tmp_path, "--no-input")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ok" / "values.yaml").is_file()


@pytest.mark.parametrize("failure", [EksgenError("helm exploded"), KeyboardInterrupt()])
def test_failure_mid_generation_leaves_no_directory(monkeypatch, tmp_path, failure):
    def broken_render(repo: Path) -> dict:
        assert (repo / "values.yaml").is_file()  # the template was already rendered
        raise failure

    monkeypatch.setattr(render, "render", broken_render)
    answers = Answers.from_raw("ok", {})
    with pytest.raises(type(failure)):
        scaffold.generate(answers, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def _fake_helm(directory: Path, version: str, template_delay: float = 0.0) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "helm"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then echo {version}; exit 0; fi\n'
        ': > "${HELM_STARTED:-/dev/null}"\n'  # the test knows `helm template` is running
        f"sleep {template_delay}\n"
        'exec "$REAL_HELM" "$@"\n'
    )
    script.chmod(0o755)


def _eksgen_env(path_dirs: list[Path]) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": os.pathsep.join(str(p) for p in path_dirs),
        "REAL_HELM": shutil.which("helm") or "helm",
    }


def _only(tmp_path: Path, *programs: str) -> Path:
    """A directory holding links to just these programs (plus sh and sleep for fakes)."""
    bin_dir = tmp_path / "only-bin"
    bin_dir.mkdir(exist_ok=True)
    for program in (*programs, "sh", "sleep"):
        found = shutil.which(program)
        if found and not (bin_dir / program).exists():
            (bin_dir / program).symlink_to(found)
    return bin_dir


def _eksgen(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_missing_helm_is_a_clear_error(tmp_path):
    env = _eksgen_env([_only(tmp_path, "git")])
    proc = _eksgen("new", "ok", "--output-dir", str(tmp_path / "out"), "--no-input", env=env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "helm is not on PATH" in err and "go install helm.sh/helm/v3/cmd/helm@v3.16.4" in err
    assert not (tmp_path / "out").exists()


def test_missing_git_is_a_clear_error(tmp_path):
    env = _eksgen_env([_only(tmp_path, "helm")])
    proc = _eksgen("new", "ok", "--output-dir", str(tmp_path / "out"), "--no-input", env=env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "git is not on PATH" in err and "install git" in err
    assert not (tmp_path / "out").exists()


def test_helm_of_another_version_is_refused(tmp_path):
    _fake_helm(tmp_path / "fake", "v3.15.0")
    env = _eksgen_env([tmp_path / "fake", _only(tmp_path, "git")])
    proc = _eksgen("new", "ok", "--output-dir", str(tmp_path / "out"), "--no-input", env=env)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "is v3.15.0, but rendered/ is made with helm v3.16.4" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_mid_generation_leaves_no_directory(tmp_path, signum):
    _fake_helm(tmp_path / "fake", "v3.16.4", template_delay=30)
    env = _eksgen_env([tmp_path / "fake", _only(tmp_path, "git")])
    out = tmp_path / "out"
    started = tmp_path / "helm-started"
    proc = _eksgen("new", "ok", "--output-dir", str(out), "--no-input", env={**env, "HELM_STARTED": str(started)})
    deadline = time.monotonic() + 30
    # files are being written and helm is rendering (for 30 s) when the signal comes
    while not (started.exists() and any(out.glob(".eksgen-ok-*/ok/values.yaml"))):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert list(out.iterdir()) == []
