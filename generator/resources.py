"""The files eksgen reads at run time, found inside the installed package.

A wheel carries the cluster repository template as `generator/_template` (mapped in from the
source tree's `cookiecutter-template/` at build time) and the upstream schemas as
`generator/schemas`. Run from a source checkout, the template is read where it lives.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from generator.errors import EksgenError

# The source tree's template, relative to the package directory (a checkout, or an editable install).
_SOURCE_TEMPLATE = Path("..", "cookiecutter-template")


def _package_dir() -> Path:
    root = resources.files("generator")
    if not isinstance(root, Path):  # a zip import: cookiecutter and helm need real directories
        raise EksgenError(f"eksgen must be installed as files, not imported from {root}")
    return root


def template_dir() -> Path:
    """The cookiecutter template of a cluster repository."""
    package = _package_dir()
    for candidate in (package / "_template", (package / _SOURCE_TEMPLATE).resolve()):
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise EksgenError(f"the cluster repository template is missing from {package}; reinstall eksgen")


def is_source_checkout() -> bool:
    """True when eksgen runs from its source tree rather than from an installed wheel."""
    return not (_package_dir() / "_template").is_dir()


def schemas_dir() -> Path:
    """Upstream schemas shipped with eksgen: eksctl/v<version>/schema.json and
    karpenter/v<version>/{crds/*.yaml,cloudformation.yaml} (see schemas/PROVENANCE.json)."""
    return _package_dir() / "schemas"


def schema_root(override: Path | None = None) -> Path:
    """Where schemas are read: `override` (--schemas), else $EKSGEN_SCHEMAS, else the packaged ones."""
    from_env = os.environ.get("EKSGEN_SCHEMAS")
    root = override or (Path(from_env) if from_env else schemas_dir())
    if not root.is_dir():
        source = "--schemas" if override else "EKSGEN_SCHEMAS" if from_env else "the eksgen package"
        raise EksgenError(f"schema directory {root} (from {source}) not found")
    return root
