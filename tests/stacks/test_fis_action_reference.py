"""Every FIS experiment template of both stacks against the FIS actions reference
(tests/support/fis_actions.py, each row citing its section): action ids exist, each action names
its target under the action's key and that target is of the action's resource type, parameters
are known, required ones present, durations ISO 8601 within PT1M-PT12H, booleans true/false."""

from __future__ import annotations

import copy

import pytest

from ops.synth.runner import Synthesis
from tests.support.fis_actions import ACTIONS, duration_seconds, template_problems
from tests.support.stacks import synthesize_shipped_stacks

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"


def az_template(synthesis: Synthesis) -> dict:
    """Inputs of the stack's az-power-interruption template (its schedule has the same name)."""
    return next(
        t for t in synthesis.of_type(TEMPLATE) if t.name == "chaos-az-power-interruption"
    ).inputs


@pytest.fixture(scope="module")
def stacks() -> dict[str, Synthesis]:
    return synthesize_shipped_stacks()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_template_follows_the_fis_actions_reference(
    stacks: dict[str, Synthesis], stack: str
) -> None:
    templates = stacks[stack].of_type(TEMPLATE)
    assert templates, f"{stack} has no FIS templates to check"
    problems = [p for t in templates for p in template_problems(f"{stack} {t.name}", t.inputs)]
    assert problems == [], "\n".join(problems)


def test_prod_uses_each_action_of_the_az_scenario_it_has_resources_for(
    stacks: dict[str, Synthesis],
) -> None:
    """Prod's AZ template: stop the zone's hosts, refuse launches there, cut its subnets, fail the
    Multi-AZ database over — the scenario's Stop-ASG-Instances, Pause-ASG-Scaling,
    Pause-network-connectivity and (for an RDS instance) a forced-failover reboot."""
    actions = [a["actionId"] for a in az_template(stacks["prod"])["actions"]]
    assert sorted(set(actions)) == [
        "aws:ec2:asg-insufficient-instance-capacity-error",
        "aws:ec2:stop-instances",
        "aws:network:disrupt-connectivity",
        "aws:rds:reboot-db-instances",
    ]
    # prod's environments have hosts of their own: the zone's hosts of each group are stopped
    groups = stacks["prod"].outputs["hostGroups"]
    assert actions.count("aws:ec2:stop-instances") == len(groups) == 2


@pytest.mark.parametrize(
    ("plant", "expected"),
    [
        (lambda a, t: a.update(actionId="aws:ec2:stop-instance"), "no such FIS action"),
        (lambda a, t: a["target"].update(key="Instance"), "under 'Instances'"),
        (lambda a, t: t.update(resourceType="aws:ecs:task"), "acts on aws:ec2:instance"),
        (
            lambda a, t: a["parameters"].append({"key": "startAfter", "value": "PT1M"}),
            "unknown parameter 'startAfter'",
        ),
        (
            lambda a, t: a["parameters"][0].update(value="30M"),
            "not an ISO 8601 duration",
        ),
        (
            lambda a, t: a["parameters"][1].update(value="yes"),
            "is not true or false",
        ),
    ],
)
def test_a_planted_departure_from_the_reference_is_found(
    stacks: dict[str, Synthesis], plant, expected: str
) -> None:
    """The check can fail: each planted error in prod's stop action or its target is reported."""
    inputs = copy.deepcopy(az_template(stacks["prod"]))
    action = next(a for a in inputs["actions"] if a["actionId"] == "aws:ec2:stop-instances")
    target = next(t for t in inputs["targets"] if t["name"] == action["target"]["value"])
    assert [p["key"] for p in action["parameters"]] == [
        "startInstancesAfterDuration",
        "completeIfInstancesTerminated",
    ]
    plant(action, target)
    problems = template_problems("prod az", inputs)
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_missing_required_parameter_and_a_bad_scope_are_found() -> None:
    inputs = {
        "targets": [{"name": "s", "resourceType": "aws:ec2:subnet", "selectionMode": "ALL"}],
        "actions": [
            {
                "name": "cut",
                "actionId": "aws:network:disrupt-connectivity",
                "parameters": [{"key": "scope", "value": "everything"}],
                "target": {"key": "Subnets", "value": "s"},
            }
        ],
    }
    problems = template_problems("t", inputs)
    assert len(problems) == 2
    assert "lacks the required parameter 'duration'" in problems[0]
    assert "scope='everything' is not one of" in problems[1]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT2M", 120), ("PT1H", 3600), ("PT1H30M", 5400), ("PT90S", 90), ("30M", None), ("PT", None)],
)
def test_iso_durations(text: str, seconds: int | None) -> None:
    assert duration_seconds(text) == seconds


def test_every_row_cites_its_section_of_the_reference() -> None:
    for action_id, row in ACTIONS.items():
        assert row.source.startswith(
            "https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#"
        ), action_id
        assert row.required <= row.parameters and row.durations <= row.parameters, action_id
