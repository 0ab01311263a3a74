"""The `cel` check: the Karpenter CRDs' CEL rules evaluated on the rendered objects, offline."""

from __future__ import annotations

import copy
import re
import shutil
import time
from pathlib import Path

import cel as celpy
import pytest
from ruamel.yaml import YAML

from generator.answers import Answers
from generator.scaffold import generate
from generator.validate import cel
from generator.validate.context import Context, Finding

NODEPOOL = "rendered/manifests/nodepool.yaml"
NODECLASS = "rendered/manifests/ec2nodeclass.yaml"
VERSIONS = {"1.14.1": {}, "1.0.9": {"karpenter-version": "1.0.9"}}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Path]:
    return {version: generate(Answers.from_raw("demo", raw), tmp_path_factory.mktemp(f"karpenter-{version}"))
            for version, raw in VERSIONS.items()}


@pytest.fixture(params=list(VERSIONS))
def repo(request, pristine, tmp_path) -> Path:
    copy_ = tmp_path / "demo"
    shutil.copytree(pristine[request.param], copy_)
    return copy_


def edit(repo: Path, file: str, old: str, new: str) -> str:
    """Replace `old` (which must be there) in a rendered file; returns the new text."""
    path = repo / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {file}; did the template change?"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text.replace(old, new)


def line_of(text: str, line: str) -> int:
    return [n for n, content in enumerate(text.splitlines(), 1) if content == line][0]


def check(repo: Path, reference: Path) -> tuple[list[Finding], list[str]]:
    ctx = Context(repo, schemas=reference)
    findings = cel.run(ctx)
    return findings, ctx.notes["cel"]


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


# ---- a generated repo ---------------------------------------------------------------------------
def test_a_fresh_repo_passes_and_says_what_it_evaluated(repo, reference):
    findings, notes = check(repo, reference)
    version = YAML(typ="safe").load((repo / "values.yaml").read_text())["karpenter"]["version"]
    assert findings == []
    assert notes[0].startswith(f"Karpenter v{version} CRDs: ")
    evaluated = int(re.search(r"(\d+) rules evaluated", notes[1]).group(1))
    assert evaluated >= 30  # both objects' rules ran, not just a handful
    assert "0 rules failed" in notes[1] and "0 NOT CHECKED" in notes[1]
    assert "EC2NodeClass/default" in notes[1] and "NodePool/default" in notes[1]


def test_the_check_is_fast(repo, reference):
    started = time.perf_counter()
    check(repo, reference)
    assert time.perf_counter() - started < 2.0


# ---- known-bad objects: each rejected by its rule, with file, line and message ----------------------
ROLE = '  role: "KarpenterNodeRole-demo"'
ALIAS = '    - alias: "al2023@v20261112"'
BUDGET = '      - nodes: "10%"'
OS_KEY = "        - key: kubernetes.io/os"
GT_VALUES = '          values: ["2"]'

