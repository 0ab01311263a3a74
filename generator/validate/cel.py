"""The `cel` check: the CEL rules (`x-kubernetes-validations`) of the Karpenter CRDs, evaluated offline.

kubeconform checks a manifest against the OpenAPI part of a CRD schema but not its CEL rules, which
the API server evaluates at apply time. This walks each rendered object whose kind a pinned CRD
serves together with that CRD version's schema and evaluates every rule the way the API server
does: on the object as it would be stored (nulls of non-nullable fields and unknown fields pruned,
defaults applied), with `self` bound to the value at the rule's node.

Transition rules read `oldSelf`, the stored object, so they cannot apply offline. A rule this
evaluator cannot run (it does not compile, or calls a function or overload that is not supported
here) is reported as not checked, never as passed.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# The common-expression-language package's __init__ imports its interactive shell (typer, rich,
# prompt_toolkit): 0.18 s on every validate run. Only the evaluator is used here, so the shell's
# module is stood in for before the package is imported.
sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))

import cel  # noqa: E402 - after the stand-in above
from cel import stdlib  # noqa: E402

from generator.validate.context import Context, Document, Finding  # noqa: E402

CHECK = "cel"
EVALUABLE, TRANSITION, NOT_CHECKABLE = "evaluable", "transition", "not checkable"

# The package logs a warning for every exception raised in a Python function; those become
# findings or "not checked" here, so a library default handler must not print them again.
logging.getLogger("cel").addHandler(logging.NullHandler())

# Functions the Rust core of the `cel` package evaluates itself (tests/test_validate_cel.py calls each).
NATIVE = frozenset({
    "size", "contains", "startsWith", "endsWith", "matches",
    "int", "uint", "double", "string", "bytes", "timestamp", "duration", "dyn", "type",
    "getFullYear", "getMonth", "getDayOfMonth", "getDayOfWeek", "getDayOfYear",
    "getHours", "getMinutes", "getSeconds", "getMilliseconds",
})  # fmt: skip


# ---- Kubernetes CEL libraries the package lacks -------------------------------------------------
# Python's `re` stands in for RE2. These RE2-only spellings mean something else (or nothing) to
# `re`, so a pattern using them is an unsupported call rather than a wrong answer.
_RE2_ONLY = re.compile(r"\[\[:|\\[pPzC]|\(\?[a-zA-Z]*U")


def _pattern(regex: str) -> re.Pattern[str]:
    if _RE2_ONLY.search(regex):
        raise TypeError(f"RE2 pattern {regex!r} has no Python equivalent")
    return re.compile(regex)  # an invalid pattern is an evaluation error, as in the API server


def find(text: str, regex: str) -> str:
    """`s.find(re)` (Kubernetes regex library): the leftmost match of `re` in `s`, or ''."""
    if not isinstance(text, str) or not isinstance(regex, str):
        raise TypeError("no such overload: find(string, string)")
    match = _pattern(regex).search(text)
    return match.group(0) if match else ""


def find_all(text: str, regex: str, limit: int = -1) -> list[str]:
    """`s.findAll(re[, n])`: every match (at most n when n >= 0), as Go's FindAllString returns them."""
    if not isinstance(text, str) or not isinstance(regex, str) or isinstance(limit, bool):
        raise TypeError("no such overload: findAll(string, string[, int])")
    found: list[str] = []
    last_end = -1
    for match in _pattern(regex).finditer(text):
        if len(found) == limit:
            break
        # Go drops an empty match right after the previous match; Python's finditer keeps it.
        if match.start() == match.end() == last_end:
            continue
        found.append(match.group(0))
        last_end = match.end()
    return found


def _cel_equal(a: object, b: object) -> bool:
    # Python has True == 1; CEL keeps bool and int apart.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def is_sorted(items: list) -> bool:
    """`list.isSorted()` (Kubernetes lists library): ascending order, equal neighbours allowed."""
    if not isinstance(items, list):
        raise TypeError("no such overload: isSorted(list)")
    kinds = {str if isinstance(x, str) else bool if isinstance(x, bool) else float for x in items}
    if len(kinds) > 1 or not all(isinstance(x, (str, int, float)) for x in items):
        raise TypeError("no such overload: isSorted needs a list of one comparable type")
    return all(a <= b for a, b in zip(items, items[1:], strict=False))


