"""The one error boundary, `generator.cli.main`, as the console script runs it: what a bug looks like to a
user, and that an error eksgen expects never looks like one. (`cli_invoke` runs commands inside click's
test runner, past this boundary, so it is tested here on its own.)"""

from __future__ import annotations

import sys

import pytest

from generator import cli, render


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["eksgen", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0)


def _broken(repo):  # noqa: ANN001, ANN202 - stands in for any function with a bug
    raise RuntimeError("boom")


def test_a_bug_is_one_line_that_says_so_and_exit_1(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("EKSGEN_DEBUG", raising=False)
    monkeypatch.setattr(render, "load_values", _broken)
    assert _main(monkeypatch, "get", "--repo", str(tmp_path), "environment") == 1
    err = capsys.readouterr().err
    assert err == (
        "eksgen: internal error (RuntimeError: boom); this is a bug. Set EKSGEN_DEBUG=1 for the traceback.\n"
    )


def test_eksgen_debug_adds_the_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("EKSGEN_DEBUG", "1")
    monkeypatch.setattr(render, "load_values", _broken)
    assert _main(monkeypatch, "get", "--repo", str(tmp_path), "environment") == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "RuntimeError: boom" in err
    assert err.rstrip().endswith("this is a bug. Set EKSGEN_DEBUG=1 for the traceback.")


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["get", "--repo", "{tmp}", "environment"], 1, "Error: "),  # no values.yaml: an error, not a bug
        (["validate", "--only", "nope"], 2, "unknown check 'nope'"),
        (["no-such-command"], 2, "No such command"),
        (["get", "--repo", "{tmp}", ""], 2, "must be a dotted key of values.yaml"),
        (["get", "--repo", "{tmp}", "env\nx"], 2, "must be a dotted key of values.yaml"),
    ],
)
def test_expected_errors_are_not_bugs(monkeypatch, capsys, tmp_path, args, code, said):
    assert _main(monkeypatch, *(a.format(tmp=tmp_path) for a in args)) == code
    err = capsys.readouterr().err
    assert said in err and "internal error" not in err
