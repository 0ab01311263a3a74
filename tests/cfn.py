"""CloudFormation templates in tests: load them (short-form tags included) and resolve their
intrinsic functions offline, so that two templates can be compared by what they mean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "us-west-2",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com",
}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Sub, !Ref, !GetAtt, ...) as their long forms."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict:
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: object = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_Loader.add_multi_constructor("!", _short_form)


def load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader


def resolve(node: object, parameters: dict[str, str] | None = None) -> object:
    """Evaluate Ref, Fn::GetAtt and Fn::Sub with fixed pseudo parameters. References to resources
    become "<ref:Id>" and "<getatt:Id.Attr>", so that equal templates resolve to equal data."""
    parameters = parameters or {}
    if isinstance(node, list):
        return [resolve(item, parameters) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref":
            return parameters.get(value) or PSEUDO.get(value) or f"<ref:{value}>"
        if key == "Fn::GetAtt":
            logical, attribute = value.split(".", 1) if isinstance(value, str) else value
            return f"<getatt:{logical}.{attribute}>"
        if key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], resolve(value[1], parameters))
            return _substitute(text, {**PSEUDO, **parameters, **variables})
    return {key: resolve(value, parameters) for key, value in node.items()}


def _substitute(text: str, variables: dict[str, object]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name:
            return f"<getatt:{name}>"
        return f"<ref:{name}>"

    return _VARIABLE.sub(one, text)


def policy(document: object, parameters: dict[str, str] | None = None) -> dict:
    """A resolved PolicyDocument, whether written as YAML or as an Fn::Sub of a JSON string."""
    resolved = resolve(document, parameters)
    return json.loads(resolved) if isinstance(resolved, str) else resolved
