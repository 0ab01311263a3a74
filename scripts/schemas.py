"""Re-derive generator/schemas/ from upstream and compare: exact bytes, or this fails.

Every file under generator/schemas/ is an upstream file, byte for byte; PROVENANCE.json names
where each comes from and its sha256. Files whose source is a Go module are downloaded again
from the Go module proxy (`go mod download`, verified by Go's checksum database) and compared;
the eksctl schema is also compared with what the pinned eksctl prints (`eksctl utils schema`).
Files the proxy does not serve (Karpenter v1.0.9, the getting-started CloudFormation) are
checked against the sha256 their provenance records.

    python scripts/schemas.py check     # exit 1 when a byte differs (make schemas-check)
    python scripts/schemas.py add eksctl 0.231.0 | karpenter 1.15.0
                                        # copy a new release's files in, provenance included
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "generator" / "schemas"
PROVENANCE = SCHEMAS / "PROVENANCE.json"
EKSCTL_MODULE = "github.com/weaveworks/eksctl"
EKSCTL_SCHEMA = "pkg/apis/eksctl.io/v1alpha5/assets/schema.json"
KARPENTER_MODULE = "github.com/aws/karpenter-provider-aws"
KARPENTER_CRDS = "pkg/apis/crds"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def module_dir(module: str, version: str) -> Path:
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True, text=True, check=False
    )
    info = json.loads(out.stdout or "{}")
    if out.returncode or "Dir" not in info:
        sys.exit(f"go mod download {module}@{version} failed: {info.get('Error') or out.stderr.strip()}")
    return Path(info["Dir"])


def upstream_bytes(entry: dict) -> bytes | None:
    """The file's bytes as upstream has them now, or None where only the sha256 can be checked."""
    source = entry["source"]
    if source.get("goModule"):
        return (module_dir(source["goModule"], source["version"]) / source["path"]).read_bytes()
    return None


def check() -> int:
    entries = json.loads(PROVENANCE.read_text())["files"]
    failures = 0
    listed = {e["file"] for e in entries}
    for path in sorted(p for p in SCHEMAS.rglob("*") if p.is_file() and p != PROVENANCE):
        if str(path.relative_to(SCHEMAS)) not in listed:
            print(f"FAIL {path.relative_to(ROOT)}: not in PROVENANCE.json")
            failures += 1
    for entry in entries:
        shipped = (SCHEMAS / entry["file"]).read_bytes()
        problems = []
        if sha256(shipped) != entry["sha256"]:
            problems.append(f"sha256 {sha256(shipped)} is not the recorded {entry['sha256']}")
        upstream = upstream_bytes(entry)
        if upstream is not None and upstream != shipped:
            problems.append(f"differs from {entry['source']['goModule']}@{entry['source']['version']}")
        how = "module bytes" if upstream is not None else "recorded sha256"
        print(f"{'FAIL' if problems else 'ok  '} {entry['file']} ({how}) {'; '.join(problems)}")
        failures += bool(problems)
    failures += check_eksctl_prints_its_schema(entries)
    print(f"{len(entries)} files, {failures} failures")
    return 1 if failures else 0


def check_eksctl_prints_its_schema(entries: list[dict]) -> int:
    eksctl = ROOT / ".tools" / "bin" / "eksctl"
    for entry in entries:
        if entry["source"].get("goModule") == EKSCTL_MODULE:
            printed = subprocess.run([str(eksctl), "utils", "schema"], capture_output=True, check=True).stdout
            same = json.loads(printed) == json.loads((SCHEMAS / entry["file"]).read_bytes())
            print(f"{'ok  ' if same else 'FAIL'} {entry['file']} (what `eksctl utils schema` prints)")
            return 0 if same else 1
    return 0


def add(kind: str, version: str) -> int:
    data = json.loads(PROVENANCE.read_text())
    if kind == "eksctl":
        files = {f"eksctl/v{version}/schema.json": (EKSCTL_MODULE, f"v{version}", EKSCTL_SCHEMA)}
    elif kind == "karpenter":
        crds = module_dir(KARPENTER_MODULE, f"v{version}") / KARPENTER_CRDS
        files = {
            f"karpenter/v{version}/crds/{p.name}": (KARPENTER_MODULE, f"v{version}", f"{KARPENTER_CRDS}/{p.name}")
            for p in sorted(crds.glob("*.yaml"))
        }
    else:
        sys.exit(f"unknown kind {kind!r}: eksctl or karpenter")
    for file, (module, tag, path) in files.items():
        body = (module_dir(module, tag) / path).read_bytes()
        (SCHEMAS / file).parent.mkdir(parents=True, exist_ok=True)
        (SCHEMAS / file).write_bytes(body)
        data["files"] = [e for e in data["files"] if e["file"] != file]
        data["files"].append(
            {"file": file, "sha256": sha256(body), "source": {"goModule": module, "version": tag, "path": path}}
        )
    data["files"].sort(key=lambda e: e["file"])
    PROVENANCE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"added {len(files)} files; run `python scripts/schemas.py check`")
    return 0


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["check"]:
            sys.exit(check())
        case ["add", kind, version]:
            sys.exit(add(kind, version))
        case _:
            sys.exit(__doc__)
