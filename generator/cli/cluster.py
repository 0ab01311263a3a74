"""The commands that reach AWS: bootstrap, deploy, status and destroy."""

from __future__ import annotations

import json
from pathlib import Path

import click

from generator.cli.options import repo_option, step_summary


@click.command()
@repo_option
@click.option(
    "--github-repo",
    metavar="ORG/NAME",
    help="The GitHub repository the roles trust.  [default: github-repo in .eksgen.yaml]",
)
@click.option(
    "--github-org-id",
    metavar="ID",
    help="Numeric id of the repository's owner, for GitHub's immutable sub claim "
    "(gh api repos/ORG/NAME --jq .owner.id).",
)
@click.option("--github-repo-id", metavar="ID", help="Numeric id of the repository (gh api repos/ORG/NAME --jq .id).")
@click.option(
    "--legacy-subject",
    is_flag=True,
    help="Trust the name-only sub claim (repo:ORG/NAME:...) of a repository created before "
    "15 July 2026 that has not opted in to immutable subject claims.",
)
@click.option("--force", is_flag=True, help="Replace a bootstrap/github-oidc.yaml that differs.")
def bootstrap(
    repo: Path,
    github_repo: str | None,
    github_org_id: str | None,
    github_repo_id: str | None,
    legacy_subject: bool,
    force: bool,
) -> None:
    """Write bootstrap/github-oidc.yaml: GitHub Actions' OIDC access to AWS (plan and deploy roles)."""
    from generator import bootstrap as bootstrap_module

    settings, written = bootstrap_module.run(
        repo,
        github_repo,
        force=force,
        github_org_id=github_org_id,
        github_repo_id=github_repo_id,
        legacy_subject=legacy_subject,
    )
    click.echo(f"{'Wrote' if written.changed else 'Unchanged:'} {written.path}\n")
    click.echo(bootstrap_module.instructions(settings, written.path))


@click.command()
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository (a clone with full history).",
)
@click.option(
    "--wait-timeout",
    type=click.IntRange(min=1),
    default=600,
    show_default=True,
    help="Seconds each readiness wait (Karpenter, NodePools, EC2NodeClasses) may take.",
)
def deploy(repo: Path, wait_timeout: int) -> None:
    """Make the cluster what rendered/ at HEAD says, planned from the deployed commit recorded on it.

    Checks the tools, the AWS account and the region first; refuses a plan with blockers before any
    change. Running it again after a failure continues; with nothing changed it changes nothing.
    With GITHUB_STEP_SUMMARY set, a markdown summary is appended there.
    """
    from generator import deploy as deploy_module

    deploy_module.deploy(repo, log=click.echo, summary=step_summary(), wait_timeout=wait_timeout)


@click.command()
@repo_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(repo: Path, output_format: str) -> None:
    """Show the live cluster (version, node groups, add-ons, Karpenter, NodePools, deployed commit) and
    whether it differs from rendered/ at HEAD. Changes nothing."""
    from generator import deploy as deploy_module

    result = deploy_module.status(repo, log=lambda line: click.echo(line, err=True))
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo("\n".join(result.lines()))


@click.command()
@repo_option
@click.option("--confirm", metavar="NAME", help="The cluster's name, typed out: nothing happens without it.")
@click.option(
    "--wait-timeout",
    type=click.IntRange(min=1),
    default=1800,
    show_default=True,
    help="Seconds to wait for Karpenter to terminate its nodes.",
)
def destroy(repo: Path, confirm: str | None, wait_timeout: int) -> None:
    """Delete the cluster and everything deploys created for it: Karpenter's nodes and NodePools,
    Karpenter, the cluster (eksctl), Karpenter's AWS prerequisites stack."""
    from generator import deploy as deploy_module

    deploy_module.destroy(repo, confirm, log=click.echo, summary=step_summary(), wait_timeout=wait_timeout)
