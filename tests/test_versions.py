"""The version matrix agrees with the reference data, the Makefile and the chart."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from generator import versions
from tests.helpers import load_yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "cookiecutter-template" / "{{cookiecutter.cluster_name}}"


def _compatibility(schemas: Path) -> list[dict]:
    return load_yaml(schemas / "karpenter" / "compatibility.yaml")["compatibility"]


def _row_for(rows: list[dict], version: str) -> dict:
    """The matrix row that applies to a release: an exact appVersion wins over its x line."""
    major_minor = ".".join(version.split(".")[:2])
    exact = [r for r in rows if str(r["appVersion"]) == version]
    patch = int(version.split(".")[2])
    patch_rows = [
        r
        for r in rows
        if re.fullmatch(rf"{re.escape(major_minor)}\.\d+", str(r["appVersion"]))
        and int(str(r["appVersion"]).split(".")[2]) <= patch
    ]
    line = [r for r in rows if str(r["appVersion"]) == f"{major_minor}.x"]
    return (exact or sorted(patch_rows, key=lambda r: int(str(r["appVersion"]).split(".")[2]))[-1:] or line)[-1]


@pytest.mark.parametrize("release", list(versions.KARPENTER.values()), ids=lambda r: r.version)
def test_karpenter_ranges_match_the_compatibility_matrix(schemas, release):
    row = _row_for(_compatibility(schemas), release.version)
    assert (release.min_kubernetes, release.max_kubernetes) == (str(row["minK8sVersion"]), str(row["maxK8sVersion"]))


@pytest.mark.parametrize("release", list(versions.KARPENTER.values()), ids=lambda r: r.version)
def test_karpenter_release_has_crds_and_matching_controller_policies(schemas, release):
    folder = schemas / "karpenter" / f"v{release.version}"
    assert (folder / "crds" / "karpenter.sh_nodepools.yaml").is_file()
    template = (folder / "cloudformation.yaml").read_text()
    created = re.findall(r'ManagedPolicyName: !Sub "([A-Za-z]+)-\$\{ClusterName\}"', template)
    assert tuple(created) == release.controller_policies


def test_the_chart_reads_controller_policies_from_the_one_table(tmp_path):
    """versions.KARPENTER drives the chart: eksgen writes it into charts/eks-complete/karpenter-releases.json,
    which _helpers.tpl reads with .Files.Get; the helper names no release of its own."""
    import json

    from generator import repotemplate
    from generator.answers import Answers

    helpers = (TEMPLATE / "charts/eks-complete/templates/_helpers.tpl").read_text()
    assert not re.search(r'"[0-9]+\.[0-9]+\.[0-9]+"', helpers)
    project = repotemplate.render_template(Answers.from_raw("demo", {}), tmp_path)
    written = json.loads((project / "charts/eks-complete/karpenter-releases.json").read_text())
    assert written == {v: {"controllerPolicies": list(r.controller_policies)} for v, r in versions.KARPENTER.items()}


def test_every_kubernetes_version_has_a_supporting_karpenter_and_the_default_is_first_choice():
    for minor in versions.KUBERNETES:
        assert versions.karpenter_versions_for(minor), minor
        assert versions.KARPENTER[versions.DEFAULT_KARPENTER].supports(minor)
    assert versions.DEFAULT_KUBERNETES == versions.default_kubernetes(date.today())
    assert versions.DEFAULT_KUBERNETES in versions.KUBERNETES
    # a Karpenter range is a range: minors outside it are not supported
    release = versions.KARPENTER[versions.DEFAULT_KARPENTER]
    major, minor = versions.minor_key(release.max_kubernetes)
    assert not release.supports(f"{major}.{minor + 1}")
    assert versions.karpenter_versions_for(f"{major}.{minor + 1}") == []


def test_the_default_kubernetes_is_the_newest_in_standard_support():
    assert versions.default_kubernetes(date(2026, 12, 2)) == "1.35"
    # 1.35 leaves standard support on 2027-03-27; none of the pinned minors is in it afterwards,
    # and the newest one is the default then.
    assert versions.KUBERNETES["1.35"].support_on(date(2027, 3, 28)) == "extended"
    assert versions.default_kubernetes(date(2027, 3, 28)) == "1.35"
    # the minor EKS ended on 2026-11-26 is not offered at all
    assert "1.31" not in versions.KUBERNETES


def test_eks_support_dates_are_in_order():
    for minor, release in versions.KUBERNETES.items():
        assert release.minor == minor
        assert release.released < release.end_of_standard_support < release.end_of_extended_support, minor
        assert release.support_on(release.end_of_standard_support) == "standard"
        assert release.support_on(release.end_of_extended_support) == "extended"
        assert release.support_on(date.fromordinal(release.end_of_extended_support.toordinal() + 1)) == "ended"
    minors = sorted(versions.KUBERNETES, key=versions.minor_key)
    assert list(versions.KUBERNETES) == minors, "oldest first, as error messages list them"


def test_kubectl_matches_the_cluster_minor():
    """kubectl is a real patch release of the cluster's minor (the Dockerfile checks it against the
    .sha256 file published next to it), and the AMI is pinned."""
    for minor, release in versions.KUBERNETES.items():
        assert re.fullmatch(rf"{re.escape(minor)}\.\d+", release.kubectl), release.kubectl
        assert release.ami_alias == versions.AMI_ALIAS == "al2023@v20260714"
        assert "@latest" not in release.ami_alias


def test_makefile_pins_equal_versions_py():
    makefile = (ROOT / "Makefile").read_text()
    pins = dict(re.findall(r"^(HELM|KUBECONFORM|ACTIONLINT)_VERSION := (\S+)$", makefile, re.MULTILINE))
    assert pins == {
        "HELM": versions.HELM_VERSION,
        "KUBECONFORM": versions.KUBECONFORM_VERSION,
        "ACTIONLINT": versions.ACTIONLINT_VERSION,
    }


def test_eksctl_schema_of_the_pinned_version_is_in_the_reference(schemas):
    assert (schemas / "eksctl" / f"v{versions.EKSCTL_VERSION}" / "schema.json").is_file()