def index_of(receiver: object, item: object, *offset: int) -> int:
    """`indexOf`: lists (Kubernetes lists library) and strings (cel-go strings extension)."""
    if isinstance(receiver, list) and not offset:
        return next((i for i, x in enumerate(receiver) if _cel_equal(x, item)), -1)
    if isinstance(receiver, str) and isinstance(item, str):
        return stdlib.index_of(receiver, item, *offset)
    raise TypeError("no such overload: indexOf")


def last_index_of(receiver: object, item: object, *offset: int) -> int:
    """`lastIndexOf`: lists (Kubernetes lists library) and strings (cel-go strings extension)."""
    if isinstance(receiver, list) and not offset:
        return max((i for i, x in enumerate(receiver) if _cel_equal(x, item)), default=-1)
    if isinstance(receiver, str) and isinstance(item, str):
        return stdlib.last_index_of(receiver, item, *offset)
    raise TypeError("no such overload: lastIndexOf")


def _on(receiver: type, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` that refuses any other receiver type as CEL does (no such overload), instead of
    failing inside Python with an error that would read as a failed rule."""

    def call(first: object, *rest: object) -> Any:
        if not isinstance(first, receiver) or isinstance(first, bool):
            raise TypeError(f"no such overload: {function.__name__}({type(first).__name__}, ...)")
        return function(first, *rest)

    return call


# The cel-go extensions Kubernetes enables (strings, sets, the list aggregates), from the package,
# and the Kubernetes regex and list functions above.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{name: _on(list if name == "join" else str, fn) for name, fn in stdlib.EXTENSIONS["strings"].items()},
    **{name: _on(list, fn) for name, fn in stdlib.EXTENSIONS["sets"].items()},
    **{name: _on(list, stdlib.EXTENSIONS["core"][name]) for name in ("min", "max", "sum")},
    "find": find,
    "findAll": find_all,
    "isSorted": is_sorted,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
}
SUPPORTED = NATIVE | frozenset(FUNCTIONS)


# ---- rules: compiled once per process -------------------------------------------------------------
@dataclass(frozen=True)
class Compiled:
    kind: str  # EVALUABLE, TRANSITION or NOT_CHECKABLE
    program: cel.Program | None = None
    reason: str = ""  # why a rule is not checkable


@functools.cache
def compiled(rule: str) -> Compiled:
    try:
        program = cel.compile(rule)
    except Exception as exc:  # the package raises several types for a bad expression
        if re.search(r"\boldSelf\b", rule):
            return Compiled(TRANSITION)
        return Compiled(NOT_CHECKABLE, reason=f"does not compile: {_first_line(exc)}")
    if "oldSelf" in program.variables():
        return Compiled(TRANSITION)
    # Operators show up as `_&&_`, `@in`, ...; every named function must be one we can run.
    unsupported = sorted(f for f in program.functions() if f[:1].isalpha() and f not in SUPPORTED)
    if unsupported:
        return Compiled(NOT_CHECKABLE, reason=f"unsupported function {', '.join(unsupported)}")
    return Compiled(EVALUABLE, program)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _package_error(exc: Exception) -> str:
    # The package appends advice for Python callers ("Check function arguments ..."); users need the error.
    return re.sub(r"\.? Check (?:that|function|the) .*$", "", _first_line(exc))


def _unsupported_call(exc: Exception) -> bool:
    """Whether a runtime error means "cannot run here" (unknown function or no matching overload)
    rather than a rule that rejects the object (no such key, bad int(), index out of range...)."""
    text = str(exc)
    return (
        text.startswith("Undefined variable or function")  # also the package's word for a bad overload
        or text.startswith("No such overload")
        or "Python function call failed: TypeError" in text
    )


def rules_of(schema: dict, path: tuple = ()) -> Iterator[tuple[tuple, dict]]:
    """Every rule of a schema with its schema path ("[]" for list items, "{}" for map values)."""
    for rule in schema.get("x-kubernetes-validations") or ():
        yield path, rule
    for name, sub in (schema.get("properties") or {}).items():
        yield from rules_of(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from rules_of(schema["items"], (*path, "[]"))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from rules_of(schema["additionalProperties"], (*path, "{}"))


def _versions(crd: dict) -> list[dict]:
    return (crd.get("spec") or {}).get("versions") or []


def _schema(version: dict) -> dict:
    return (version.get("schema") or {}).get("openAPIV3Schema") or {}


_KEYS = {EVALUABLE: "evaluable", TRANSITION: "transition", NOT_CHECKABLE: "not_checkable"}


def inventory(crds: list[dict]) -> dict:
    """Every rule of every version of `crds`, classified as evaluable, transition or not checkable.

    Returns {"total", "evaluable", "transition", "not_checkable": int, "by_crd": {CRD name: the
    same four counts}, "not_checkable_rules": [{"crd", "version", "path", "rule", "reason"}]}.
    """
    by_crd: dict[str, dict[str, int]] = {}
    not_checkable = []
    for crd in crds:
        name = str((crd.get("metadata") or {}).get("name", "?"))
        counts = dict.fromkeys(_KEYS.values(), 0)
        for version in _versions(crd):
            for path, rule in rules_of(_schema(version)):
                result = compiled(str(rule.get("rule", "")))
                counts[_KEYS[result.kind]] += 1
                if result.kind == NOT_CHECKABLE:
                    not_checkable.append({"crd": name, "version": version.get("name"), "path": ".".join(path),
                                          "rule": rule.get("rule"), "reason": result.reason})
        by_crd[name] = {"total": sum(counts.values()), **counts}
    totals = {key: sum(c[key] for c in by_crd.values()) for key in ("total", *_KEYS.values())}
    return {**totals, "by_crd": by_crd, "not_checkable_rules": not_checkable}


# ---- the object as the API server sees it ---------------------------------------------------------
def _child(schema: dict, key: str) -> dict | None:
    if key in (schema.get("properties") or {}):
        return schema["properties"][key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _keeps_unknown(schema: dict) -> bool:
    return (
        "properties" not in schema
        or bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        or schema.get("additionalProperties") is True
    )


def stored(value: object, schema: dict) -> object:
    """`value` after the API server's pruning and defaulting: rules see defaulted fields, and
    never a null the schema does not allow or a field the schema does not know."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = _child(schema, key)
            if sub is None:
                if _keeps_unknown(schema):
                    out[key] = item
                continue
            if item is None and not sub.get("nullable"):
                continue
            out[key] = stored(item, sub)
        for key, sub in (schema.get("properties") or {}).items():
            if key not in out and "default" in sub:
                out[key] = stored(copy.deepcopy(sub["default"]), sub)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [stored(item, schema["items"]) for item in value]
    return value


def _nodes(schema: dict, value: object, path: list) -> Iterator[tuple[list, dict, object]]:
    """(object path, schema, value) for every schema node with rules where the object has a value."""
    if schema.get("x-kubernetes-validations") and value is not None:
        yield path, schema, value
    if isinstance(value, dict):
        for key, item in value.items():
            sub = _child(schema, key)
            if sub is not None:
                yield from _nodes(sub, item, [*path, key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _nodes(schema["items"], item, [*path, index])


# ---- evaluation ---------------------------------------------------------------------------------
@dataclass
class _Tally:
    """Distinct rules (by identity in the loaded CRDs) by what happened to them on these objects."""

    evaluated: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    transition: set[int] = field(default_factory=set)
    not_checked: dict[int, str] = field(default_factory=dict)  # rule id -> reason
    evaluations: int = 0


def _context(value: object) -> cel.Context:
    return cel.Context(variables={"self": value}, functions=FUNCTIONS)


def _message(rule: dict, value: object) -> str:
    """The API server's text for a failed rule: messageExpression, else message, else the rule."""
    expression = rule.get("messageExpression")
    if expression:
        result = compiled(str(expression))
        if result.program is not None:
            try:
                text = result.program.execute(_context(value))
            except Exception:  # a broken messageExpression falls back, as upstream
                text = None
            if isinstance(text, str) and text.strip():
                return text.strip()
    return _static_message(rule)


def _static_message(rule: dict) -> str:
    message = str(rule.get("message") or "").strip()
    return message or f"failed rule: {_rule_text(rule)}"


def _rule_text(rule: dict) -> str:
    return str(rule.get("rule", "")).strip()


def _evaluate(doc: Document, path: list, value: object, rule: dict, tally: _Tally) -> Finding | None:
    text = str(rule.get("rule", ""))
    result = compiled(text)
    if result.kind == TRANSITION:
        tally.transition.add(id(rule))
        return None
    if result.program is None:
        tally.not_checked.setdefault(id(rule), result.reason)
        return doc.finding(path, f"CEL rule not checked ({result.reason})", severity="warning", rule=text)
    tally.evaluations += 1
    try:
        outcome = result.program.execute(_context(value))
    except Exception as exc:  # the package raises builtin types for CEL errors
        if _unsupported_call(exc):
            reason = f"unsupported call: {_package_error(exc)}"
            tally.not_checked.setdefault(id(rule), reason)
            return doc.finding(path, f"CEL rule not checked ({reason})", severity="warning", rule=text)
        tally.evaluated.add(id(rule))
        tally.failed.add(id(rule))
        # The API server rejects an object on which a rule errors (no such key, bad int(), ...).
        error = f"no such key: {exc.args[0]}" if isinstance(exc, KeyError) else _package_error(exc)
        message = str(rule.get("message") or "").strip() or _rule_text(rule)
        return doc.finding(path, f"{message} (the rule failed to evaluate: {error})", rule=text)
    tally.evaluated.add(id(rule))
    if outcome is True:
        return None
    tally.failed.add(id(rule))
    return doc.finding(path, _message(rule, value), rule=text)


def _served(crds: list[dict]) -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> openAPIV3Schema, for every served version of the CRDs."""
    served = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        for version in _versions(crd):
            if version.get("served", True):
                served[(spec.get("group"), version.get("name"), (spec.get("names") or {}).get("kind"))] = (
                    _schema(version))
    return served


def run(ctx: Context) -> list[Finding]:
    crds = ctx.karpenter_crds
    served = _served(crds)
    tally = _Tally()
    findings: list[Finding] = []
    checked = []
    for doc in ctx.manifests:
        group, _, version = doc.api_version.rpartition("/")
        schema = served.get((group, version, doc.kind))
        if schema is None:
            continue
        checked.append(f"{doc.kind}/{doc.name}")
        for path, node, value in _nodes(schema, stored(doc.data, schema), []):
            for rule in node["x-kubernetes-validations"]:
                finding = _evaluate(doc, path, value, rule, tally)
                if finding is not None:
                    findings.append(finding)
    _report(ctx, crds, tally, checked)
    return _once_per_rule(findings)


def _once_per_rule(findings: list[Finding]) -> list[Finding]:
    """Every error, but one "not checked" warning per rule however many nodes it sits on."""
    seen: set[str | None] = set()
    out = []
    for finding in findings:
        if finding.severity == "warning":
            if finding.rule in seen:
                continue
            seen.add(finding.rule)
        out.append(finding)
    return out


def _report(ctx: Context, crds: list[dict], tally: _Tally, checked: list[str]) -> None:
    totals = inventory(crds)
    ctx.note(CHECK, f"Karpenter v{ctx.karpenter_version} CRDs: {totals['total']} CEL rules, {totals['evaluable']} "
                    f"evaluable offline, {totals['transition']} transition, {totals['not_checkable']} not checkable")
    evaluated = tally.evaluated - set(tally.not_checked)
    reached = len(evaluated | tally.transition | set(tally.not_checked))
    reasons = "; ".join(sorted(set(tally.not_checked.values())))
    ctx.note(CHECK, f"on {', '.join(checked) or 'no Karpenter object'}: {len(evaluated)} rules evaluated "
                    f"({tally.evaluations} evaluations, {len(tally.failed)} rules failed), "
                    f"{len(tally.not_checked)} NOT CHECKED{f' ({reasons})' if reasons else ''}, "
                    f"{len(tally.transition)} transition rules not applicable, "
                    f"{totals['total'] - reached} not reached (no value at their field, or kind not rendered)")


__all__ = ["FUNCTIONS", "NATIVE", "SUPPORTED", "compiled", "find", "find_all", "index_of", "inventory",
           "is_sorted", "last_index_of", "run", "stored"]
