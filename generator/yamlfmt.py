"""YAML is data, not text: the one way user values reach a YAML file the generator writes.

`to_yaml_scalar` is the Jinja filter the cookiecutter template uses for every user value. Strings
are always double-quoted and escaped by a real YAML emitter, so words YAML 1.1 reads as booleans
or numbers (`yes`, `on`, `0123`), quotes, `#`, colons and newlines survive both YAML 1.2 readers
(ruamel.yaml) and the YAML 1.1 readers inside helm, kubectl and eksctl.
"""

from __future__ import annotations

import io
import json
from typing import Any

from jinja2.ext import Extension
from ruamel.yaml import YAML


def _emitter() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = True
    yaml.default_style = '"'  # type: ignore[assignment]  # ruamel declares it None-only
    yaml.allow_unicode = True
    yaml.width = 1 << 30  # never fold a long value across lines
    return yaml


_YAML = _emitter()


def to_yaml_scalar(value: Any) -> str:
    """One value as inline YAML: strings double-quoted, lists and maps in flow style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return _dump(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_yaml_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_dump(str(k))}: {to_yaml_scalar(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _dump(text: str) -> str:
    buffer = io.StringIO()
    _YAML.dump(text, buffer)
    out = buffer.getvalue()
    # A lone scalar document may end with a document-end marker; keep only the scalar.
    out = out.removesuffix("\n").removesuffix("...").rstrip("\n")
    if "\n" in out:  # the emitter broke the line; an escaped JSON string is equivalent YAML
        return json.dumps(text)
    return out


class YamlScalarExtension(Extension):
    """Registers `yaml` as a Jinja filter for the cookiecutter template."""

    def __init__(self, environment):  # noqa: ANN001 - Jinja's signature
        super().__init__(environment)
        environment.filters["yaml"] = to_yaml_scalar


def values_round_trip() -> YAML:
    """A round-trip YAML that keeps values.yaml's comments and writes it back in the layout eksgen
    generates (`eksgen set`, `eksgen update`)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml
