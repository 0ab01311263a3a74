"""The kubeconform check on generated repositories, and the schema translations it relies on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from generator import versions
from generator.answers import Answers
from generator.errors import EksgenError
from generator.scaffold import generate
from generator.validate import crdschema, kubeconform, run, schemacache
from generator.validate.context import Context

# Every (Kubernetes, Karpenter) pair the generator supports among the reference CRDs.
SUPPORTED = [
    (minor, karpenter) for minor in versions.KUBERNETES for karpenter in versions.karpenter_versions_for(minor)
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """generated(k8s, karpenter) -> a pristine repo, generated once per module and pair."""
    repos: dict[tuple[str, str], Path] = {}

    def get(k8s: str = versions.DEFAULT_KUBERNETES, karpenter: str = versions.DEFAULT_KARPENTER) -> Path:
        if (k8s, karpenter) not in repos:
            answers = Answers.from_raw("kc", {"k8s-version": k8s, "karpenter-version": karpenter})
            repos[k8s, karpenter] = generate(answers, tmp_path_factory.mktemp(f"k{k8s}-c{karpenter}"))
        return repos[k8s, karpenter]

    return get


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _cache(shared_cache, monkeypatch) -> None:
    """Schemas are prepared once per module, never in the user's real cache."""
    monkeypatch.setenv("EKSGEN_CACHE", str(shared_cache))


@pytest.fixture
def repo(generated, tmp_path) -> Path:
    copy = tmp_path / "kc"
    shutil.copytree(generated(), copy)
    return copy


# ---- real repositories ---------------------------------------------------------------------
@pytest.mark.parametrize(("k8s", "karpenter"), SUPPORTED)
def test_a_fresh_repo_passes(generated, schemas, k8s, karpenter):
    ctx = Context(generated(k8s, karpenter), schemas=schemas)
    assert kubeconform.run(ctx) == []
    (note,) = ctx.notes["kubeconform"]
    # All three resources were checked against a schema, none skipped.
    assert note.startswith("3 resources in 3 files (3 valid)")
    assert f"Kubernetes {k8s}" in note and f"Karpenter v{karpenter}" in note


def test_the_check_runs_through_the_cli(cli_invoke, generated, schemas):
    result = cli_invoke("validate", generated(), "--only", "kubeconform", "--schemas", schemas)
    assert result.exit_code == 0, result.output
    assert "PASS  kubeconform" in result.output and "3 resources" in result.output


NODEPOOL = "rendered/manifests/nodepool.yaml"
STORAGECLASS = "rendered/manifests/storageclass.yaml"

