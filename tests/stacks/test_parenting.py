"""Every resource of both real stacks sits under the component that creates it.

A child registered without ``parent=self`` lands under the stack root: `pulumi destroy` of the
component, aliases and the resource tree no longer hold it, and the component's guarantee checked
through its children silently loses one. The tree is walked as the engine records it (each
registration's parent URN, under the mock monitor of :mod:`ops.synth.mocks`).
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import pkgutil
from pathlib import Path

import pulumi
import pytest

import components
from ops.synth.mocks import ResourceRecord
from ops.synth.runner import PROJECT_DIR, Synthesis, synthesize

STACKS = ("dev", "prod")


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesis]:
    out = {}
    for name in STACKS:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        out[name] = synthesize(name)
        loop.close()
    asyncio.set_event_loop(None)
    return out


def component_classes() -> dict[str, type[pulumi.ComponentResource]]:
    """Every ComponentResource class defined in the components package, by class name."""
    found: dict[str, type[pulumi.ComponentResource]] = {}
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"components.{info.name}")
        for name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, pulumi.ComponentResource) and value.__module__ == module.__name__:
                found[name] = value
    return found


def constructed_in_main() -> set[str]:
    """Names of the component classes the composition root (__main__.py) constructs itself."""
    tree = ast.parse(Path(PROJECT_DIR, "__main__.py").read_text())
    classes = component_classes()
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if node.func.id in classes
    }


def top_level_type_tokens(records: list[ResourceRecord]) -> set[str]:
    """Type tokens of the components the composition root builds (read from their instances)."""
    names = constructed_in_main()
    tokens = set()
    for record in records:
        if not record.custom and record.type.rsplit(":", 1)[-1] in names:
            tokens.add(record.type)
    return tokens


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_has_a_component_parent(stacks, stack) -> None:
    """No resource the program declares sits directly under the stack: a child that lost
    ``parent=self`` is named with its type."""
    records = stacks[stack].records
    by_urn = {r.urn: r for r in records}
    orphans = [f"{r.name} ({r.type})" for r in records if r.custom and r.parent not in by_urn]
    assert not orphans, f"{stack}: registered without parent=<its component>: {orphans}"


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_composition_roots_components_sit_under_the_stack(stacks, stack) -> None:
    """A component nested in another (a service in an environment, a bucket in a load balancer)
    that lost ``parent=self`` shows up beside the ones __main__.py builds."""
    records = stacks[stack].records
    by_urn = {r.urn: r for r in records}
    allowed = top_level_type_tokens(records)
    stray = [
        f"{r.name} ({r.type})"
        for r in records
        if not r.custom and r.parent not in by_urn and r.type not in allowed
    ]
    assert not stray, f"{stack}: nested components registered under the stack: {stray}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_is_named_after_the_component_it_sits_under(stacks, stack) -> None:
    """Children are named ``f"{name}-..."`` after their component (STYLE.md, 7): a child under the
    wrong component (a sibling's ``parent=``) breaks the prefix and is named here."""
    records = stacks[stack].records
    by_urn = {r.urn: r for r in records}
    misplaced = [
        f"{r.name} ({r.type}) under {by_urn[r.parent].name}"
        for r in records
        if r.parent in by_urn and not r.name.startswith(by_urn[r.parent].name)
    ]
    assert not misplaced, (
        f"{stack}: children under a component they are not named after: {misplaced}"
    )


def test_the_two_stacks_exercise_every_component(stacks) -> None:
    """The parenting checks above only see components the stacks build: a new component must be
    built by dev or prod (or get a test of its own here)."""
    built = {r.type.rsplit(":", 1)[-1] for s in stacks.values() for r in s.records if not r.custom}
    missing = sorted(set(component_classes()) - built)
    assert not missing, f"components neither stack builds: {missing}"
