"""One error hierarchy for everything a user can cause; the CLI turns each into an exit code."""

from __future__ import annotations

import click


class EksgenError(click.ClickException):
    """A domain failure (exit 1): the input was well-formed but the work cannot be done."""

    exit_code = 1


class AnswerError(EksgenError):
    """A bad answer (exit 2), named by its option, with the value and the rule it breaks."""

    exit_code = 2

    def __init__(self, option: str, value: object, rule: str) -> None:
        self.option = option
        self.value = value
        self.rule = rule
        super().__init__(f"{option} {value!r}: {rule}")


class TargetExistsError(EksgenError):
    """The directory to generate into already holds files; it is left untouched."""


class ToolMissingError(EksgenError):
    """A required external program is not on PATH."""


class ToolFailedError(EksgenError):
    """An external program exited non-zero."""


class ToolTimeoutError(ToolFailedError):
    """An external program ran past its time limit and was killed."""


class ValidationFailed(EksgenError):
    """One or more validation checks failed."""


class PlanIsBlocked(EksgenError):
    """`eksgen plan` found changes that cannot be applied; the plan (with the reasons) was still written."""


class StaleRenderError(EksgenError):
    """rendered/ is not what values.yaml renders to; planning from it would explain the wrong change."""


class DeployError(EksgenError):
    """A deploy, status or destroy cannot go on; what ran before the failure is in the log."""


class PreflightError(DeployError):
    """The repository, the tools or the AWS identity are not fit for the operation; nothing was changed."""


class WrongAccountError(PreflightError):
    """The AWS credentials belong to another account than values.yaml's awsAccountId; nothing was changed."""


class PlanBlockedError(DeployError):
    """The plan from the deployed commit has blockers; nothing was changed."""


class StepFailedError(DeployError):
    """A step of a deploy or destroy failed; running the command again continues from the live state."""


class ConfirmationError(AnswerError):
    """destroy without the exact cluster name (exit 2); nothing was read or changed."""
