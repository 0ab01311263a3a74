"""`eksgen new --fleet`: a fleet file checked strictly, clusters generated in parallel, each one
byte for byte what `eksgen new` makes for the same answers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generator import fleet, parallel
from generator.errors import AnswerError
from tests.helpers import load_yaml

FLEET = """\
defaults:
  region: eu-west-1
  instance-type: m7g.large
  architectures: [arm64]
  tags: {team: platform, cost-center: "0100"}
clusters:
  - name: prod-eu
    k8s-version: "1.33"
    tags: {cost-center: "0200", tier: gold}
  - name: bad-region
    region: mars-1
  - name: staging-eu
    vpc-cidr: 10.20.0.0/16
    architectures: amd64,arm64
  - name: plain
    region: null
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def files(repo: Path) -> dict[str, bytes]:
    """Every file of a repository but git's own, by relative path."""
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for p in sorted(repo.rglob("*"))
        if p.is_file() and p.relative_to(repo).parts[0] != ".git"
    }


def git_tree(repo: Path) -> str:
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD^{tree}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# ---- the fleet file --------------------------------------------------------------------------


def test_a_clusters_answers_override_the_defaults_and_tags_merge_per_key(tmp_path):
    spec = fleet.load(write(tmp_path / "fleet.yaml", FLEET))
    assert [c.name for c in spec.clusters] == ["prod-eu", "bad-region", "staging-eu", "plain"]
    prod, _, staging, plain = spec.clusters
    assert spec.answers_for(prod) == {
        "region": "eu-west-1",
        "instance-type": "m7g.large",
        "architectures": ["arm64"],
        "k8s-version": "1.33",
        "tags": {"team": "platform", "cost-center": "0200", "tier": "gold"},
    }
    assert spec.answers_for(staging)["architectures"] == "amd64,arm64"
    assert spec.answers_for(staging)["tags"] == {"team": "platform", "cost-center": "0100"}
    # null is "not given": eksgen's own default applies, not the fleet's
    assert spec.answers_for(plain)["region"] is None


def test_clusters_without_defaults_or_tags_get_only_their_own_answers(tmp_path):
    spec = fleet.load(write(tmp_path / "fleet.yaml", "clusters:\n  - name: a\n  - name: b\n    region: us-east-1\n"))
    assert [spec.answers_for(c) for c in spec.clusters] == [{}, {"region": "us-east-1"}]


BAD_FLEETS = [
    ("clusters: [{name: a}]\nregion: eu-west-1\n", "unknown top-level key 'region'; the keys are defaults, clusters"),
    (
        "clusters:\n  - name: a\n    regoin: eu-west-1\n",
        "clusters[0] (a): unknown key 'regoin'; the keys are name, region",
    ),
    ("defaults: {vpc_cidr: 10.0.0.0/16}\nclusters: [{name: a}]\n", "defaults: unknown key 'vpc_cidr'"),
    ("defaults: {name: x}\nclusters: [{name: a}]\n", "defaults: 'name' cannot be a default"),
    ("clusters:\n  - name: a\n  - region: eu-west-1\n", "clusters[1]: missing name"),
    ("clusters:\n  - name: a\n  - name: b\n  - name: a\n", "clusters[2] (a): duplicate name; clusters[0] has it too"),
    ("clusters:\n  - name: 123\n", "clusters[0]: name 123 must be a string (quote it in YAML)"),
    ("clusters:\n  - name: a\n    tags: [team=x]\n", "clusters[0] (a): tags must be a map of KEY to VALUE"),
    ("clusters:\n  - a\n", "clusters[0]: must be a mapping with a name and answers"),
    ("clusters: []\n", "clusters: must be a non-empty list"),
    ("defaults: {region: eu-west-1}\n", "clusters: must be a non-empty list"),
    ("defaults: [region]\nclusters: [{name: a}]\n", "defaults: must be a mapping"),
    ("- name: a\n", "must be a mapping with a 'clusters' list"),
    ("", "must be a mapping with a 'clusters' list"),
    ("clusters:\n  - name: a\n    name: b\n", "not valid YAML"),
    ("clusters: [{name: a}\n", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_FLEETS, ids=[p[:40] for _, p in BAD_FLEETS])
def test_a_bad_fleet_file_is_refused_with_exit_2_and_nothing_is_written(cli_invoke, tmp_path, text, problem):
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = cli_invoke("new", "--fleet", path, "--output-dir", out, "--jobs", "2")
    assert result.exit_code == 2, result.output
    assert f"--fleet '{path}'" in result.output
    assert problem in result.output
    assert not out.exists()


def test_every_problem_of_a_fleet_file_is_listed_at_once(tmp_path):
    path = write(tmp_path / "fleet.yaml", "clusters:\n  - name: a\n    regoin: x\n  - {}\n  - name: a\n")
    with pytest.raises(AnswerError) as raised:
        fleet.load(path)
    message = raised.value.format_message()
    assert "3 problems:" in message
    for problem in (
        "clusters[0] (a): unknown key 'regoin'",
        "clusters[1]: missing name",
        "clusters[2] (a): duplicate name",
    ):
        assert problem in message


def test_a_missing_fleet_file_is_a_usage_error(cli_invoke, tmp_path):
    result = cli_invoke("new", "--fleet", tmp_path / "nope.yaml", "--output-dir", tmp_path / "out")
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["one", "--fleet", "{fleet}"], "give NAME or --fleet FILE, not both"),
        (["--fleet", "{fleet}", "--region", "us-east-1"], "remove --region"),
        (["--fleet", "{fleet}", "--tag", "a=b", "--config", "{fleet}"], "remove --tag, --config"),
        ([], "Missing argument 'NAME' (or give --fleet FILE)"),
        (["one", "--jobs", "2"], "--jobs needs --fleet"),
    ],
)
def test_name_and_fleet_exclude_each_other(cli_invoke, tmp_path, args, message):
    path = write(tmp_path / "fleet.yaml", "clusters: [{name: a}]\n")
    out = tmp_path / "out"
    result = cli_invoke("new", *[a.format(fleet=path) for a in args], "--output-dir", out, "--no-input")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()


