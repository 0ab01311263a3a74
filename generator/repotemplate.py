"""The files of a cluster repository for a set of answers: the cookiecutter template filled in, the
toolchain wheel placed, rendered/ rendered. `eksgen new` commits them; `eksgen update` merges them."""

from __future__ import annotations

import json
from pathlib import Path

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.generate import generate_files

import generator
from generator import regions, render, resources, toolchain, versions
from generator.answers import Answers
from generator.errors import EksgenError
from generator.rules import MAX_CLUSTER_NAME

# The git trailer of a commit whose tree is exactly eksgen's output (`eksgen new`'s first commit, an
# update's pristine parent): `eksgen update` three-way merges from the newest one HEAD reaches.
VERSION_TRAILER = "Eksgen-Version"


def template_context(answers: Answers) -> dict:
    """Everything the template needs, computed here so the template holds no logic."""
    k8s = versions.KUBERNETES[answers.k8s_version]
    return {
        "cluster_name": answers.name,
        "region": answers.region,
        "k8s_version": answers.k8s_version,
        "karpenter_version": answers.karpenter_version,
        "instance_type": answers.instance_type,
        "vpc_cidr": answers.vpc_cidr,
        "capacity_types": answers.capacity_types,
        "architectures": answers.architectures,
        "environment": answers.environment,
        "aws_account_id": answers.aws_account_id,
        "codeowners": answers.codeowners,
        "tags": answers.tags,
        "answers": answers.as_config(),
        "ami_alias": k8s.ami_alias,
        "kubectl_version": k8s.kubectl,
        "eksctl_version": versions.EKSCTL_VERSION,
        "helm_version": versions.HELM_VERSION,
        "helm_sha256": versions.HELM_SHA256,
        "kubeconform_version": versions.KUBECONFORM_VERSION,
        "kubeconform_sha256": versions.KUBECONFORM_SHA256,
        "alpine_version": versions.ALPINE_VERSION,
        "go_version": versions.GO_VERSION,
        "kubectl_validate_version": versions.KUBECTL_VALIDATE_VERSION,
        "eksgen_version": generator.__version__,
        "k8s_versions": list(versions.KUBERNETES),
        "karpenter_versions": list(versions.KARPENTER),
        "karpenter_releases": {
            v: {"controllerPolicies": list(r.controller_policies)} for v, r in versions.KARPENTER.items()
        },
        "regions": sorted(regions.REGIONS),
        "max_cluster_name": MAX_CLUSTER_NAME,
    }


def build(answers: Answers, output_dir: Path, wheel: Path | None) -> Path:
    """Every file of the repository `eksgen new` makes (template, toolchain wheel, rendered/), in a new
    directory under `output_dir`, without git; return it. `eksgen update` builds its new version here."""
    project = render_template(answers, output_dir)
    toolchain.place(wheel, project)
    render.write(project, render.render(project))
    return project


def render_template(answers: Answers, output_dir: Path) -> Path:
    """Run cookiecutter on the template; return the rendered project directory."""
    template = resources.template_dir()
    config = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    config["cluster_name"] = answers.name
    config["_eks"] = template_context(answers)
    config["_template"] = str(template)
    try:
        project = generate_files(
            repo_dir=str(template),
            context={"cookiecutter": config},
            output_dir=str(output_dir),
            accept_hooks=False,
        )
    except CookiecutterException as exc:
        raise EksgenError(f"the cookiecutter template failed to render: {exc}") from exc
    return Path(project)
