"""The bad-release experiment gets its pipeline through the Automation API: the stack selected in
this project's directory, the pipeline enforcing this project's policy pack.

Replaces a test that ran only where the pulumi CLI is on PATH (never in CI) and then asserted only
the stack name it had passed in; here ``select_stack`` is recorded, so what is asserted holds
everywhere.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace
from typing import Any

from pulumi import automation as auto

from chaos import bad_release
from ops.release.pipeline import REPO_DIR


def test_the_stack_is_selected_in_this_project_and_released_with_its_policy_pack(
    monkeypatch,
) -> None:
    selected: list[tuple[str, Any]] = []

    def select_stack(stack_name: str, **kwargs: Any) -> SimpleNamespace:
        selected.append((stack_name, kwargs))
        return SimpleNamespace(name=stack_name)

    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/local/bin/{name}")
    monkeypatch.setattr(auto, "select_stack", select_stack)
    pipeline = bad_release.automation_pipeline("prod")
    assert selected == [("prod", {"work_dir": str(REPO_DIR)})]
    assert pipeline.stack.name == "prod"
    assert pipeline.options.project_dir == REPO_DIR
    assert pipeline.options.namespace == "steadystate"
    assert pipeline.options.policy_pack == REPO_DIR / "policy"
    assert (REPO_DIR / "policy" / "PulumiPolicy.yaml").exists()