# ---- generating a fleet (real helm and git) --------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path, object]:
    """The FLEET generated with two worker processes: (fleet file, output dir, CLI result)."""
    from click.testing import CliRunner

    from generator.cli import cli

    root = tmp_path_factory.mktemp("fleet")
    path = write(root / "fleet.yaml", FLEET)
    out = root / "out"
    result = CliRunner().invoke(
        cli, ["new", "--fleet", str(path), "--output-dir", str(out), "--jobs", "2"], catch_exceptions=False
    )
    return path, out, result


def test_a_bad_entry_fails_alone_with_its_name_and_rule(generated):
    _, out, result = generated
    assert result.exit_code == 1, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:5]}
    assert rows.keys() == {"prod-eu", "bad-region", "staging-eu", "plain"}
    assert rows["bad-region"].split()[1] == "FAILED"
    assert "--region 'mars-1': not an AWS region with EKS" in rows["bad-region"]
    for name in ("prod-eu", "staging-eu", "plain"):
        assert rows[name].split()[1:2] == ["created"]
        assert rows[name].endswith(str(out / name))
    assert "4 clusters: 3 created, 1 failed" in result.stdout
    assert "2 worker processes" in result.stdout
    assert "Error: 1 of 4 clusters failed: bad-region" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["plain", "prod-eu", "staging-eu"]  # no staging leftovers


def test_the_overrides_reach_the_repositories(generated):
    _, out, _ = generated
    prod = load_yaml(out / "prod-eu" / ".eksgen.yaml")["answers"]
    assert (prod["region"], prod["k8s-version"], prod["instance-type"]) == ("eu-west-1", "1.33", "m7g.large")
    assert prod["tags"] == {"team": "platform", "cost-center": "0200", "tier": "gold"}
    staging = load_yaml(out / "staging-eu" / ".eksgen.yaml")["answers"]
    assert (staging["vpc-cidr"], staging["architectures"]) == ("10.20.0.0/16", ["amd64", "arm64"])
    assert staging["tags"] == {"team": "platform", "cost-center": "0100"}
    assert load_yaml(out / "plain" / ".eksgen.yaml")["answers"]["region"] == "us-west-2"


@pytest.mark.parametrize("name", ["prod-eu", "staging-eu", "plain"])
def test_each_repository_is_what_eksgen_new_makes_for_the_same_answers(cli_invoke, generated, tmp_path, name):
    path, out, _ = generated
    spec = fleet.load(path)
    config = tmp_path / "answers.yaml"
    # JSON is YAML: the merged answers, tags as a map, in the form a --config file takes
    config.write_text(json.dumps(spec.answers_for(next(c for c in spec.clusters if c.name == name))))
    single = tmp_path / "single"
    result = cli_invoke("new", name, "--config", config, "--output-dir", single, "--no-input")
    assert result.exit_code == 0, result.output

    from_fleet, alone = files(out / name), files(single / name)
    assert sorted(from_fleet) == sorted(alone)
    for rel in alone:
        assert from_fleet[rel] == alone[rel], rel
    assert git_tree(out / name) == git_tree(single / name)  # the commits differ only in their time