# (file, text to replace, replacement, the line the finding must point at, field, words of the message)
BAD = {
    "v1beta1 consolidation policy": (
        NODEPOOL,
        'consolidationPolicy: "WhenEmptyOrUnderutilized"',
        'consolidationPolicy: "WhenUnderutilized"',
        '    consolidationPolicy: "WhenUnderutilized"',
        "spec.disruption.consolidationPolicy",
        "must be one of",
    ),
    "expireAfter under disruption": (
        NODEPOOL,
        '    consolidateAfter: "1m"\n',
        '    consolidateAfter: "1m"\n    expireAfter: "720h"\n',
        '    expireAfter: "720h"',
        "spec.disruption.expireAfter",
        "'expireAfter' not allowed",
    ),
    "nodeClassRef.apiVersion": (
        NODEPOOL,
        "        group: karpenter.k8s.aws\n",
        "        group: karpenter.k8s.aws\n        apiVersion: karpenter.k8s.aws/v1\n",
        "        apiVersion: karpenter.k8s.aws/v1",
        "spec.template.spec.nodeClassRef.apiVersion",
        "not allowed",
    ),
    "instanceProfile in the NodePool": (
        NODEPOOL,
        '      expireAfter: "720h"\n',
        '      expireAfter: "720h"\n      instanceProfile: KarpenterNode\n',
        "      instanceProfile: KarpenterNode",
        "spec.template.spec.instanceProfile",
        "not allowed",
    ),
    "userData in the NodePool": (
        NODEPOOL,
        '      expireAfter: "720h"\n',
        '      expireAfter: "720h"\n      userData: "#!/bin/sh"\n',
        '      userData: "#!/bin/sh"',
        "spec.template.spec.userData",
        "not allowed",
    ),
    "misspelt StorageClass field": (
        STORAGECLASS,
        "volumeBindingMode:",
        "volumeBindingMod:",
        "volumeBindingMod: WaitForFirstConsumer",
        "StorageClass/gp3 volumeBindingMod:",
        "not allowed",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_known_bad_manifest_is_rejected_at_its_field(repo, schemas, case):
    file, old, new, marker, field, words = BAD[case]
    path = repo / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    line = path.read_text().splitlines().index(marker) + 1

    findings = kubeconform.run(Context(repo, schemas=schemas))
    assert [(f.file, f.line, f.severity) for f in findings] == [(file, line, "error")], findings
    assert field in findings[0].message and words in findings[0].message


def test_errors_reported_together_are_each_named(repo, schemas):
    """Errors in two places: kubeconform passes one of them on as a cause without a message."""
    path = repo / NODEPOOL
    path.write_text(
        path.read_text()
        .replace('"WhenEmptyOrUnderutilized"', '"WhenUnderutilized"')
        .replace('    consolidateAfter: "1m"\n', '    consolidateAfter: "1m"\n    expireAfter: "720h"\n')
        .replace("        group: karpenter.k8s.aws\n", "        group: karpenter.k8s.aws\n        apiVersion: x/v1\n")
    )
    lines = path.read_text().splitlines()
    findings = kubeconform.run(Context(repo, schemas=schemas))
    assert [(f.line, f.message.split(":")[0]) for f in findings] == [
        (lines.index("        apiVersion: x/v1") + 1, "NodePool/default spec.template.spec.nodeClassRef.apiVersion"),
        (
            lines.index('    consolidationPolicy: "WhenUnderutilized"') + 1,
            "NodePool/default spec.disruption.consolidationPolicy",
        ),
        (lines.index('    expireAfter: "720h"') + 1, "NodePool/default spec.disruption.expireAfter"),
    ], findings
    assert all(f.message.split(": ", 1)[1] for f in findings), "each with kubeconform's or jsonschema's reason"


def test_errors_behind_a_ref_are_named_at_their_field(repo, schemas):
    """kubeconform says only "doesn't validate with ...ObjectMeta" for a bad label value."""
    path = repo / STORAGECLASS
    path.write_text(
        path.read_text()
        .replace("part-of: eks-complete", "part-of: 3")
        .replace("allowVolumeExpansion: true", 'allowVolumeExpansion: "yes"')
    )
    lines = path.read_text().splitlines()
    findings = kubeconform.run(Context(repo, schemas=schemas))
    assert [(f.line, f.message) for f in findings] == [
        (
            lines.index("    app.kubernetes.io/part-of: 3") + 1,
            "StorageClass/gp3 metadata.labels.app.kubernetes.io/part-of: 3 is not of type 'string', 'null'",
        ),
        (
            lines.index('allowVolumeExpansion: "yes"') + 1,
            "StorageClass/gp3 allowVolumeExpansion: expected boolean or null, but got string",
        ),
    ]


def test_a_kind_without_a_schema_is_an_error_not_skipped(repo, schemas):
    (repo / "rendered/manifests/widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    )
    (finding,) = kubeconform.run(Context(repo, schemas=schemas))
    assert (finding.file, finding.line, finding.severity) == ("rendered/manifests/widget.yaml", 1, "error")
    assert "could not find schema for Widget" in finding.message


def test_a_karpenter_kind_of_another_release_has_no_schema(repo, schemas):
    """A v1beta1 NodePool was valid up to Karpenter 1.0; the pinned release serves no v1beta1."""
    path = repo / NODEPOOL
    path.write_text(path.read_text().replace("apiVersion: karpenter.sh/v1\n", "apiVersion: karpenter.sh/v1beta1\n"))
    (finding,) = kubeconform.run(Context(repo, schemas=schemas))
    assert finding.file == NODEPOOL and "could not find schema for NodePool" in finding.message


def test_missing_kubeconform_says_how_to_get_it(repo, schemas, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    (result,) = run(Context(repo, schemas=schemas), only=["kubeconform"])
    (finding,) = result.findings
    assert "make setup" in finding.message and "yannh/kubeconform/cmd/kubeconform@v0.6.7" in finding.message


def test_a_kubernetes_version_without_schemas_is_an_error(repo, schemas):
    values = repo / "values.yaml"
    old = f'eksVersion: "{versions.DEFAULT_KUBERNETES}"'
    assert old in values.read_text()
    values.write_text(values.read_text().replace(old, 'eksVersion: "1.9"'))
    with pytest.raises(EksgenError, match="no schemas for Kubernetes 1.9"):
        kubeconform.run(Context(repo, schemas=schemas))


# ---- the cache -------------------------------------------------------------------------------
def test_a_warm_run_converts_nothing(generated, schemas, monkeypatch, tmp_path):
    monkeypatch.setenv("EKSGEN_CACHE", str(tmp_path / "cache"))
    assert kubeconform.run(Context(generated(), schemas=schemas)) == []
    assert len(list((tmp_path / "cache" / "crds").iterdir())) == 1
    cached = [p.name for p in (tmp_path / "cache" / "kubernetes").glob("*/*")]
    assert cached == [f"v{versions.DEFAULT_KUBERNETES}-strict"]

    def no_conversion(*args: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(schemacache, "_copy_rewritten", no_conversion)
    monkeypatch.setattr(crdschema, "write_crd_schemas", no_conversion)
    ctx = Context(generated(), schemas=schemas)
    assert kubeconform.run(ctx) == [] and "3 valid" in ctx.notes["kubeconform"][0]


def test_a_failed_fill_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv("EKSGEN_CACHE", str(tmp_path))

    def half_written(target: Path) -> None:
        (target / "a.json").write_text("{}")
        raise EksgenError("interrupted")

    with pytest.raises(EksgenError, match="interrupted"):
        schemacache.cached_dir("kind/key", half_written)
    assert list((tmp_path / "kind").iterdir()) == []
    assert schemacache.cached_dir("kind/key", lambda target: (target / "b.json").write_text("{}")).is_dir()
    assert [p.name for p in (tmp_path / "kind" / "key").iterdir()] == ["b.json"]


def test_changed_crds_get_their_own_schemas(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSGEN_CACHE", str(tmp_path / "cache"))
    crd_file = tmp_path / "widgets.yaml"
    crd_file.write_text("v1")
    first = schemacache.crd_schemas([crd_file], lambda: [WIDGET_CRD])
    crd_file.write_text("v2")
    assert schemacache.crd_schemas([crd_file], lambda: [WIDGET_CRD]) != first


# ---- $ref rewriting --------------------------------------------------------------------------
def test_refs_become_relative_to_the_schema_file():
    schema = {
        "$id": "https://kubernetes.io/api/storageclass/storage/v1",
        "properties": {
            "metadata": {"$ref": "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            "items": {"items": [{"$ref": "/api/_definitions.json#/$defs/x"}]},
            "$ref": {"type": "string"},  # a property named "$ref" (JSONSchemaProps has one) stays
            "local": {"$ref": "#/$defs/y"},
        },
    }
    assert schemacache.rewrite_refs(schema) == {
        "properties": {
            "metadata": {"$ref": "_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
            "items": {"items": [{"$ref": "_definitions.json#/$defs/x"}]},
            "$ref": {"type": "string"},
            "local": {"$ref": "#/$defs/y"},
        },
    }


def test_cached_kubernetes_schemas_only_refer_to_files_beside_them(tmp_path, monkeypatch):
    monkeypatch.setenv("EKSGEN_CACHE", str(tmp_path))
    directory = schemacache.kubernetes_schemas(versions.DEFAULT_KUBERNETES)
    text = (directory / "storageclass-storage-v1.json").read_text()
    refs = {ref.split("#")[0] for ref in _refs(json.loads(text))}
    assert refs == {"_definitions.json"} and (directory / "_definitions.json").is_file()
    assert "$id" not in json.loads(text) and "https://" not in "".join(_refs(json.loads(text)))


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


# ---- CRD conversion --------------------------------------------------------------------------
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "A widget.",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "x-kubernetes-validations": [{"rule": "self.size > 0"}],
                                "properties": {
                                    "size": {
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                        "x-kubernetes-int-or-string": True,
                                        "pattern": "^[0-9]+%?$",
                                    },
                                    "mode": {"type": "string", "enum": ["A", "B"], "nullable": True},
                                    "extra": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                        "properties": {"known": {"type": "string"}},
                                    },
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string", "maxLength": 3},
                                    },
                                    "timeout": {"type": "string", "format": "duration"},
                                    "created": {"type": "string", "format": "date-time"},
                                },
                            },
                        },
                    }
                },
            },
            {"name": "v1alpha1", "served": False, "storage": False, "schema": {"openAPIV3Schema": {"type": "object"}}},
        ],
    },
}


