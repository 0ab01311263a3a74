"""Kubernetes versions and EKS support: the default is in standard support on the day a repository
is generated, extended support is warned about (it costs six times as much), an ended version is
refused.

Dates: the Amazon EKS Kubernetes release calendar (docs.aws.amazon.com/eks/latest/userguide/
kubernetes-versions.html). Price: Amazon EKS pricing (aws.amazon.com/eks/pricing): $0.10 per
cluster hour in standard support, $0.60 in extended support.
"""

from __future__ import annotations

from datetime import date

import pytest

from generator import versions
from generator.answers import Answers
from generator.errors import AnswerError


def test_each_version_is_standard_then_extended_then_ended():
    release = versions.KUBERNETES["1.34"]
    assert release.support_on(date(2026, 12, 2)) == "standard"  # the last day of standard support
    assert release.support_on(date(2026, 12, 3)) == "extended"
    assert release.support_on(date(2027, 12, 2)) == "extended"
    assert release.support_on(date(2027, 12, 3)) == "ended"


def test_the_table_is_ordered_and_every_release_has_its_dates():
    for release in versions.KUBERNETES.values():
        assert release.released < release.end_of_standard_support < release.end_of_extended_support
        assert release.kubectl.startswith(release.minor + ".")
    assert list(versions.KUBERNETES) == sorted(versions.KUBERNETES, key=versions.minor_key)


@pytest.mark.parametrize(
    ("day", "default"),
    [
        (date(2026, 12, 2), "1.35"),
        (date(2027, 3, 27), "1.35"),
        (date(2027, 3, 28), "1.35"),  # nothing newer is pinned: the newest, which the warning then names
    ],
)
def test_the_default_is_the_newest_in_standard_support(day, default):
    assert versions.default_kubernetes(day) == default
    assert versions.KUBERNETES[default].support_on(day) == "standard" or default == max(
        versions.KUBERNETES, key=versions.minor_key
    )


def test_a_version_in_extended_support_is_warned_about(monkeypatch, cli_invoke, tmp_path):
    monkeypatch.setattr(versions, "today", lambda: date(2026, 12, 2))
    assert versions.extended_support_warning("1.35") is None
    warning = versions.extended_support_warning("1.33")
    assert warning.startswith("Kubernetes 1.33 left EKS standard support on 2026-07-29")
    assert "six times" in warning and "Kubernetes 1.35 is in standard support" in warning
    result = cli_invoke("new", "old", "--k8s-version", "1.33", "--output-dir", tmp_path, "--no-input")
    assert result.exit_code == 0 and "Warning: Kubernetes 1.33 left EKS standard support" in result.output


def test_a_version_eks_no_longer_runs_is_refused(monkeypatch):
    monkeypatch.setattr(versions, "today", lambda: date(2027, 3, 24))
    with pytest.raises(AnswerError, match=r"--k8s-version '1.32': EKS ended Kubernetes 1.32 on 2027-03-23"):
        Answers.from_raw("late", {"k8s-version": "1.32"})