def test_a_cluster_whose_target_exists_fails_and_the_others_are_generated(cli_invoke, tmp_path):
    path = write(tmp_path / "fleet.yaml", "clusters:\n  - name: taken\n  - name: free\n")
    out = tmp_path / "out"
    (out / "taken").mkdir(parents=True)
    (out / "taken" / "keep.txt").write_text("mine")
    result = cli_invoke("new", "--fleet", path, "--output-dir", out, "--jobs", "2")
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.stdout
    assert "1 of 2 clusters failed: taken" in result.output
    assert sorted(p.name for p in (out / "taken").iterdir()) == ["keep.txt"]
    assert (out / "free" / "values.yaml").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["free", "taken"]


def test_with_one_job_the_fleet_is_generated_in_this_process(tmp_path):
    spec = fleet.parse(tmp_path / "fleet.yaml", {"clusters": [{"name": "a"}, {"name": "b", "region": "nowhere"}]})
    report = fleet.generate(spec, tmp_path / "out", jobs=1)
    assert report.jobs == 1
    assert [(r.name, r.ok) for r in report.results] == [("a", True), ("b", False)]
    assert report.results[0].path == tmp_path / "out" / "a"
    assert report.results[1].error.startswith("--region 'nowhere': not an AWS region")
    assert report.failed == ["b"]
    assert "in this process" in report.lines()[3]


def test_parallel_map_keeps_the_order_of_its_items():
    assert parallel.parallel_map(str, list(range(7)), jobs=3) == [str(i) for i in range(7)]
    assert parallel.worker_count(None, 1) == 1
    assert parallel.worker_count(8, 3) == 3


def test_a_long_error_is_cut_in_the_table_and_shown_in_full_below_it():
    report = fleet.FleetReport([fleet.ClusterResult("a", 0.5, error="helm failed:\nline two")], 0.5, 1)
    lines = report.lines()
    assert lines[1].split() == ["a", "FAILED", "0.50", "helm", "failed:", "..."]
    assert lines[-3:] == ["a:", "  helm failed:", "  line two"]


# ---- interrupts ------------------------------------------------------------------------------


def _fake_slow_helm(directory: Path) -> Path:
    """helm that takes half a second per template, so that an interrupt finds work in flight."""
    directory.mkdir()
    script = directory / "helm"
    script.write_text(f'#!/bin/sh\nif [ "$1" = template ]; then sleep 0.5; fi\nexec "{shutil.which("helm")}" "$@"\n')
    script.chmod(0o755)
    return directory


def _running(marker: str) -> list[int]:
    """Live processes whose command line holds `marker`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc to find leftover processes")
@pytest.mark.parametrize(
    ("signum", "whole_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)], ids=["ctrl-c", "sigterm"]
)
def test_an_interrupt_stops_the_fleet_and_leaves_only_complete_repositories(tmp_path, signum, whole_group):
    path = write(tmp_path / "fleet.yaml", "clusters:\n" + "".join(f"  - name: c{i}\n" for i in range(8)))
    out = tmp_path / "out"
    env = {**os.environ, "PATH": os.pathsep.join([str(_fake_slow_helm(tmp_path / "fake")), os.environ["PATH"]])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "new", "--fleet", str(path), "--output-dir", str(out), "--jobs", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(p.name.startswith("c") for p in out.iterdir())):  # the first one is done
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    if whole_group:  # what a terminal does on Ctrl-C
        os.killpg(proc.pid, signum)
    else:  # what `kill PID` or a CI runner does
        proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 130, stderr
    assert "interrupted; the repositories marked created are complete" in stderr
    results = {line.split()[0]: line.split()[1] for line in stdout.splitlines()[1:9]}
    assert set(results) == {f"c{i}" for i in range(8)}
    assert "skipped" in results.values() and "created" in results.values()
    assert "FAILED" not in results.values()  # work in flight finishes; the rest never starts
    created = sorted(name for name, result in results.items() if result == "created")
    assert sorted(p.name for p in out.iterdir()) == created  # no staging directory is left behind
    for name in created:
        assert git_tree(out / name) and (out / name / "rendered").is_dir()
    assert _running(str(path)) == []  # no worker outlives the command
