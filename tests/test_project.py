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
