"""The release pipeline's host step: with hosts per environment (prod), application steps hold
every host pin; then blue's hosts move, their instance refresh must succeed and their services
bake quiet, and only then green's move.

The harness is ``test_pipeline.py``'s (fake stack, ECS and CloudWatch in moto). Instance
refreshes are read through a botocore ``Stubber`` on a real ``autoscaling`` client, which checks
every request and response against botocore's service model (moto has no instance refreshes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pulumi import automation as auto

from ops.release.host_refresh import HostRefreshWatcher, judge_refresh
from ops.release.pipeline import EXIT_HOSTS_FAILED, EXIT_OK, ReleaseConfig, plan_steps
from tests.ops.release.test_pipeline import make  # noqa: F401  (the fixture)

GROUPS = {"blue": "asg-blue", "green": "asg-green"}


def refresh(refresh_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "InstanceRefreshId": refresh_id,
        "AutoScalingGroupName": "asg-blue",
        "Status": status,
        "StartTime": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        "PercentageComplete": 100 if status == "Successful" else 40,
    }
    if reason:
        item["StatusReason"] = reason
    return item


class Refreshes:
    """Per group, what DescribeInstanceRefreshes answers before and after that group's ``up``."""

    def __init__(self, after: dict[str, list[list[dict[str, Any]]]]) -> None:
        self.after = after
        self.client = boto3.client("autoscaling", region_name="us-east-2")
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        self.asked: list[str] = []

    def expect(self, group: str, answers: list[list[dict[str, Any]]]) -> None:
        for answer in answers:
            self.stubber.add_response(
                "describe_instance_refreshes",
                {"InstanceRefreshes": answer},
                {"AutoScalingGroupName": group},
            )

    def watcher(self, _region: str | None) -> HostRefreshWatcher:
        return HostRefreshWatcher(self.client, poll_interval=15, sleep=lambda _: None)


def with_hosts(h: Any) -> None:
    """The harness stack with cluster.capacityPerEnvironment and the hostGroups output."""
    config = h.stack.get_all_config()
    h.stack.get_all_config = lambda: {  # type: ignore[method-assign]
        **config,
        "steadystate:cluster": auto.ConfigValue('{"capacityPerEnvironment": true}'),
    }
    up = h.stack.up

    def up_with_groups(**kwargs: Any) -> Any:
        result = up(**kwargs)
        h.stack._outputs["hostGroups"] = dict(GROUPS)
        return SimpleNamespace(outputs=h.stack.outputs(), summary=result.summary)

    h.stack.up = up_with_groups  # type: ignore[method-assign]
    h.stack._outputs["hostGroups"] = dict(GROUPS)


def test_plan_holds_hosts_in_application_steps_then_moves_blue_then_green() -> None:
    config = ReleaseConfig(
        onebox=True, region=None, environments=("blue", "green"), primary="blue",
        hosts_per_environment=True,
    )  # fmt: skip
    steps = plan_steps(config, first_release=False)
    assert [(s.name, s.host_rollout) for s in steps] == [
        ("blue onebox", ()),
        ("blue fleet", ()),
        ("green onebox", ()),
        ("green fleet", ()),
        ("blue hosts", ("blue",)),
        ("green hosts", ("blue", "green")),
    ]
    shared = ReleaseConfig(onebox=True, region=None, environments=("blue", "green"), primary="blue")
    assert all(s.host_rollout is None and not s.hosts for s in plan_steps(shared, False))


def test_blue_hosts_prove_healthy_before_green_moves(make) -> None:  # noqa: F811
    h = make("prod", {"onebox": True})
    with_hosts(h)
    refreshes = Refreshes({})
    old = refresh("r-old", "Successful")
    refreshes.expect("asg-blue", [[old], [refresh("r-1", "InProgress"), old]])
    refreshes.expect("asg-blue", [[refresh("r-1", "Successful"), old]])
    refreshes.expect("asg-green", [[], [refresh("r-2", "Successful")]])
    pipeline = h.pipeline()
    pipeline.host_watcher_factory = refreshes.watcher
    assert pipeline.run() == EXIT_OK, h.log
    runs = [run.get("hostRollout") for run in h.stack.runs if "preview" not in run]
    assert runs == [[], [], [], [], ["blue"], ["blue", "green"]]
    assert "asg-blue: instance refresh InProgress, 40 % replaced" in h.log
    assert "blue's hosts proved healthy" in h.log and "green's hosts proved healthy" in h.log
    refreshes.stubber.assert_no_pending_responses()


def test_a_failed_refresh_stops_before_greens_hosts_move(make) -> None:  # noqa: F811
    h = make("prod", {"onebox": True})
    with_hosts(h)
    refreshes = Refreshes({})
    failed = refresh("r-1", "RollbackSuccessful", "instances failed ELB health checks")
    refreshes.expect("asg-blue", [[], [failed]])
    pipeline = h.pipeline()
    pipeline.host_watcher_factory = refreshes.watcher
    assert pipeline.run() == EXIT_HOSTS_FAILED, h.log
    runs = [run.get("hostRollout") for run in h.stack.runs if "preview" not in run]
    assert runs[-1] == ["blue"]  # green's hosts never moved
    assert "RollbackSuccessful: instances failed ELB health checks" in h.log


def test_an_alarm_during_the_host_bake_stops_before_green(make) -> None:  # noqa: F811
    h = make("prod", {"onebox": True})
    with_hosts(h)
    refreshes = Refreshes({})
    refreshes.expect("asg-blue", [[], [refresh("r-1", "Successful")]])
    pipeline = h.pipeline()
    pipeline.host_watcher_factory = refreshes.watcher
    original = h.stack.up

    def up_then_alarm(**kwargs: Any) -> Any:
        result = original(**kwargs)
        if h.stack.runs[-1].get("hostRollout") == ["blue"]:
            h.alarm("svc-blue-fleet-latency", "ALARM", "new hosts are slow")
        return result

    h.stack.up = up_then_alarm  # type: ignore[method-assign]
    assert pipeline.run() == EXIT_HOSTS_FAILED, h.log
    assert [run.get("hostRollout") for run in h.stack.runs][-1] == ["blue"]


@pytest.mark.parametrize(
    ("statuses", "done", "ok"),
    [
        ([], True, True),
        (["Pending"], False, True),
        (["Baking"], False, True),
        (["Successful"], True, True),
        (["Successful", "InProgress"], False, True),
        (["Failed"], True, False),
        (["Cancelled"], True, False),
        (["RollbackFailed"], True, False),
    ],
)
def test_refresh_verdicts_follow_the_status_enum(statuses, done, ok) -> None:
    """Statuses are botocore's autoscaling InstanceRefreshStatus; refreshes seen before the
    ``up`` are not this step's."""
    found = [refresh(f"r-{i}", s) for i, s in enumerate(statuses)]
    verdict = judge_refresh([*found, refresh("r-old", "Failed")], {"r-old"})
    assert (verdict.done, verdict.ok) == (done, ok)
