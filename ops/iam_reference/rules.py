"""Pure checks of IAM policy documents against the Service Authorization Reference (`.sar`).

Each rule names what AWS does with a statement that breaks it:

- ``action-exists``: an action (or wildcard) matches no SAR action. IAM accepts such a policy
  and grants nothing for it.
- ``resource-level``: an Allow scoped to ARNs lists an action with no resource types in the SAR.
  Such an action is authorised only against ``"*"``, so the statement grants nothing for it
  (SAR: "If the column is blank, you must specify all resources ("*")").
- ``resource-type``: an Allow scoped to ARNs names none of the resource types the action supports
  (e.g. a bucket ARN for ``s3:GetObject``, which acts on objects): it grants nothing for it.
- ``dependent-actions``: a principal is allowed an action but not the actions the SAR's
  "Dependent actions" column says the call also needs.
- ``condition-key``: a condition key is neither a global ``aws:`` key nor one the action supports,
  at action level or through its resource types. The key is then absent from the request, so the
  condition never matches as intended. Tag keys (``aws:RequestTag``, ``aws:ResourceTag``,
  ``aws:TagKeys``) are global in name only: they must be listed for the action
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .sar import Action, actions_matching, template_regex

ACTION_EXISTS = "action-exists"
RESOURCE_LEVEL = "resource-level"
RESOURCE_TYPE = "resource-type"
DEPENDENT_ACTIONS = "dependent-actions"
CONDITION_KEY = "condition-key"

_TAG_KEYS = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")
_SET_PREFIXES = ("forallvalues:", "foranyvalue:")

DEPENDENCY_EXEMPTIONS: dict[tuple[str, str], str] = {}
"""(action, dependent action) pairs the SAR lists that do not apply to how the stack calls the API,
each with the source that says so. Empty: every dependent action found so far is needed."""


@dataclass(frozen=True)
class Finding:
    """One broken rule, located down to the statement; the `documents` layer fills the location."""

    rule: str
    statement: str
    action: str
    message: str
    stack: str = ""
    resource: str = ""
    where: str = ""

    def __str__(self) -> str:
        place = " ".join(p for p in (self.stack, self.resource, self.where) if p)
        return f"{place} {self.statement}: [{self.rule}] {self.message}".strip()


@dataclass(frozen=True)
class Statement:
    """A statement of a document with the label findings use: ``Statement[i] (Sid)``."""

    label: str
    body: dict[str, Any]
    resource: str = ""
    """The resource holding the document (``iam/rolePolicy name``), for findings."""
    where: str = ""
    """The input holding the document (``policy``, ``inlinePolicies[0]``), for findings."""

    def values(self, key: str) -> list[str]:
        value = self.body.get(key)
        if value is None:
            return []
        return [value] if isinstance(value, str) else [str(v) for v in value]

    @property
    def allows(self) -> bool:
        return self.body.get("Effect") == "Allow"


def statements(document: dict[str, Any], resource: str = "", where: str = "") -> list[Statement]:
    """The statements of a policy document, labelled by index and Sid, located in `resource`."""
    raw = document.get("Statement", [])
    items = [raw] if isinstance(raw, dict) else list(raw)
    labelled = []
    for i, body in enumerate(items):
        sid = body.get("Sid")
        label = f"Statement[{i}]" + (f" ({sid})" if sid else "")
        labelled.append(Statement(label, body, resource, where))
    return labelled


def _finding(rule: str, statement: Statement, action: str, message: str) -> Finding:
    return Finding(rule, statement.label, action, message, "", statement.resource, statement.where)


def _is_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


# -- ARN patterns against SAR ARN formats ----------------------------------------------------------
_STAR, _ONE = object(), object()


def _policy_tokens(arn: str) -> list[object]:
    tokens: list[object] = []
    i = 0
    while i < len(arn):
        if arn.startswith("${", i) and "}" in arn[i:]:  # a policy variable: any value
            tokens.append(_STAR)
            i = arn.index("}", i) + 1
            continue
        ch = arn[i]
        tokens.append(_STAR if ch == "*" else _ONE if ch == "?" else ch.lower())
        i += 1
    return tokens


def _template_tokens(template: str) -> list[object]:
    tokens: list[object] = []
    i = 0
    while i < len(template):
        if template.startswith("${", i):
            tokens.extend([_ONE, _STAR])
            i = template.index("}", i) + 1
            continue
        tokens.append(template[i].lower())
        i += 1
    return tokens


def arn_can_match(policy_arn: str, arn_format: str) -> bool:
    """True when some ARN matches both the policy's ARN pattern and the SAR's ARN format.

    ARNs are compared segment by segment (``arn:partition:service:region:account:resource``); a
    wildcard stays inside its segment, except in the resource, which may hold colons
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html). Policy ``*``/``?`` and
    SAR ``${Variable}`` (one or more characters) are wildcards; each pair of segments is explored
    together (a product automaton), so the answer is exact for these wildcards.
    """
    ours, theirs = policy_arn.split(":", 5), arn_format.split(":", 5)
    if len(ours) != len(theirs):
        return _segments_meet(_policy_tokens(policy_arn), _template_tokens(arn_format))
    return all(
        _segments_meet(_policy_tokens(a), _template_tokens(b))
        for a, b in zip(ours, theirs, strict=True)
    )


def _segments_meet(p: list[object], q: list[object]) -> bool:
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(p) and j == len(q):
            return True
        if i < len(p) and p[i] is _STAR:
            todo.append((i + 1, j))
        if j < len(q) and q[j] is _STAR:
            todo.append((i, j + 1))
        if i < len(p) and j < len(q):
            a, b = p[i], q[j]
            if a in (_STAR, _ONE) or b in (_STAR, _ONE) or a == b:
                todo.append((i if a is _STAR else i + 1, j if b is _STAR else j + 1))
    return False


def _types_matching(action: Action, resources: list[str]) -> list[str]:
    """Names of the action's resource types some resource of the statement can be."""
    return [
        rt.name
        for rt in action.resource_types
        if any(r == "*" or arn_can_match(r, rt.arn) for r in resources)
    ]


