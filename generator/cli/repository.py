"""The commands over one cluster repository: render, validate, set, get, plan and update."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click

from generator import render as render_module
from generator.cli.options import repo_option, split_names, step_summary
from generator.errors import ValidationFailed


@click.command()
@repo_option
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

    names = split_names(value)
    try:
        select(only=names)  # the one rule of what a check name is
    except EksgenError as exc:
        raise click.BadParameter(exc.format_message(), ctx=ctx, param=param) from None
    return names


@click.command()
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


@click.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="KEY=VALUE...")
@repo_option
def set_command(assignments: tuple[str, ...], repo: Path) -> None:
    """Edit values.yaml (comments and layout kept), check it, and re-render rendered/.

    VALUE is read as YAML: a scalar or a flow collection, e.g. capacityTypes='[on-demand]'.
    """
    from generator import values_edit

    changed = values_edit.set_values(repo, list(assignments))
    click.echo(f"set {', '.join(changed)}; rendered/ is up to date")


@click.command()
@click.argument("key", metavar="KEY")
@repo_option
def get(key: str, repo: Path) -> None:
    """Print one value of values.yaml (a dotted KEY such as environment or vpc.cidr), as YAML reads it.

    Fails (exit 1) when the key is missing, empty or not a single value: scripts can trust what it prints.
    """
    from generator import render as render_module
    from generator.errors import EksgenError
    from generator.layout import VALUES

    if len(key) > 200 or not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", key):
        raise click.BadParameter(
            "must be a dotted key of values.yaml: letters, digits, '_' and '-' between dots", param_hint="KEY"
        )
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


@click.command()
@click.option("--base", required=True, metavar="REF", help="The git ref the cluster is at (e.g. origin/main).")
@repo_option
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
    summary = step_summary()
    if summary is not None:  # the whole plan in the job summary: what a fork's pull request shows
        with summary.open("a", encoding="utf-8") as handle:
            handle.write(markdown.render(result) + "\n")
    if result.kind == "blocked":  # the plan says why; the exit code fails the pull request's check
        from generator.errors import PlanIsBlocked

        raise PlanIsBlocked(
            f"the plan is blocked by {len(result.blockers)} change(s) that cannot be applied; "
            "the plan says why and what to do instead"
        )


@click.command()
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
