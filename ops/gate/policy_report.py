"""Turn analyzer diagnostics into the gate's report: text grouped by enforcement level, or JSON.

Levels follow the engine: a diagnostic at ``remediate`` level is reported as ``mandatory`` (the
remediation ran and the resource still violates); remediations that rewrote a resource are listed
as ``remediated``; policies configured ``disabled`` are listed by name. Exit code: 1 when any
mandatory violation exists, otherwise 0 (3 when a policy raised: see ``ops.gate.check``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ops.gate.analyzer_client import Diagnostic
from ops.gate.resource_tree import split_urn

LEVEL_ORDER = ("mandatory", "advisory", "remediated")


@dataclass(frozen=True)
class Violation:
    level: str
    policy: str
    urn: str
    message: str
    description: str
    stage: str  # "resource" (Analyze / Remediate) | "stack" (AnalyzeStack)
    severity: str = ""
    pack: str = ""

    @property
    def resource_type(self) -> str:
        return split_urn(self.urn)[0]

    @property
    def resource_name(self) -> str:
        return split_urn(self.urn)[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "policy": self.policy,
            "resource": {"name": self.resource_name, "type": self.resource_type, "urn": self.urn},
            "message": self.message,
            "description": self.description,
            "severity": self.severity,
            "stage": self.stage,
        }


def violation_from(diagnostic: Diagnostic, *, urn: str, stage: str) -> Violation:
    """The pack sends `message` as description + newline + the validator's message; split them."""
    description = diagnostic.description
    message = diagnostic.message
    if description and message.startswith(description):
        message = message[len(description) :].lstrip("\n") or description
    level = diagnostic.enforcement_level
    if level == "remediate":
        level = "mandatory"
    return Violation(
        level=level,
        policy=diagnostic.policy_name,
        urn=urn,
        message=message.strip(),
        description=description,
        stage=stage,
        severity=diagnostic.severity,
        pack=diagnostic.policy_pack_name,
    )


@dataclass
class PolicyReport:
    pack_name: str
    pack_version: str
    policy_count: int
    resource_count: int
    project: str = ""
    stack: str = ""
    violations: list[Violation] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pack_output: list[str] = field(default_factory=list)

    def add(self, violations: Iterable[Violation]) -> None:
        self.violations.extend(violations)

    def of_level(self, level: str) -> list[Violation]:
        found = [v for v in self.violations if v.level == level]
        return sorted(found, key=lambda v: (v.policy, v.resource_type, v.resource_name, v.message))

    @property
    def counts(self) -> dict[str, int]:
        return {level: len(self.of_level(level)) for level in LEVEL_ORDER}

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 3
        return 1 if self.counts["mandatory"] else 0

    def summary_line(self) -> str:
        counts = self.counts
        line = (
            f"{self.pack_name}: {self.policy_count} policies, {self.resource_count} resources, "
            f"{counts['mandatory']} mandatory, {counts['advisory']} advisory"
        )
        if counts["remediated"]:
            line += f", {counts['remediated']} remediated"
        if self.errors:
            line += f", {len(self.errors)} policy errors"
        return line

    def render_text(self) -> str:
        lines = [f"Policy pack {self.pack_name}@{self.pack_version} on {self.project}/{self.stack}"]
        width = max((len(v.policy) for v in self.violations), default=0)
        for level in LEVEL_ORDER:
            found = self.of_level(level)
            if not found:
                continue
            lines.append("")
            lines.append(f"{level} ({len(found)})")
            for v in found:
                first, *rest = v.message.splitlines() or [""]
                where = f"{v.resource_name} ({v.resource_type})" if v.urn else "(stack)"
                lines.append(f"  {level:<10} {v.policy:<{width}}  {where}: {first}")
                lines.extend(f"  {'':<10} {'':<{width}}    {more}" for more in rest)
        if self.disabled:
            lines.append("")
            lines.append(f"disabled ({len(self.disabled)}): {', '.join(sorted(self.disabled))}")
        if self.errors:
            lines.append("")
            lines.append(f"policy errors ({len(self.errors)})")
            for error in self.errors:
                lines.extend(f"  {line}" for line in error.splitlines())
        if not self.violations and not self.errors:
            lines.append("")
            lines.append("no violations")
        lines.append("")
        lines.append(self.summary_line())
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "policyPack": {
                "name": self.pack_name,
                "version": self.pack_version,
                "policies": self.policy_count,
                "disabled": sorted(self.disabled),
            },
            "summary": {
                "resources": self.resource_count,
                "mandatory": counts["mandatory"],
                "advisory": counts["advisory"],
                "remediated": counts["remediated"],
                "errors": len(self.errors),
                "line": self.summary_line(),
            },
            "violations": [v.to_json() for level in LEVEL_ORDER for v in self.of_level(level)],
            "errors": list(self.errors),
        }