BAD = {
    "role and instanceProfile": (
        NODECLASS, ROLE, ROLE + '\n  instanceProfile: "KarpenterNodeInstanceProfile-demo"', "spec:",
        "must specify exactly one of ['role', 'instanceProfile']"),
    "alias beside an id term": (
        NODECLASS, ALIAS, ALIAS + "\n    - id: ami-0123456789abcdef0", "  amiSelectorTerms:",
        "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms"),
    "alias with tags": (
        NODECLASS, ALIAS, ALIAS + "\n      tags:\n        Name: custom", "  amiSelectorTerms:",
        "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms"),
    "restricted tag": (
        NODECLASS, "  tags:\n    {}", "  tags:\n    kubernetes.io/cluster/x: owned", "  tags:",
        "tag contains a restricted tag matching kubernetes.io/cluster/"),
    "budget schedule without duration": (
        NODEPOOL, BUDGET, BUDGET + '\n        schedule: "0 9 * * mon-fri"', "    budgets:",
        "'schedule' must be set with 'duration'"),
    "requirement key karpenter.sh/nodepool": (
        NODEPOOL, OS_KEY, "        - key: karpenter.sh/nodepool", "        - key: karpenter.sh/nodepool",
        'label "karpenter.sh/nodepool" is restricted'),
    "requirement key in the karpenter.sh domain": (
        NODEPOOL, OS_KEY, "        - key: karpenter.sh/custom", "        - key: karpenter.sh/custom",
        'label domain "karpenter.sh" is restricted'),
    "In with no values": (
        NODEPOOL, '          values: ["linux"]', "          values: []", "      requirements:",
        "requirements with operator 'In' must have a value defined"),
    "Gt with a negative value": (
        NODEPOOL, GT_VALUES, '          values: ["-1"]', "      requirements:",
        "must have a single positive integer value"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_object_is_rejected_by_its_rule(repo, reference, case):
    file, old, new, node_line, message = BAD[case]
    text = edit(repo, file, old, new)
    findings, notes = check(repo, reference)
    (finding,) = errors(findings)
    assert finding.file == file
    assert finding.line == line_of(text, node_line)
    assert message in finding.message
    assert finding.rule and finding.rule in _rules_in(reference, repo)
    assert "1 rules failed" in notes[1]


def test_a_gt_value_that_is_no_integer_is_an_evaluation_error_as_in_the_api_server(repo, reference):
    text = edit(repo, NODEPOOL, GT_VALUES, '          values: ["two"]')
    (finding,) = errors(check(repo, reference)[0])
    assert (finding.file, finding.line) == (NODEPOOL, line_of(text, "      requirements:"))
    assert "NodePool/default spec.template.spec.requirements: " in finding.message
    assert "requirements operator 'Gt'" in finding.message
    assert "must have a single positive integer value (the rule failed to evaluate: " in finding.message
    assert "string parse error" in finding.message


def test_a_null_the_schema_does_not_allow_is_pruned_before_the_rules(repo, reference):
    edit(repo, NODECLASS, ROLE, ROLE + "\n  instanceProfile:")  # null: the API server drops it
    assert check(repo, reference)[0] == []


def _rules_in(reference: Path, repo: Path) -> set[str]:
    version = YAML(typ="safe").load((repo / "values.yaml").read_text())["karpenter"]["version"]
    crds = Context(repo, schemas=reference).karpenter_crds
    assert version in str(Context(repo, schemas=reference).karpenter_crd_dir())
    return {str(r["rule"]) for crd in crds for v in crd["spec"]["versions"]
            for _, r in cel.rules_of(v["schema"]["openAPIV3Schema"])}


# ---- defaults, messageExpression, rules that cannot run ---------------------------------------
V1BETA1_POOL = """\
apiVersion: karpenter.sh/v1beta1
kind: NodePool
metadata:
  name: old
spec:
  disruption:
    consolidateAfter: 30s
  template:
    spec:
      nodeClassRef:
        name: default
      requirements:
        - key: kubernetes.io/arch
          operator: In
          values: ["amd64"]
"""


def test_rules_see_schema_defaults(pristine, reference, tmp_path):
    # v1beta1 defaults consolidationPolicy to WhenUnderutilized, which forbids consolidateAfter.
    repo = tmp_path / "demo"
    shutil.copytree(pristine["1.0.9"], repo)
    (repo / "rendered/manifests/old-nodepool.yaml").write_text(V1BETA1_POOL)
    (finding,) = errors(check(repo, reference)[0])
    assert finding.file == "rendered/manifests/old-nodepool.yaml" and finding.line == 6
    assert "spec.disruption: consolidateAfter cannot be combined with consolidationPolicy=WhenUnderutilized" in (
        finding.message)
    fixed = V1BETA1_POOL.replace("    consolidateAfter: 30s", "    consolidationPolicy: WhenEmpty\n"
                                 "    consolidateAfter: 30s")
    (repo / "rendered/manifests/old-nodepool.yaml").write_text(fixed)
    assert check(repo, reference)[0] == []


def _with_extra_rules(repo: Path, reference: Path, rules: list[dict]) -> Context:
    """A Context whose NodePool CRD carries `rules` on spec, beside its own."""
    ctx = Context(repo, schemas=reference)
    crds = copy.deepcopy(ctx.karpenter_crds)
    pools = next(c for c in crds if c["spec"]["names"]["kind"] == "NodePool")
    for version in pools["spec"]["versions"]:
        spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        spec["x-kubernetes-validations"] = [*spec.get("x-kubernetes-validations", []), *rules]
    ctx._crds = crds  # stands in for the parsed CRD files
    return ctx


def test_a_failed_rule_reports_its_message_expression(repo, reference):
    ctx = _with_extra_rules(repo, reference, [{
        "rule": "self.disruption.consolidateAfter != '1m'",
        "messageExpression": "'consolidateAfter ' + self.disruption.consolidateAfter + ' is not allowed here'",
    }, {"rule": "self.disruption.consolidateAfter == '2m'"}])
    messages = [f.message for f in errors(cel.run(ctx))]
    assert messages == ["NodePool/default spec: consolidateAfter 1m is not allowed here",
                        "NodePool/default spec: failed rule: self.disruption.consolidateAfter == '2m'"]


def test_rules_that_cannot_run_are_reported_not_checked_never_passed(repo, reference):
    ctx = _with_extra_rules(repo, reference, [
        {"rule": "isQuantity(self.limits.cpu)", "message": "unknown function"},
        {"rule": "self.limits.cpu.isSorted()", "message": "wrong overload at run time"},
        {"rule": "self.limits.?cpu.hasValue()", "message": "optional syntax"},
        {"rule": "self.weight == oldSelf.weight", "message": "transition"},
    ])
    findings = cel.run(ctx)
    assert errors(findings) == []
    warned = {f.rule: f.message for f in findings if f.severity == "warning"}
    assert set(warned) == {"isQuantity(self.limits.cpu)", "self.limits.cpu.isSorted()", "self.limits.?cpu.hasValue()"}
    assert "unsupported function isQuantity" in warned["isQuantity(self.limits.cpu)"]
    assert "not checked (unsupported call" in warned["self.limits.cpu.isSorted()"]
    assert "does not compile" in warned["self.limits.?cpu.hasValue()"]
    note = ctx.notes["cel"][1]
    assert "3 NOT CHECKED (does not compile" in note and "unsupported function isQuantity" in note
    assert "transition rules not applicable" in note
    assert re.search(r"[1-9]\d* transition rules not applicable", note)


# ---- inventory: every rule of both pinned versions classified -------------------------------------
@pytest.mark.parametrize("version", list(VERSIONS))
def test_inventory_classifies_every_rule(reference, version):
    loader = YAML(typ="safe")
    crds = [loader.load(p.read_text()) for p in sorted((reference / f"karpenter/v{version}/crds").glob("*.yaml"))]
    inventory = cel.inventory(crds)
    print(f"\nKarpenter v{version}:", {k: v for k, v in inventory.items() if k != "by_crd"})
    for name, counts in inventory["by_crd"].items():
        print(f"  {name}: {counts}")
    total = sum(1 for crd in crds for v in crd["spec"]["versions"]
                for _ in cel.rules_of(v["schema"]["openAPIV3Schema"]))
    # Each rule is a list item opening with its first key in sorted order: message, or rule alone.
    texts = sum(len(re.findall(r"^\s*- (?:message|rule):", p.read_text(), re.M))
                for p in (reference / f"karpenter/v{version}/crds").glob("*.yaml"))
    assert total == texts  # the schema walk reaches every rule written in the files
    assert inventory["total"] == total
    assert inventory["evaluable"] + inventory["transition"] + inventory["not_checkable"] == total
    assert sum(c["total"] for c in inventory["by_crd"].values()) == total
    assert len(inventory["not_checkable_rules"]) == inventory["not_checkable"]
    assert inventory["transition"] >= 1 and inventory["evaluable"] >= 0.9 * total


# ---- the Kubernetes CEL functions implemented here ---------------------------------------------------
def evaluate(expression: str, **variables: object) -> object:
    return celpy.compile(expression).execute(celpy.Context(variables=variables, functions=cel.FUNCTIONS))


def test_find_returns_the_leftmost_whole_match_or_empty():
    assert evaluate("'karpenter.sh/nodepool'.find('^([^/]+)')") == "karpenter.sh"
    assert evaluate("'al2023@latest'.find('^[^@]+')") == "al2023"
    assert evaluate("'abc 123 456'.find('[0-9]+')") == "123"
    assert evaluate("'abc'.find('[0-9]+')") == ""
    with pytest.raises(TypeError):
        cel.find(1, "x")  # type: ignore[arg-type]


def test_find_all_matches_go_including_limits_and_empty_matches():
    assert evaluate("'a1b22c333'.findAll('[0-9]+')") == ["1", "22", "333"]
    assert evaluate("'a1b22c333'.findAll('[0-9]+', 2)") == ["1", "22"]
    assert evaluate("'a1b22c333'.findAll('[0-9]+', 0)") == []
    assert evaluate("'a1b22c333'.findAll('([a-z])[0-9]')") == ["a1", "b2", "c3"]  # whole match, not group
    assert cel.find_all("baaa", "a*") == ["", "aaa"]  # Go drops the empty match after "aaa"
    assert cel.find_all("abc", "") == ["", "", "", ""]


def test_patterns_that_only_re2_understands_are_unsupported_not_wrong():
    for pattern in ("[[:alpha:]]+", r"\pL+", r"abc\z"):
        with pytest.raises(TypeError):
            cel.find("abc", pattern)
    with pytest.raises(RuntimeError, match="Python function call failed: TypeError"):
        evaluate(r"'abc'.find('\\pL')")


def test_is_sorted():
    assert evaluate("[1, 2, 2, 3].isSorted()") is True
    assert evaluate("[3, 1].isSorted()") is False
    assert evaluate("['a', 'b'].isSorted()") and evaluate("[].isSorted()")
    with pytest.raises(TypeError):
        cel.is_sorted([1, "a"])
    with pytest.raises(TypeError):
        cel.is_sorted([True, 1])


def test_index_of_on_lists_and_strings():
    assert evaluate("[1, 2, 3, 2].indexOf(2)") == 1
    assert evaluate("[1, 2, 3, 2].lastIndexOf(2)") == 3
    assert evaluate("[1, 2].indexOf(5)") == -1 and evaluate("[1, 2].lastIndexOf(5)") == -1
    assert cel.index_of([1, True], True) == 1  # CEL's true is not 1
    assert evaluate("'hello'.indexOf('l')") == 2 and evaluate("'hello'.lastIndexOf('l')") == 3
    assert evaluate("'hello'.indexOf('l', 3)") == 3
    with pytest.raises(TypeError):
        cel.index_of(3, 1)


def test_the_reused_extensions_refuse_other_receivers_as_no_such_overload():
    assert evaluate("'al2023@latest'.split('@')") == ["al2023", "latest"]
    assert evaluate("'AbC'.lowerAscii()") == "abc"
    assert evaluate("sets.contains([1, 2, 3], [2])") is True
    assert evaluate("[3, 1, 2].min()") == 1
    with pytest.raises(RuntimeError, match="Python function call failed: TypeError"):
        evaluate("x.lowerAscii()", x=12)


NATIVE_SAMPLES = {
    "size": "size('ab') == 2 && [1].size() == 1 && {'a': 1}.size() == 1",
    "contains": "'abc'.contains('b')",
    "startsWith": "'abc'.startsWith('a')",
    "endsWith": "'abc'.endsWith('c')",
    "matches": "'al2023@latest'.matches('^[a-zA-Z0-9]+@.+$') && !'x'.matches('^y')",
    "int": "int('12') == 12",
    "uint": "uint(3) == 3u",
    "double": "double(1) == 1.0",
    "string": "string(12) == '12'",
    "bytes": "bytes('a') == b'a'",
    "timestamp": "timestamp('2020-01-01T00:00:00Z') < timestamp('2021-01-01T00:00:00Z')",
    "duration": "duration('1h') > duration('30m')",
    "dyn": "dyn(1) == 1",
    "type": "type(1) == int",
    "getFullYear": "timestamp('2020-03-04T05:06:07.008Z').getFullYear() == 2020",
    "getMonth": "timestamp('2020-03-04T05:06:07.008Z').getMonth() == 2",
    "getDayOfMonth": "timestamp('2020-03-04T05:06:07.008Z').getDayOfMonth() == 3",
    "getDayOfWeek": "timestamp('2020-03-04T05:06:07.008Z').getDayOfWeek() == 3",
    "getDayOfYear": "timestamp('2020-03-04T05:06:07.008Z').getDayOfYear() == 63",
    "getHours": "timestamp('2020-03-04T05:06:07.008Z').getHours() == 5",
    "getMinutes": "timestamp('2020-03-04T05:06:07.008Z').getMinutes() == 6",
    "getSeconds": "timestamp('2020-03-04T05:06:07.008Z').getSeconds() == 7",
    "getMilliseconds": "timestamp('2020-03-04T05:06:07.008Z').getMilliseconds() == 8",
}


@pytest.mark.parametrize("name", sorted(NATIVE_SAMPLES))
def test_each_native_function_really_runs_in_the_package(name):
    assert set(NATIVE_SAMPLES) == set(cel.NATIVE)
    program = celpy.compile(NATIVE_SAMPLES[name])
    assert name in program.functions()
    assert program.execute(celpy.Context()) is True  # no Python function involved


def test_rule_classification():
    assert cel.compiled("self == oldSelf").kind == cel.TRANSITION
    assert cel.compiled("has(self.role) && self.role != ''").kind == cel.EVALUABLE
    unknown = cel.compiled("self.url().getHost() == 'x'")
    assert unknown.kind == cel.NOT_CHECKABLE and unknown.reason == "unsupported function getHost, url"
    assert cel.compiled("self.a.?b.orValue(1) == 1").reason.startswith("does not compile")
    assert cel.compiled("self.x") is cel.compiled("self.x")  # compiled once per process
