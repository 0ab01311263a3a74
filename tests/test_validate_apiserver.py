"""The `apiserver` check: kubectl-validate (the API server's validation code, offline) judges the
rendered manifests: schema, defaulting and the CRDs' CEL rules as the API server evaluates them.

Each known-bad case below is refused by kubectl-validate itself (the test runs it), and the check
reports it once, with the file, the line of the field and the API server's message. The rules are
the `x-kubernetes-validations` of aws/karpenter-provider-aws@v1.14.1:pkg/apis/crds/ (shipped in
generator/schemas/) and storage.k8s.io/v1 StorageClass validation of Kubernetes itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.answers import Answers
from generator.scaffold import generate
from generator.validate import apiserver
from generator.validate.context import Context, Finding

NODEPOOL = "rendered/manifests/nodepool.yaml"
NODECLASS = "rendered/manifests/ec2nodeclass.yaml"
STORAGECLASS = "rendered/manifests/storageclass.yaml"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return generate(Answers.from_raw("demo", {}), tmp_path_factory.mktemp("apiserver"))


@pytest.fixture
def repo(pristine, tmp_path) -> Path:
    copy_ = tmp_path / "demo"
    shutil.copytree(pristine, copy_)
    return copy_


def edit(repo: Path, file: str, old: str, new: str) -> str:
    """Replace `old` (which must be there once) in a rendered file; returns the new text."""
    path = repo / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {file}; did the template change?"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text.replace(old, new)


def line_of(text: str, line: str) -> int:
    return [n for n, content in enumerate(text.splitlines(), 1) if content == line][0]


def check(repo: Path) -> tuple[list[Finding], list[str]]:
    ctx = Context(repo)
    return apiserver.run(ctx), ctx.notes[apiserver.CHECK]


def test_a_fresh_repo_passes_and_says_what_judged_it(repo):
    findings, (note,) = check(repo)
    assert findings == []
    assert note.startswith("3 objects in 3 files, as the API server of Kubernetes ")
    assert "kubectl-validate v" in note


ROLE = '  role: "KarpenterNodeRole-demo"'
BUDGET = '      - nodes: "10%"'
OS_KEY = "        - key: kubernetes.io/os"

# name: (file, old text, new text, the line the finding points at, part of the API server's message)
BAD = {
    "role and instanceProfile": (
        NODECLASS,
        ROLE,
        ROLE + '\n  instanceProfile: "KarpenterNodeInstanceProfile-demo"',
        "spec:",
        "must specify exactly one of ['role', 'instanceProfile']",
    ),
    "alias beside an id term": (
        NODECLASS,
        "    - alias:",
        "    - id: ami-0123456789abcdef0\n    - alias:",
        "  amiSelectorTerms:",
        "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms",
    ),
    "restricted tag": (
        NODECLASS,
        "  tags:\n    {}",
        "  tags:\n    kubernetes.io/cluster/x: owned",
        "  tags:",
        "tag contains a restricted tag matching kubernetes.io/cluster/",
    ),
    "budget schedule without duration": (
        NODEPOOL,
        BUDGET,
        BUDGET + '\n        schedule: "0 9 * * mon-fri"',
        "    budgets:",
        "'schedule' must be set with 'duration'",
    ),
    "requirement key karpenter.sh/nodepool": (
        NODEPOOL,
        OS_KEY,
        "        - key: karpenter.sh/nodepool",
        "        - key: karpenter.sh/nodepool",
        'label "karpenter.sh/nodepool" is restricted',
    ),
    "In with no values": (
        NODEPOOL,
        '          values: ["linux"]',
        "          values: []",
        "      requirements:",
        "requirements with operator 'In' must have a value defined",
    ),
    "unknown consolidation policy": (
        NODEPOOL,
        'consolidationPolicy: "WhenEmptyOrUnderutilized"',
        "consolidationPolicy: Sometimes",
        "    consolidationPolicy: Sometimes",
        'Unsupported value: "Sometimes"',
    ),
    "storage class with a field StorageClass does not have": (
        STORAGECLASS,
        'reclaimPolicy: "Delete"',
        'reclaimPolicy: "Delete"\nreclaimPolicyy: "Retain"',
        'reclaimPolicyy: "Retain"',
        "unknown field",
    ),
    "storage class volume expansion that is no boolean": (
        STORAGECLASS,
        "allowVolumeExpansion: true",
        'allowVolumeExpansion: "yes"',
        'allowVolumeExpansion: "yes"',
        "must be of type boolean",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_object_is_rejected_by_the_api_servers_rule(repo, case):
    file, old, new, node_line, message = BAD[case]
    text = edit(repo, file, old, new)
    findings, _ = check(repo)
    assert len(findings) == 1, findings
    (finding,) = findings
    assert (finding.file, finding.severity) == (file, "error")
    assert message in finding.message
    assert finding.line == line_of(text, node_line), finding