def _validator(version: str = "v1") -> jsonschema.Draft7Validator:
    schema = crdschema.crd_schemas(WIDGET_CRD)[f"widget_{version}.json"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _errors(spec: dict, **top: object) -> list[str]:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec, **top}
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(widget)]


def test_only_served_versions_get_a_schema():
    assert list(crdschema.crd_schemas(WIDGET_CRD)) == ["widget_v1.json"]


def test_int_or_string_accepts_both_and_nothing_else():
    assert _errors({"size": 3}) == [] and _errors({"size": "30%"}) == []
    assert _errors({"size": 1.5}) and _errors({"size": ["3"]})
    assert _errors({"size": "thirty"}), "the pattern still applies to strings"


def test_nullable_allows_null_and_keeps_the_enum():
    assert _errors({"mode": None}) == [] and _errors({"mode": "A"}) == []
    assert _errors({"mode": "C"})


def test_unknown_fields_are_rejected_unless_preserved():
    assert _errors({"colour": "red"}) == ["spec: Additional properties are not allowed ('colour' was unexpected)"]
    assert _errors({"extra": {"known": "x", "anything": {"at": "all"}}}) == []
    assert _errors({"extra": {"known": 1}}), "preserved objects still check the fields they declare"
    assert _errors({"labels": {"a": "b", "c": "toolong"}}) == ["spec.labels.c: 'toolong' is too long"]
    assert _errors({}, status={}) == [": Additional properties are not allowed ('status' was unexpected)"]


