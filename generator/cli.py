"""The eksgen command line: parse options, call the core, map errors to exit codes.

Exit codes: 0 success, 1 a domain failure (existing target, failed tool, failed check),
2 a bad parameter or answer, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import traceback
from pathlib import Path

import click

import generator
from generator import answers as answers_module
from generator import render as render_module
from generator import versions
from generator.answers import Answers
from generator.errors import AnswerError, ValidationFailed

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(generator.__version__, prog_name="eksgen")
def cli() -> None:
    """Generate and operate a GitOps repository that is one Amazon EKS cluster with Karpenter."""


@cli.command()
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
        f"  1. bootstrap AWS once: eksgen bootstrap --repo . --github-org-id ORG_ID --github-repo-id REPO_ID"
        f"  (ids: gh api repos/{org_repo} --jq '.owner.id, .id'), then run the aws command it prints"
    )
    click.echo("  2. set the repository variables it prints (AWS_DEPLOY_ROLE_ARN, AWS_PLAN_ROLE_ARN, AWS_REGION)")
    click.echo(f"  3. create the GitHub environment {answers.environment!r} with required reviewers")
    if answers.github_repo:
        click.echo(f"  4. git remote add origin git@github.com:{answers.github_repo}.git && git push -u origin main")
    else:
        click.echo("  4. create the GitHub repository, add it as origin and push main")
    click.echo("  5. change the cluster with pull requests (eksgen set KEY=VALUE, then commit)")


@cli.command()
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
@click.option("--check", is_flag=True, help="Change nothing; fail if rendered/ is out of date.")
def render(repo: Path, check: bool) -> None:
    """Re-render rendered/ from values.yaml with helm template."""
    files = render_module.render(repo)
    if check:
        drifted = render_module.drift(repo, files)
        for d in drifted:
            click.echo(f"{d.path}: {d.reason}", err=True)
        if drifted:
            raise ValidationFailed("rendered/ is out of date; run ./eks-accelerator.sh render")
        click.echo("rendered/ is up to date")
        return
    render_module.write(repo, files)
    click.echo(f"rendered {len(files)} files into {repo / render_module.RENDERED}")


def _check_names(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    """--only and --skip: comma-separated check names; an unknown one is a bad parameter (exit 2)."""
    from generator.errors import EksgenError
    from generator.validate import select

    names = _split(value)
    try:
        select(only=names)  # the one rule of what a check name is
    except EksgenError as exc:
        raise click.BadParameter(exc.format_message(), ctx=ctx, param=param) from None
    return names


@cli.command()
@click.argument(
    "repos",
    nargs=-1,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=(".",),
    metavar="[REPO]...",
)
@click.option("--only", default="", metavar="NAME[,NAME]", callback=_check_names, help="Run only these checks.")
@click.option("--skip", default="", metavar="NAME[,NAME]", callback=_check_names, help="Skip these checks.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--schemas",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Root of the local schema files (eksctl/, karpenter/).  [default: $EKSGEN_SCHEMAS, "
    "or /usr/share/eksgen/schemas in the toolchain image]",
)
@click.option(
    "--crds",
    metavar="DIR|upstream",
    help="Where Karpenter's CRDs come from: a directory, or 'upstream' (the release tag on "
    "GitHub; needs the network).  [default: <schemas>/karpenter]",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="One REPO: checks run at once [default: all].  Several: repositories validated at "
    "once, one process each [default: CPU count].",
)
def validate(
    repos: tuple[Path, ...],
    only: list[str],
    skip: list[str],
    output_format: str,
    schemas: Path | None,
    crds: str | None,
    jobs: int | None,
) -> None:
    """Check cluster repositories offline (default: the current directory).

    Checks, in order: values, render, eksctl, kubeconform, apiserver, policy, hygiene. With several
    REPOs, they are validated in parallel and one summary table (or JSON list) is printed.
    """
    from generator import validate as validate_module

    if len(repos) > 1:
        from generator.validate import many

        report = many.validate_many(repos, only=only, skip=skip, schemas=schemas, crds=crds, jobs=jobs)
        click.echo(json.dumps(report.as_json(), indent=2) if output_format == "json" else "\n".join(report.lines()))
        if report.interrupted:
            raise many.Interrupted("interrupted; the repositories without a result were not validated")
        if report.failed:
            raise ValidationFailed(
                f"{len(report.failed)} of {len(report.results)} repositories failed: "
                f"{', '.join(map(str, report.failed))}"
            )
        return
    (repo,) = repos
    ctx = validate_module.Context(repo, schemas=schemas, crds=crds)
    results = validate_module.run(ctx, only, skip, jobs=jobs)
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "passed": all(r.passed for r in results),
                    "checks": [
                        {
                            "check": r.name,
                            "passed": r.passed,
                            "seconds": round(r.seconds, 4),
                            "notes": r.notes,
                            "findings": [vars(f) for f in r.findings],
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
    else:
        _print_results(results, github=os.environ.get("GITHUB_ACTIONS") == "true")
    failed = [r.name for r in results if not r.passed]
    if failed:
        raise ValidationFailed(f"failed checks: {', '.join(failed)}")


def _print_results(results: list, github: bool) -> None:
    for r in results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.name:<12} {r.seconds:6.2f}s")
        for note in r.notes:
            click.echo(f"      {note}")
        for f in r.findings:
            click.echo(f"      {f.severity}: {f.location()}: {f.message}")
            if github:  # workflow commands: one annotation per finding on the pull request
                line = f",line={f.line}" if f.line else ""
                message = f.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
                click.echo(f"::{f.severity} file={f.file}{line}::{message}")


@cli.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
def set_command(assignments: tuple[str, ...], repo: Path) -> None:
    """Edit values.yaml (comments and layout kept), check it, and re-render rendered/.

    VALUE is read as YAML: a scalar or a flow collection, e.g. capacityTypes='[on-demand]'.
    """
    from generator import values_edit

    changed = values_edit.set_values(repo, list(assignments))
    click.echo(f"set {', '.join(changed)}; rendered/ is up to date")


@cli.command()
@click.argument("repos", nargs=-1, type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="[DIR]...")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The cluster repository.  [default: the current directory, when no DIR is given]",
)
@click.option("--dry-run", is_flag=True, help="Print what would change, file by file; write nothing.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Several DIRs: repositories updated at once, one process each.  [default: CPU count]",
)
def update(repos: tuple[Path, ...], repo: Path | None, dry_run: bool, jobs: int | None) -> None:
    """Update cluster repositories to this eksgen on a new branch, eksgen-update-VERSION.

    Files you never changed take eksgen's new version; files you and eksgen both changed are merged
    (conflicts are marked and nothing is committed); values.yaml is migrated, keeping your comments
    and values, and rendered/ is rendered from it. Your checkout and main are not touched.
    """
    from generator import update as update_module

    targets = [*repos, *([repo] if repo is not None else [])] or [Path(".")]
    if len(targets) > 1:
        from generator.update import many

        report = many.update_many(targets, dry_run=dry_run, jobs=jobs)
        click.echo("\n".join(report.lines()))
        if report.interrupted:
            raise many.Interrupted("interrupted; the repositories without a result were not updated")
        if report.failed:
            raise update_module.UpdateConflict(
                f"{len(report.failed)} of {len(report.results)} repositories were not updated: "
                f"{', '.join(map(str, report.failed))}"
            )
        return
    if jobs is not None:
        raise click.UsageError("--jobs needs several DIRs")
    outcome = update_module.update(targets[0], dry_run=dry_run)
    click.echo("\n".join(outcome.lines()))
    if outcome.conflicts:
        raise update_module.UpdateConflict(f"conflicts in {', '.join(outcome.conflicts)}")


@cli.command()
@click.argument("key", metavar="KEY")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
def get(key: str, repo: Path) -> None:
    """Print one value of values.yaml (a dotted KEY such as environment or vpc.cidr), as YAML reads it.

    Fails (exit 1) when the key is missing, empty or not a single value: scripts can trust what it prints.
    """
    from generator import render as render_module
    from generator.errors import EksgenError
    from generator.layout import VALUES

    node: object = render_module.load_values(repo)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None or node == "" or isinstance(node, (dict, list)):
        shown = "missing" if node is None else "empty" if node == "" else "not a single value"
        raise EksgenError(f"{repo / VALUES}: {key} is {shown}")
    text = str(node).lower() if isinstance(node, bool) else str(node)
    if "\n" in text or "\r" in text:
        raise EksgenError(f"{repo / VALUES}: {key} spans several lines; it must be one line")
    click.echo(text)


@cli.command()
@click.option("--base", required=True, metavar="REF", help="The git ref the cluster is at (e.g. origin/main).")
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
@click.option(
    "--format", "output_format", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True
)
@click.option(
    "--schemas",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Local schema root, to tell whether a Karpenter upgrade changes its CRDs.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the plan to this file instead of standard output.",
)
@click.option(
    "--from-deployed",
    is_flag=True,
    help="Plan from the commit deployed on the cluster (read with the AWS CLI; the read-only plan "
    "role suffices); without one, from --base, and the plan says why.",
)
def plan(
    base: str, repo: Path, output_format: str, schemas: Path | None, output: Path | None, from_deployed: bool
) -> None:
    """Explain what merging the working tree onto REF does to the cluster, in order."""
    from generator import plan as plan_module
    from generator.plan import markdown

    if not base.strip():  # an empty ref would silently plan from nothing deployed
        raise click.BadParameter(
            "must name a git ref (for example origin/main), not an empty string", param_hint="'--base'"
        )
    label = None
    if from_deployed:
        from generator import deployed

        base, label = deployed.plan_base(repo, base)
    result = plan_module.build(repo, base, schemas)
    if label:
        result.base = label
    text = (
        json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
        if output_format == "json"
        else markdown.render(result)
    )
    if output:
        from generator import transaction

        transaction.write_file(output, text)  # a full disk leaves the old file, never a truncated one
        click.echo(result.summary)
    else:
        click.echo(text, nl=False)
    summary = _step_summary()
    if summary is not None:  # the whole plan in the job summary: what a fork's pull request shows
        with summary.open("a", encoding="utf-8") as handle:
            handle.write(markdown.render(result) + "\n")
    if result.kind == "blocked":  # the plan says why; the exit code fails the pull request's check
        from generator.errors import PlanIsBlocked

        raise PlanIsBlocked(
            f"the plan is blocked by {len(result.blockers)} change(s) that cannot be applied; "
            "the plan says why and what to do instead"
        )


@cli.command()
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
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


@cli.command()
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

    deploy_module.deploy(repo, log=click.echo, summary=_step_summary(), wait_timeout=wait_timeout)


@cli.command()
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
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


@cli.command()
@click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The cluster repository.",
)
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

    deploy_module.destroy(repo, confirm, log=click.echo, summary=_step_summary(), wait_timeout=wait_timeout)


def _step_summary() -> Path | None:
    """GitHub Actions' job summary file, when running there."""
    value = os.environ.get("GITHUB_STEP_SUMMARY")
    return Path(value) if value else None


def _split(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


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


def main() -> None:
    """The console script: one error boundary around the whole command line."""
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        code = cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("\ninterrupted", err=True)  # each command cleans up after itself (new: nothing left)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # the file system said no (full, read-only, gone): the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"Error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a bug: say so, keep the traceback out of the user's way
        if os.environ.get("EKSGEN_DEBUG") == "1":
            traceback.print_exc()
        click.echo(
            f"eksgen: internal error ({type(exc).__name__}: {exc}); this is a bug. "
            "Set EKSGEN_DEBUG=1 for the traceback.",
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
