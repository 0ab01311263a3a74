"""The eksctl oracle itself: the real eksctl, offline, accepts what it should and rejects what it should.

The configs are small and written by hand here, so these tests do not depend on eksgen's output.
Sources are cited as eksctl@v0.230.0:PATH (module source in the Go module cache).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests import eksctl_oracle as oracle
from tests.eksctl_oracle import EksctlOracle, EksStandIn, cluster_versions

pytestmark = pytest.mark.slow

eksctl_oracle = oracle.eksctl_oracle  # the session fixture, registered for this module


def minimal_config(**changes: object) -> dict:
    """A small valid ClusterConfig; `changes` replace or add top-level keys."""
    config = {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": "oracle-test", "region": "us-west-2", "version": "1.34"},
        "vpc": {"cidr": "10.10.0.0/16"},
        "managedNodeGroups": [
            {"name": "default", "instanceType": "t3.small", "minSize": 1, "desiredCapacity": 2, "maxSize": 3},
        ],
    }
    config.update(changes)
    return config


def write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_minimal_config_is_accepted_and_completed(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """A minimal config passes, and eksctl prints it completed with its defaults.

    eksctl@v0.230.0:pkg/ctl/create/cluster.go (--dry-run returns cmdutils.PrintDryRunConfig after
    the zones are chosen through EC2 DescribeAvailabilityZones, pkg/az/az.go).
    """
    result = eksctl_oracle.dry_run(write(tmp_path, minimal_config()))

    assert result.ok, result.output
    completed = result.completed
    assert completed["metadata"] == {"name": "oracle-test", "region": "us-west-2", "version": "1.34"}
    assert completed["vpc"]["cidr"] == "10.10.0.0/16"
    assert len(completed["availabilityZones"]) >= 2  # chosen by eksctl from moto's zones
    assert all(zone.startswith("us-west-2") for zone in completed["availabilityZones"])
    (group,) = completed["managedNodeGroups"]
    assert (group["name"], group["instanceType"]) == ("default", "t3.small")
    assert (group["minSize"], group["desiredCapacity"], group["maxSize"]) == (1, 2, 3)
    assert group["amiFamily"] == "AmazonLinux2023"  # a default eksctl filled in


def test_subnets_with_availability_zones_are_rejected(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """eksctl@v0.230.0:pkg/ctl/cmdutils/configfile.go:294-296: vpc.subnets excludes availabilityZones."""
    config = minimal_config(availabilityZones=["us-west-2a", "us-west-2b"])
    config["vpc"]["subnets"] = {
        "private": {
            "us-west-2a": {"id": "subnet-0aaaaaaaaaaaaaaaa"},
            "us-west-2b": {"id": "subnet-0bbbbbbbbbbbbbbbb"},
        }
    }

    result = eksctl_oracle.dry_run(write(tmp_path, config))

    assert not result.ok
    assert "vpc.subnets and availabilityZones cannot be set at the same time" in result.output


def test_unsupported_version_is_rejected(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """eksctl@v0.230.0:pkg/eks/versions_manager.go:111-120 (ValidateVersion): a minor below the
    oldest one DescribeClusterVersions lists is "no longer supported"."""
    config = minimal_config()
    config["metadata"]["version"] = "1.30"

    result = eksctl_oracle.dry_run(write(tmp_path, config))

    assert not result.ok
    assert "invalid version, 1.30 is no longer supported" in result.output


def test_name_with_underscore_is_rejected(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """eksctl@v0.230.0:pkg/ctl/create/cluster.go:155-156 with pkg/apis/eksctl.io/v1alpha5/validation.go:974-982
    (IsInvalidNameArg: [^a-zA-Z0-9\\-]+)."""
    config = minimal_config()
    config["metadata"]["name"] = "oracle_test"

    result = eksctl_oracle.dry_run(write(tmp_path, config))

    assert not result.ok
    assert "validation for oracle_test failed, name must satisfy regular expression pattern" in result.output


def test_log_retention_outside_the_cloudwatch_list_is_rejected(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """eksctl@v0.230.0:pkg/apis/eksctl.io/v1alpha5/cloudwatch.go:20 (LogRetentionInDaysValues, no 1096)
    checked in pkg/apis/eksctl.io/v1alpha5/validation.go:428-459 (validateCloudWatchLogging)."""
    logging = {"clusterLogging": {"enableTypes": ["api", "audit"], "logRetentionInDays": 1096}}

    result = eksctl_oracle.dry_run(write(tmp_path, minimal_config(cloudWatch=logging)))

    assert not result.ok
    assert "invalid value 1096 for logRetentionInDays" in result.output


def test_log_retention_from_the_cloudwatch_list_is_accepted(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """The counterpart: 731 is in eksctl@v0.230.0:pkg/apis/eksctl.io/v1alpha5/cloudwatch.go:20."""
    logging = {"clusterLogging": {"enableTypes": ["api", "audit"], "logRetentionInDays": 731}}

    result = eksctl_oracle.dry_run(write(tmp_path, minimal_config(cloudWatch=logging)))

    assert result.ok, result.output
    assert result.completed["cloudWatch"]["clusterLogging"]["logRetentionInDays"] == 731


def test_upgrade_flags_are_accepted(eksctl_oracle: EksctlOracle) -> None:
    """eksctl@v0.230.0:pkg/ctl/upgrade/cluster.go defines --name, --version and --approve (with
    --region from pkg/ctl/cmdutils). The command parses, then fails on the cluster it cannot find."""
    ok, output = eksctl_oracle.accepts_flags(
        ["upgrade", "cluster", "--name", "x", "--region", "us-west-2", "--version", "1.35", "--approve"]
    )

    assert ok, output
    assert "failed after parsing" in output


def test_misspelt_flag_is_rejected(eksctl_oracle: EksctlOracle) -> None:
    """eksctl@v0.230.0:pkg/ctl/upgrade/cluster.go has no --nmae; cobra/pflag refuse it before any AWS call."""
    ok, output = eksctl_oracle.accepts_flags(["upgrade", "cluster", "--nmae", "x"])

    assert not ok
    assert "unknown flag: --nmae" in output


def test_stand_in_answers_cluster_versions_and_nothing_else() -> None:
    """The stand-in's DescribeClusterVersions answer follows generator.versions; other paths are 404s."""
    from generator import versions

    stand_in = EksStandIn(today=date(2026, 12, 2)).start()
    try:
        with urllib.request.urlopen(f"{stand_in.url}/cluster-versions", timeout=10) as response:
            answer = json.load(response)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{stand_in.url}/clusters/x", timeout=10)
    finally:
        stand_in.stop()

    assert answer == cluster_versions(date(2026, 12, 2))
    listed = {entry["clusterVersion"]: entry for entry in answer["clusterVersions"]}
    assert set(listed) == set(versions.KUBERNETES)
    defaults = [minor for minor, entry in listed.items() if entry["defaultVersion"]]
    assert defaults == [versions.default_kubernetes(date(2026, 12, 2))]
    assert missing.value.code == 404
    assert missing.value.headers["X-Amzn-ErrorType"] == "ResourceNotFoundException"


def test_checks_of_eksctl_before_any_aws_call_reject(eksctl_oracle: EksctlOracle) -> None:
    """eksctl@v0.230.0:pkg/ctl/cmdutils/configfile.go:181 (the config loader of `upgrade cluster`)
    refuses a missing cluster name, "--name must be set", before eksctl creates any AWS client."""
    ok, output = eksctl_oracle.accepts_flags(["upgrade", "cluster", "--region", "us-west-2"])

    assert not ok
    assert "--name must be set" in output


def test_accepts_flags_creates_nothing(eksctl_oracle: EksctlOracle, tmp_path: Path) -> None:
    """A real `create cluster` (no --dry-run) stops at its first AWS call, STS GetCallerIdentity
    (eksctl@v0.230.0:pkg/eks/api.go checkAuth), which the stand-in refuses: nothing reaches moto."""
    ok, output = eksctl_oracle.accepts_flags(["create", "cluster", "-f", str(write(tmp_path, minimal_config()))])

    assert ok, output
    assert "at its first AWS call: sts POST /" in output
    assert "checking AWS STS access" in output