def test_api_version_kind_and_metadata_are_pinned():
    assert _errors({}, apiVersion="example.com/v2")
    assert _errors({}, kind="Gadget")
    assert _errors({}, metadata={"name": "w", "labels": {"a": 1}})
    assert _errors({}, metadata={"name": "w", "uid": "any", "annotations": {"a": "b"}}) == []


def test_kubernetes_formats_are_kept_unless_json_schema_reads_them_differently():
    spec = crdschema.crd_schemas(WIDGET_CRD)["widget_v1.json"]["properties"]["spec"]["properties"]
    assert spec["created"] == {"type": "string", "format": "date-time"}
    assert spec["timeout"] == {"type": "string"}, "a Go duration (720h) to Kubernetes, ISO 8601 to JSON Schema"


def test_written_files_are_named_for_the_kubeconform_template(tmp_path):
    (path,) = crdschema.write_crd_schemas([WIDGET_CRD], tmp_path / "out")
    assert path == tmp_path / "out" / "widget_v1.json"
    assert crdschema.SCHEMA_TEMPLATE == "{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
    assert json.loads(path.read_text())["properties"]["kind"] == {"type": "string", "const": "Widget"}


@pytest.mark.parametrize("version", list(versions.KARPENTER))
def test_reference_crds_of_karpenter_serve_its_kinds_at_v1_only(schemas, tmp_path, version):
    """Karpenter 1.0 still served v1beta1 beside v1; the pinned releases serve only v1."""
    names = {p.name for p in crdschema.write_crd_schemas(_crds(schemas, version), tmp_path / "out")}
    core = {n for n in names if n.split("_")[0] in ("ec2nodeclass", "nodeclaim", "nodepool")}
    assert core == {"ec2nodeclass_v1.json", "nodeclaim_v1.json", "nodepool_v1.json"}


def _crds(schemas: Path, version: str) -> list[dict]:
    loader = YAML(typ="safe")
    crd_dir = schemas / "karpenter" / f"v{version}" / "crds"
    return [loader.load(p.read_text()) for p in sorted(crd_dir.glob("*.yaml"))]


def test_two_crds_of_one_kind_and_version_cannot_share_a_file(tmp_path):
    other_group = {**WIDGET_CRD, "spec": {**WIDGET_CRD["spec"], "group": "example.org"}}
    with pytest.raises(EksgenError, match="two CustomResourceDefinitions define widget_v1"):
        crdschema.write_crd_schemas([WIDGET_CRD, other_group], tmp_path)


@pytest.mark.parametrize("version", list(versions.KARPENTER))
def test_every_converted_reference_schema_is_valid_draft_07(schemas, tmp_path, version):
    for path in crdschema.write_crd_schemas(_crds(schemas, version), tmp_path):
        jsonschema.Draft7Validator.check_schema(json.loads(path.read_text()))
