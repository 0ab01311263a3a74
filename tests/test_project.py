"""The project itself: its shipped schemas are the upstream bytes they claim, its workflows are
clean, and nothing reads outside the clone."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from generator import resources, versions

ROOT = Path(__file__).resolve().parents[1]


def test_every_shipped_schema_has_its_provenance_and_sha256():
    root = resources.schemas_dir()
    entries = json.loads((root / "PROVENANCE.json").read_text())["files"]
    shipped = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "PROVENANCE.json"}
    assert shipped == {e["file"] for e in entries}
    for entry in entries:
        assert hashlib.sha256((root / entry["file"]).read_bytes()).hexdigest() == entry["sha256"], entry["file"]
        source = entry["source"]
        assert source.get("goModule") or (source.get("repository") and source.get("tag")), entry["file"]


def test_the_pinned_eksctl_and_every_karpenter_release_have_their_schemas():
    root = resources.schemas_dir()
    assert (root / "eksctl" / f"v{versions.EKSCTL_VERSION}" / "schema.json").is_file()
    for version in versions.KARPENTER:
        assert list((root / "karpenter" / f"v{version}" / "crds").glob("*.yaml")), version


def test_the_projects_workflows_pass_actionlint_and_zizmor():
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    subprocess.run(["actionlint", *workflows], check=True, capture_output=True, text=True)
    done = subprocess.run(["zizmor", "--offline", "--format", "plain", *workflows], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nothing_reads_the_steering_folder():
    """The tests and the product read only what is in the clone (shared/ is where data was copied from)."""
    needle = "shared/" + "reference"
    hits = subprocess.run(
        [
            "grep",
            "-rln",
            "-e",
            needle,
            "-e",
            "EKSGEN_" + "REFERENCE",
            "generator",
            "tests",
            "Makefile",
            ".github",
            "scripts",
            "bench",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert hits.stdout == ""


# The layers of ARCHITECTURE.md, by top-level module of the package.
COMMAND_LINE = {"cli", "entry", "__main__"}
OPERATIONS = {"scaffold", "fleet", "values_edit", "validate", "plan", "bootstrap", "deploy", "update"}
# An operation may use another as a whole step of its own (ARCHITECTURE.md says which, and why).
OPERATION_STEPS = {("fleet", "scaffold"), ("deploy", "plan"), ("values_edit", "validate")}


def _imports(path: Path) -> set[str]:
    """The top-level modules of the package that a module imports (generator.X, generator.X.Y -> X)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("generator"):
            parts = node.module.split(".")
            found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("generator.")}
    return found


def test_imports_point_down_and_modules_stay_small():
    """Nothing imports the command line; shared pieces import no operation; an operation imports another
    only where ARCHITECTURE.md says it runs it as a step; every module is under 400 lines."""
    package = ROOT / "generator"
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        layer_of = relative.parts[0].removesuffix(".py")
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines < 400, f"{relative}: {lines} lines"
        for imported in _imports(path) - {layer_of}:
            assert imported not in COMMAND_LINE or layer_of in COMMAND_LINE, f"{relative} imports {imported}"
            if imported in OPERATIONS and layer_of not in COMMAND_LINE:
                assert (layer_of, imported) in OPERATION_STEPS, f"{relative} imports the operation {imported}"
