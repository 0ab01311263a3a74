"""User strings never break the YAML: property-based, through cookiecutter and real helm.

Every generated example goes through the same path as `eksgen new` (answers -> template ->
values.yaml -> helm template -> rendered/) and is then read back by a YAML 1.2 reader
(ruamel.yaml) and a YAML 1.1 reader (PyYAML, as helm, kubectl and eksctl read YAML 1.1).
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import yaml as pyyaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator import render, repotemplate
from generator.answers import Answers

TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "~",
    "0123",
    "0x1F",
    "1e3",
    "1_000",
    "12:30:00",
    ".inf",
    "-.nan",
    "2001-12-14",
    "a: b",
    "#hash",
    "'single'",
    '"double"',
    "- item",
    "[flow]",
    "{map}",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "| literal",
    "> folded",
    "---",
    "...",
    " padded ",
    "tab\there",
    "line\nbreak",
    "trailing\n",
    "ünïcödé ✓ 😀",
    "\u2028sep",
    "\u00a0nbsp",
    "{{ not.a.template }}",
    "${NOT_ENV}",
    "<b>&amp;</b>",
]


def _aws_tag_text(text: str) -> bool:
    """AWS allows letters, numbers, spaces and _ . : / = + - @ in tags (answers.py has the rules)."""
    return all(c.isalnum() or c in " _.:/=+-@" for c in text)


# YAML-tricky strings that AWS accepts as tags: they must still come out of every file exactly.
AWS_TRICKY = [t for t in TRICKY if _aws_tag_text(t)] + ["a: b", "@at", "- item", "12:30:00", "1_000", "ünïcödé"]
ALPHABET = string.ascii_letters + string.digits + " _.:/=+-@äöüяжß"
tag_values = st.one_of(st.sampled_from(AWS_TRICKY), st.text(ALPHABET, max_size=40)).filter(
    lambda v: not v.lower().startswith("aws:")
)
tag_keys = st.one_of(
    st.sampled_from(["yes", "on", "0123", "a:b", "team/owner", "ключ", "k y", "@k", "1e3", ".inf"]),
    st.text(ALPHABET.replace("=", ""), min_size=1, max_size=30),
).filter(
    lambda k: (
        k.strip() == k
        and not k.startswith(
            ("-", "aws:", "AWS:", "kubernetes.io/cluster", "eksgen.io/", "alpha.eksctl.io/", "eksctl.cluster.k8s.io/")
        )
        and k
        not in (
            "karpenter.sh/discovery",
            "karpenter.sh/nodepool",
            "karpenter.sh/nodeclaim",
            "karpenter.k8s.aws/ec2nodeclass",
            "eks:eks-cluster-name",
        )
    )
)
# Cluster names are eksctl's: a letter, then letters, digits and '-'; still many read as non-strings.
names = st.one_of(
    st.sampled_from(["yes", "on", "off", "no", "y", "n", "True", "NO", "null", "Null", "Off"]),
    st.from_regex(r"[A-Za-z][0-9A-Za-z-]{0,45}", fullmatch=True),
)


def _readers():
    ruamel = YAML(typ="safe", pure=True)
    return [
        lambda text: list(ruamel.load_all(text)),
        lambda text: list(pyyaml.load_all(text, Loader=pyyaml.SafeLoader)),
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(
    name="yes", tags={"on": "0123", "note": "a: b = c", "null": "~" if _aws_tag_text("~") else "null", "at": "@at"}
)
@given(name=names, tags=st.dictionaries(tag_keys, tag_values, max_size=4))
def test_names_and_tags_survive_every_file_exactly(name: str, tags: dict[str, str]):
    answers = Answers.from_raw(name, {"tags": tags})
    with tempfile.TemporaryDirectory() as tmp:
        repo = repotemplate.render_template(answers, Path(tmp))
        files = render.render(repo)
        for read in _readers():
            values = read((repo / "values.yaml").read_text())[0]
            assert values["clusterName"] == name
            assert values["tags"] == tags

            recorded = read((repo / ".eksgen.yaml").read_text())[0]
            assert recorded["name"] == name and recorded["answers"]["tags"] == tags

            config = read(files["rendered/eksctl/cluster.yaml"])[0]
            assert config["metadata"]["name"] == name
            assert config["metadata"]["tags"] == {"karpenter.sh/discovery": name, **tags}
            assert config["managedNodeGroups"][0]["tags"] == tags

            node_class = read(files["rendered/manifests/ec2nodeclass.yaml"])[0]
            assert node_class["spec"]["tags"] == tags
            assert node_class["spec"]["role"] == f"KarpenterNodeRole-{name}"
            assert node_class["spec"]["subnetSelectorTerms"][0]["tags"]["karpenter.sh/discovery"] == name

            storage = read(files["rendered/manifests/storageclass.yaml"])[0]
            specs = {v for k, v in storage["parameters"].items() if k.startswith("tagSpecification_")}
            assert specs == {f"{k}={v}" for k, v in tags.items()}
