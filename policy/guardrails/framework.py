"""How a guardrail is declared and run.

A rule module declares each policy with :func:`resource_rule` or :func:`stack_rule` around a
small check function. The wrapper gives the check:

- plain properties (see :mod:`.properties`) in which preview-time unknowns are markers;
- its config with the schema defaults filled in (numbers as ints where whole, as in props);
- ``violation(problem, fix)``, which writes one message naming the resource, what is wrong and
  the property/value that fixes it;
- ``Skip``: raised (or :meth:`known` raises it) when a value the rule needs is unknown during
  preview. A skipped check reports nothing; when nothing else was reported the policy answers
  "not applicable" with the reason, which the engine shows against the resource.

Rules marked ``prod_only`` guard something only prod needs (multi-AZ, deletion protection, the
prod minimum capacity...). They must know whether the stack is prod, and read it from their
``environment`` config property (:data:`ENVIRONMENT_PROPERTY`, default "prod" so a missing
config is strict) instead of guessing from names: in "dev" they answer "not applicable" with
the reason. ``policy/config/dev.json`` also runs them advisory, so a dev config that forgot
``environment`` warns instead of blocking.

A rule may also declare ``config_check``: cross-property invariants of its config that a JSON
schema cannot say (e.g. low < high); :mod:`.config_file` runs them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .aws_types import short
from .properties import DocumentError, Unknown, find_unknown, get, plain, tags_of
from .setting_keys import settings_hint

LOG = logging.getLogger("steadystate.guardrails")

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
PACK_ENFORCEMENT_LEVEL = MANDATORY
"""The pack-wide default; every policy sets its own level anyway."""

ENVIRONMENT_PROPERTY: dict[str, Any] = {
    "type": "string",
    "enum": ["prod", "dev"],
    "default": "prod",
    "description": "Which stack this is; this prod-only rule is not applicable in dev.",
}


class Skip(Exception):
    """A rule cannot judge this input (e.g. a value unknown during preview)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve_config(schema: PolicyConfigSchema | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The schema's defaults overlaid with the config the engine passed."""
    values = {
        key: prop["default"]
        for key, prop in (schema.properties if schema else {}).items()
        if "default" in prop
    }
    values.update(plain(dict(given or {})))
    return values


class _Outcome:
    """What one validation run reported and skipped."""

    def __init__(self, report: ReportViolation, policy: str = "") -> None:
        self._report = report
        self.policy = policy
        self.reported = 0
        self.notes: list[str] = []

    def emit(self, message: str, urn: str | None = None) -> None:
        self.reported += 1
        self._report(message, urn)

    def note(self, reason: str) -> None:
        """Record a part of the check that was skipped, with why."""
        if reason not in self.notes:
            self.notes.append(reason)


def _message(type_token: str, name: str, problem: str, fix: str) -> str:
    return f'{short(type_token)} "{name}": {problem}. Fix: {fix}.'


def _with_setting(outcome: _Outcome, message: str, urn: str | None, prop: str | None) -> str:
    """``message`` plus the `steadystate:` settings to change when the program built the resource
    from them (:mod:`.setting_keys`)."""
    return message + settings_hint(outcome.policy, urn, prop)


class ResourceCheck:
    """What a resource rule's check function gets."""

    def __init__(
        self, args: ResourceValidationArgs, outcome: _Outcome, config: Mapping[str, Any]
    ) -> None:
        self.type = args.resource_type
        self.name = args.name
        self.urn: str | None = args.urn
        self.props: dict[str, Any] = plain(args.props)
        self.config = config
        self._outcome = outcome

    def get(self, path: str, default: Any = None) -> Any:
        """A property by dotted path; Unknown when unknown during preview."""
        return get(self.props, path, default)

    def known(self, path: str, default: Any = None) -> Any:
        """A property that must be fully known to judge; raises Skip when it is not."""
        value = self.get(path, default)
        where = find_unknown(value)
        if where is not None:
            raise Skip(f"{path}{'.' + where if where else ''} is unknown during preview")
        return value

    @property
    def tags(self) -> dict[str, Any] | Unknown:
        return tags_of(self.props)

    def violation(self, problem: str, fix: str, *, prop: str | None = None) -> None:
        """Report ``problem`` (what is wrong) and ``fix`` (the property and value to set); on a
        resource the program built from settings, also the setting to change (the one behind
        ``prop``, the property judged, when the policy's settings differ by property)."""
        message = _message(self.type, self.name, problem, fix)
        self._outcome.emit(_with_setting(self._outcome, message, self.urn, prop))

    def note(self, reason: str) -> None:
        """Skip one part of the check (e.g. one container) and say why."""
        self._outcome.note(reason)


class StackResource:
    """A resource of the stack as a stack rule sees it: plain props plus its dependencies."""

    def __init__(self, resource: PolicyResource) -> None:
        self.type = resource.resource_type
        self.name = resource.name
        self.urn = resource.urn
        self._resource = resource

    # A stack rule reads the props of the few resource types it judges, but every rule gets every
    # resource of the stack: converting them all up front for each of ~30 stack rules was half of
    # the pack's AnalyzeStack time. Converted on first read, still a copy of the rule's own.
    @functools.cached_property
    def props(self) -> dict[str, Any]:
        return plain(self._resource.props)

    @functools.cached_property
    def _property_dependencies(self) -> dict[str, tuple[str, ...]]:
        return {
            key: tuple(dep.urn for dep in deps)
            for key, deps in (self._resource.property_dependencies or {}).items()
        }

    def get(self, path: str, default: Any = None) -> Any:
        return get(self.props, path, default)

    @property
    def tags(self) -> dict[str, Any] | Unknown:
        return tags_of(self.props)

    def depends_on(self, prop: str) -> tuple[str, ...]:
        """URNs of the resources whose outputs flowed into ``prop``."""
        return self._property_dependencies.get(prop, ())

    def label(self) -> str:
        return f'{short(self.type)} "{self.name}"'


class StackCheck:
    """What a stack rule's check function gets."""

    def __init__(self, args: StackValidationArgs, outcome: _Outcome, config: Mapping[str, Any]):
        self.resources = [StackResource(r) for r in args.resources]
        self.by_urn = {r.urn: r for r in self.resources}
        self.config = config
        self._outcome = outcome

    def of_type(self, *tokens: str | Sequence[str]) -> list[StackResource]:
        wanted: set[str] = set()
        for token in tokens:
            wanted.update([token] if isinstance(token, str) else token)
        return [r for r in self.resources if r.type in wanted]

    def find_by(
        self, candidates: Iterable[StackResource], value: Any, *props: str
    ) -> StackResource | None:
        """The candidate whose ``props`` (e.g. "arn", "id") equals the known ``value``."""
        if not isinstance(value, str) or not value:
            return None
        for resource in candidates:
            if any(resource.get(p) == value for p in props):
                return resource
        return None

    def refers_to(
        self, source: StackResource, prop: str, target: StackResource, *target_props: str
    ) -> bool | None:
        """Does ``source.prop`` point at ``target``?

        True when the known value equals one of ``target``'s ``target_props`` (an ARN, id or
        name), or when ``prop`` was computed from ``target`` (a property dependency: how the
        link still shows during preview). False when known values differ. None when the value
        is unknown and no dependency says where it comes from.
        """
        if target.urn in source.depends_on(prop):
            return True
        value = source.get(prop)
        if isinstance(value, Unknown):
            return None
        identities = [target.get(p) for p in target_props]
        if value is not None and value in identities:
            return True
        return None if any(isinstance(i, Unknown) for i in identities) else False

    def violation(self, resource: StackResource, problem: str, fix: str) -> None:
        """Report ``problem`` on ``resource`` and ``fix``; on a resource the program built from
        settings, also the setting to change."""
        message = _message(resource.type, resource.name, problem, fix)
        self._outcome.emit(_with_setting(self._outcome, message, resource.urn, None), resource.urn)

    def note(self, reason: str) -> None:
        self._outcome.note(reason)


def _finish(name: str, outcome: _Outcome, not_applicable: Callable[[str], None]) -> None:
    if not outcome.notes:
        return
    reason = "; ".join(outcome.notes)
    LOG.info("policy %s skipped part of its check: %s", name, reason)
    if not outcome.reported:
        not_applicable(f"skipped: {reason}")


def _run(outcome: _Outcome, body: Callable[[], None]) -> None:
    try:
        body()
    except Skip as skip:
        outcome.note(skip.reason)
    except DocumentError as error:
        outcome.note(f"{error} (the provider will reject it)")


ConfigCheck = Callable[[Mapping[str, Any], str | None], list[str]]
"""(effective properties, configured enforcement level or None) -> problems, each naming the
property, its value and what is allowed."""


def _schema(
    properties: Mapping[str, dict[str, Any]] | None, prod_only: bool
) -> PolicyConfigSchema | None:
    merged = {**({"environment": ENVIRONMENT_PROPERTY} if prod_only else {}), **(properties or {})}
    return PolicyConfigSchema(merged) if merged else None


def _not_in_prod(name: str, config: Mapping[str, Any]) -> str | None:
    """Why a prod-only policy does not apply to this stack, or None when it is prod."""
    environment = config.get("environment", "prod")
    if environment == "prod":
        return None
    return f"{name} is a prod-only guardrail and this stack's environment is {environment!r}"


class _Judging:
    """What both kinds of guardrail do around their check function."""

    name: str
    config_schema: PolicyConfigSchema | None
    prod_only: bool
    config_check: ConfigCheck | None
    _check: Callable[[Any], None]

    def _judge(
        self,
        args: ResourceValidationArgs | StackValidationArgs,
        report: ReportViolation,
        make_check: Callable[[Any, _Outcome, Mapping[str, Any]], Any],
    ) -> None:
        config = resolve_config(self.config_schema, args.get_config())
        if self.prod_only and (reason := _not_in_prod(self.name, config)):
            args.not_applicable(reason)
        outcome = _Outcome(report, self.name)
        check = make_check(args, outcome, config)
        _run(outcome, lambda: self._check(check))
        _finish(self.name, outcome, args.not_applicable)


class ResourceGuardrail(_Judging, ResourceValidationPolicy):
    """A resource policy that applies to ``resource_types`` only."""

    def __init__(
        self,
        *,
        name: str,
        description: str,
        resource_types: Sequence[str],
        enforcement_level: EnforcementLevel,
        check: Callable[[ResourceCheck], None],
        config: Mapping[str, dict[str, Any]] | None = None,
        prod_only: bool = False,
        config_check: ConfigCheck | None = None,
    ) -> None:
        self.resource_types = tuple(resource_types)
        self.prod_only = prod_only
        self.config_check = config_check
        self._check = check
        super().__init__(
            name=name,
            description=description,
            validate=self._validate,
            enforcement_level=enforcement_level,
            config_schema=_schema(config, prod_only),
        )

    def _validate(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in self.resource_types:
            self._judge(args, report, ResourceCheck)


class StackGuardrail(_Judging, StackValidationPolicy):
    """A stack policy: judges relations between resources."""

    def __init__(
        self,
        *,
        name: str,
        description: str,
        enforcement_level: EnforcementLevel,
        check: Callable[[StackCheck], None],
        config: Mapping[str, dict[str, Any]] | None = None,
        prod_only: bool = False,
        config_check: ConfigCheck | None = None,
    ) -> None:
        self.prod_only = prod_only
        self.config_check = config_check
        self._check = check
        super().__init__(
            name=name,
            description=description,
            validate=self._validate,
            enforcement_level=enforcement_level,
            config_schema=_schema(config, prod_only),
        )

    def _validate(self, args: StackValidationArgs, report: ReportViolation) -> None:
        self._judge(args, report, StackCheck)


def resource_rule(
    name: str,
    *,
    types: str | Sequence[str],
    description: str,
    level: EnforcementLevel,
    config: Mapping[str, dict[str, Any]] | None = None,
    prod_only: bool = False,
    config_check: ConfigCheck | None = None,
) -> Callable[[Callable[[ResourceCheck], None]], ResourceGuardrail]:
    """Declare a resource policy around the decorated check function."""
    return lambda check: ResourceGuardrail(
        name=name,
        description=description,
        resource_types=[types] if isinstance(types, str) else types,
        enforcement_level=level,
        check=check,
        config=config,
        prod_only=prod_only,
        config_check=config_check,
    )


def stack_rule(
    name: str,
    *,
    description: str,
    level: EnforcementLevel,
    config: Mapping[str, dict[str, Any]] | None = None,
    prod_only: bool = False,
    config_check: ConfigCheck | None = None,
) -> Callable[[Callable[[StackCheck], None]], StackGuardrail]:
    """Declare a stack policy around the decorated check function."""
    return lambda check: StackGuardrail(
        name=name,
        description=description,
        enforcement_level=level,
        check=check,
        config=config,
        prod_only=prod_only,
        config_check=config_check,
    )