# -- condition keys --------------------------------------------------------------------------------
def _supports(action: Action, key: str) -> bool:
    lowered = key.lower()
    if lowered.startswith("aws:") and not lowered.startswith(_TAG_KEYS):
        return True
    return any(template_regex(k).fullmatch(key) for k in action.all_condition_keys())


def _condition_keys(body: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(operator, key, lenient) per condition key; lenient for ``...IfExists`` and ``Null``."""
    for operator, block in (body.get("Condition") or {}).items():
        base = operator.lower()
        for prefix in _SET_PREFIXES:
            base = base.removeprefix(prefix)
        lenient = base.endswith("ifexists") or base == "null"
        for key in block or {}:
            yield operator, key, lenient


# -- the document rules ----------------------------------------------------------------------------
def check_document(document: dict[str, Any], resource: str = "", where: str = "") -> list[Finding]:
    """Rules ``action-exists``, ``resource-level``, ``resource-type``, ``condition-key`` over one
    policy document (identity, resource or trust policy) held by `resource` in input `where`."""
    findings: list[Finding] = []
    for statement in statements(document, resource, where):
        findings.extend(_check_statement(statement))
    return findings


def _check_statement(statement: Statement) -> Iterator[Finding]:
    expanded: dict[str, list[Action]] = {}
    for pattern in statement.values("Action") + statement.values("NotAction"):
        matched = actions_matching(pattern)
        if not matched:
            yield _finding(
                ACTION_EXISTS,
                statement,
                pattern,
                f"{pattern} matches no action in the Service Authorization Reference",
            )
        elif "Action" in statement.body and pattern != "*":
            expanded[pattern] = matched
    if not expanded:
        return
    resources = statement.values("Resource")
    if statement.allows and resources and "*" not in resources:
        yield from _check_scoped(statement, expanded, resources)
    yield from _check_conditions(statement, expanded)


def _check_scoped(
    statement: Statement, expanded: dict[str, list[Action]], resources: list[str]
) -> Iterator[Finding]:
    listed = ", ".join(resources)
    for pattern, actions in expanded.items():
        if _is_wildcard(pattern):
            if not any(_types_matching(a, resources) for a in actions):
                yield _finding(
                    RESOURCE_TYPE,
                    statement,
                    pattern,
                    f"none of the actions {pattern} matches supports a resource type that "
                    f"{listed} can be: the statement grants nothing for them",
                )
            continue
        action = actions[0]
        if not action.resource_level:
            yield _finding(
                RESOURCE_LEVEL,
                statement,
                pattern,
                f"{action.full_name} has no resource-level permissions (no resource type in the "
                f'SAR), so it is granted only with Resource "*"; here it is scoped to {listed}',
            )
        elif not _types_matching(action, resources):
            formats = "; ".join(f"{rt.name}: {rt.arn}" for rt in action.resource_types)
            yield _finding(
                RESOURCE_TYPE,
                statement,
                pattern,
                f"{action.full_name} acts on {formats}; none of {listed} is one of them",
            )


def _check_conditions(statement: Statement, expanded: dict[str, list[Action]]) -> Iterator[Finding]:
    for operator, key, lenient in _condition_keys(statement.body):
        per_pattern = {
            pattern: any(_supports(a, key) for a in actions)
            for pattern, actions in expanded.items()
        }
        unsupported = [p for p, ok in per_pattern.items() if not ok]
        if not unsupported or (lenient and len(unsupported) < len(per_pattern)):
            continue
        for pattern in unsupported:
            yield _finding(
                CONDITION_KEY,
                statement,
                pattern,
                f"condition {operator} {key}: {pattern} does not support the key (neither its "
                "action-level keys, nor its resource types' keys, nor a global aws: key)",
            )


# -- dependent actions, per principal --------------------------------------------------------------
def check_dependencies(principal_statements: Iterable[Statement]) -> list[Finding]:
    """Rule ``dependent-actions``: every dependent action of an allowed action is allowed too.

    `principal_statements` are all statements of one principal's identity policies. Only the SAR
    rows that apply are read: the action's row without a resource type and the rows of the
    resource types the statement's resources can be.
    """
    allows = [s for s in principal_statements if s.allows]
    granted = [p.lower() for s in allows for p in s.values("Action")]
    findings: list[Finding] = []
    for statement in allows:
        resources = statement.values("Resource") or ["*"]
        for pattern in statement.values("Action"):
            if _is_wildcard(pattern):
                continue
            for action in actions_matching(pattern):
                for dependent, why in _dependents(action, resources):
                    if (action.full_name, dependent) in DEPENDENCY_EXEMPTIONS:
                        continue
                    if any(fnmatch.fnmatchcase(dependent.lower(), g) for g in granted):
                        continue
                    findings.append(
                        _finding(
                            DEPENDENT_ACTIONS,
                            statement,
                            pattern,
                            f"{action.full_name} needs {dependent} (SAR dependent action{why}); "
                            "no Allow statement of this principal grants it",
                        )
                    )
    return findings


def _dependents(action: Action, resources: list[str]) -> Iterator[tuple[str, str]]:
    for dependent in action.dependent_actions:
        yield dependent, ""
    types = set(_types_matching(action, resources))
    for rt in action.resource_types:
        if rt.name in types:
            for dependent in rt.dependent_actions:
                yield dependent, f" for resource type {rt.name}"
