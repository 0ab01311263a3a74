"""`eksgen new`: answers from options, a --config file, a --fleet file or prompts."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from generator import answers as answers_module
from generator import versions
from generator.answers import Answers
from generator.errors import AnswerError

# Answers asked for at a terminal, in this order, with their prompts.
PROMPTS = {
    "region": "AWS region",
    "k8s-version": "Kubernetes version",
    "karpenter-version": "Karpenter version",
    "instance-type": "Instance type of the managed node group",
    "vpc-cidr": "VPC CIDR",
    "capacity-types": "Karpenter capacity types (spot,on-demand)",
    "architectures": "Karpenter architectures (amd64,arm64)",
    "github-repo": "GitHub repository (ORG/NAME, empty for none)",
    "environment": "GitHub environment for deploys",
    "aws-account-id": "AWS account id (12 digits, empty for none)",
}


@click.command()
@click.argument("name", required=False)
@click.option("--region", help="AWS region.  [default: us-west-2]")
@click.option(
    "--k8s-version",
    help=f"Kubernetes version ({', '.join(versions.KUBERNETES)}).  [default: {versions.DEFAULT_KUBERNETES}]",
)
@click.option(
    "--karpenter-version",
    help="Karpenter release "
    f"({', '.join(versions.KARPENTER)}).  [default: newest that supports the "
    "Kubernetes version]",
)
@click.option(
    "--instance-type",
    help="Instance type of the managed node group (it runs Karpenter: "
    "1 vCPU and 1 GiB per replica).  [default: t3.medium]",
)
@click.option("--vpc-cidr", help="IPv4 CIDR of the VPC, /16 to /21.  [default: 10.10.0.0/16]")
@click.option("--capacity-types", help="Karpenter capacity types, comma-separated.  [default: spot,on-demand]")
@click.option("--architectures", help="Karpenter CPU architectures, comma-separated (amd64, arm64).  [default: amd64]")
@click.option("--github-repo", metavar="ORG/NAME", help="The GitHub repository it will live in.")
@click.option("--environment", help="GitHub environment deploys run in.  [default: production]")
@click.option("--aws-account-id", help="AWS account id; deploys elsewhere are refused.")
@click.option("--codeowners", help="Comma-separated @user or @org/team handles for CODEOWNERS.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="A tag for every AWS resource (repeatable).")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the NAME directory.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of answers keyed by long option name (tags as a map).",
)
@click.option("--no-input", is_flag=True, help="Never prompt; use defaults for what is missing.")
@click.option(
    "--fleet",
    "fleet_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Instead of NAME: a fleet file (defaults + clusters, keys as in --config); one "
    "repository per cluster in --output-dir.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="With --fleet: clusters generated at once, one process each.  [default: CPU count]",
)
@click.option(
    "--toolchain-wheel",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The wheel of this eksgen, for a toolchain image that cannot install it from PyPI "
    "(unreleased or forked eksgen).  [default: built from the source checkout eksgen "
    "runs from; none for an installed eksgen]",
)
def new(
    name: str | None,
    tags: tuple[str, ...],
    output_dir: Path,
    config_file: Path | None,
    no_input: bool,
    fleet_file: Path | None,
    jobs: int | None,
    toolchain_wheel: Path | None,
    **options: str | None,
) -> None:
    """Create the cluster repository NAME/ (a git repository, first commit on main).

    With --fleet FILE, create one such repository per cluster of the fleet file, in parallel.
    """
    if fleet_file is not None:
        from generator import fleet
        from generator.errors import EksgenError
        from generator.parallel import Interrupted

        if name is not None:
            raise click.UsageError("give NAME or --fleet FILE, not both")
        answered = [f"--{k.replace('_', '-')}" for k, v in options.items() if v is not None]
        answered += ["--tag"] * bool(tags) + ["--config"] * (config_file is not None)
        if answered:
            raise click.UsageError(f"with --fleet, answers come from the fleet file; remove {', '.join(answered)}")
        report = fleet.generate(fleet.load(fleet_file), output_dir, jobs=jobs, toolchain_wheel=toolchain_wheel)
        click.echo("\n".join(report.lines()))
        if report.interrupted:
            raise Interrupted("interrupted; the repositories marked created are complete, the others were not written")
        if report.failed:
            raise EksgenError(
                f"{len(report.failed)} of {len(report.results)} clusters failed: {', '.join(report.failed)}"
            )
        return
    if name is None:
        raise click.UsageError("Missing argument 'NAME' (or give --fleet FILE).")
    if jobs is not None:
        raise click.UsageError("--jobs needs --fleet")
    from generator import scaffold

    raw = _read_config(config_file) if config_file else {}
    given = {k.replace("_", "-"): v for k, v in options.items() if v is not None}
    raw |= given
    if tags:
        raw["tags"] = {**(raw.get("tags") or {}), **_parse_tags(tags)}
    if not no_input and sys.stdin.isatty() and sys.stdout.isatty():
        raw = _prompt_missing(raw)
    answers = Answers.from_raw(name, raw)
    target = scaffold.generate(answers, output_dir, toolchain_wheel)
    click.echo(f"Created {target} (a git repository with one commit on main).")
    cost = versions.extended_support_warning(answers.k8s_version)
    if cost:
        click.echo(f"Warning: {cost}.", err=True)
    if not answers.aws_account_id:
        click.echo(
            "Note: no --aws-account-id, so Karpenter's node access entry and controller pod "
            "identity are left out of rendered/eksctl/cluster.yaml until awsAccountId is set "
            "in values.yaml.",
            err=True,
        )
    org_repo = answers.github_repo or "ORG/NAME"
    click.echo("\nNext steps, in this order (the repository's README says the same):")
    click.echo(f"  cd {shlex.quote(str(target))}")
    click.echo(
        f"  1. create the GitHub repository {org_repo} (empty for now; its ids and variables need it), then"
        " bootstrap AWS once: eksgen bootstrap --repo . --github-org-id ORG_ID --github-repo-id REPO_ID"
        f"  (ids: gh api repos/{org_repo} --jq '.owner.id, .id'), then run the aws command it prints"
    )
    click.echo("  2. set the repository variables it prints (AWS_DEPLOY_ROLE_ARN, AWS_PLAN_ROLE_ARN, AWS_REGION)")
    click.echo(f"  3. create the GitHub environment {answers.environment!r} with required reviewers")
    if answers.github_repo:
        click.echo(f"  4. git remote add origin git@github.com:{answers.github_repo}.git && git push -u origin main")
    else:
        click.echo("  4. add the GitHub repository as origin and push main")
    click.echo("  5. change the cluster with pull requests (eksgen set KEY=VALUE, then commit)")


def _parse_tags(tags: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        if not sep:
            raise AnswerError("--tag", tag, "must be KEY=VALUE")
        parsed[key] = value
    return parsed


def _read_config(path: Path) -> dict:
    from generator import repofiles

    try:
        data = repofiles.load_file(path)
    except repofiles.UnreadableFile as exc:  # a bad parameter: exit 2, naming the option and the file
        raise AnswerError("--config", str(path), exc.cause) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AnswerError("--config", str(path), "must be a mapping of option names to answers")
    return dict(data)  # unknown keys are rejected with the other answers


def _prompt_missing(raw: dict) -> dict:
    raw = dict(raw)
    for key, label in PROMPTS.items():
        if key in raw:
            continue
        default = answers_module.DEFAULTS[key]
        if key == "karpenter-version":
            k8s = str(raw.get("k8s-version", versions.DEFAULT_KUBERNETES))
            supported = versions.karpenter_versions_for(k8s)
            default = (
                versions.DEFAULT_KARPENTER
                if versions.DEFAULT_KARPENTER in supported
                else (supported[-1] if supported else None)
            )
        if isinstance(default, list):
            default = ",".join(default)
        raw[key] = click.prompt(label, default=default or "", show_default=True) or None
    return raw
