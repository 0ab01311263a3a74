"""The `apiserver` check: the API server's own validation of every rendered manifest, offline.

kubectl-validate runs the Kubernetes API server's validation code without a cluster: built-in
kinds against the cluster's Kubernetes minor (`--version`), custom resources against the repo's
pinned Karpenter CRDs (`--local-crds`), with defaulting, structural pruning and every
`x-kubernetes-validations` (CEL) rule evaluated by the API server's CEL library itself. So a
manifest this check passes is one `kubectl apply` would not refuse for its content.

Transition rules (those reading `oldSelf`) compare with the stored object and only run on
update; on a create, as here, the API server skips them too.
"""

from __future__ import annotations

import re

from generator import tools, versions
from generator.layout import RENDERED
from generator.validate.context import Context, Document, Finding, ToolReportError, json_report

CHECK = "apiserver"
MANIFESTS = RENDERED / "manifests"
TIMEOUT = 60  # seconds; a few small files take well under one
# The aggregate cause the API server adds when it stopped before the CEL rules: not a finding of its own.
_RULES_NOT_REACHED = "some validation rules were not checked because the object was invalid"
_INDEX = re.compile(r"\[(\d+)\]")


def run(ctx: Context) -> list[Finding]:
    binary = tools.find("kubectl-validate")
    files = ctx.manifest_files()
    command = [
        binary,
        "--version",
        ctx.eks_version,
        "--local-crds",
        str(ctx.karpenter_crd_dir()),
        "--output",
        "json",
        "--",
        *files,
    ]
    try:
        report, code, output = json_report("kubectl-validate", command, ctx.repo, TIMEOUT)
    except ToolReportError as exc:
        return [exc.finding]
    documents = {(d.file, d.index): d for d in ctx.manifests}
    findings: list[Finding] = []
    for file, statuses in sorted(report.items()):
        for index, status in enumerate(statuses or []):
            findings += _findings(file, documents.get((file, index)), status)
    if code != 0 and not findings:
        findings.append(Finding(str(MANIFESTS), None, f"kubectl-validate exited {code}: {output}"))
    objects = sum(len(s or []) for s in report.values())
    ctx.note(
        CHECK,
        f"{objects} objects in {len(files)} files, as the API server of Kubernetes {ctx.eks_version} "
        f"validates them, with the CRDs of Karpenter v{ctx.karpenter_version} "
        f"(kubectl-validate v{versions.KUBECTL_VALIDATE_VERSION})",
    )
    return findings


def _findings(file: str, doc: Document | None, status: dict) -> list[Finding]:
    if status.get("status") == "Success":
        return []
    causes = [
        c
        for c in (status.get("details") or {}).get("causes") or []
        if _RULES_NOT_REACHED not in str(c.get("message", ""))
    ]
    if not causes:
        return [Finding(file, doc.line() if doc else None, str(status.get("message", "rejected")))]
    out = []
    for cause in causes:
        field = str(cause.get("field", ""))
        message = str(cause.get("message", ""))
        if doc is None:
            out.append(Finding(file, None, f"{field}: {message}" if field else message))
            continue
        out.append(doc.finding(_path(field), message))
    return out


def _path(field: str) -> list[str | int]:
    """The API server's field path (`spec.template.spec.requirements[0].key`) as a path list."""
    if not field or field.startswith("<"):
        return []
    path: list[str | int] = []
    for part in field.split("."):
        name, *indexes = _INDEX.split(part)
        if name:
            path.append(name)
        path += [int(i) for i in indexes if i]
    return path
