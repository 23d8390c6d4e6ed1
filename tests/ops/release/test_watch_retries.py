"""AWS API errors while watching: retried with backoff, then one clear WatchError (never a traceback).

Real boto3 clients against moto; a wrapper makes the first N calls of one operation fail the way
AWS does (a botocore ``ClientError`` with AWS's error code).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ops.release.deployment_watch import DeploymentWatcher, WatchError
from tests.chaos.moto_world import REGION, FakeTime, moto_sandbox
from tests.ops.release.test_pipeline_watch import CLUSTER, aws  # noqa: F401 (fixture)


class Flaky:
    """Proxy for a boto3 client: ``operation`` raises ``code`` for its first ``times`` calls."""

    def __init__(self, client: Any, operation: str, code: str, times: int) -> None:
        self.client, self.operation, self.code, self.times = client, operation, code, times
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.client, name)
        if name != self.operation:
            return real

        def call(**kwargs: Any) -> Any:
            self.calls += 1
            if self.calls <= self.times:
                error = {"Error": {"Code": self.code, "Message": f"{self.code} from AWS"}}
                raise ClientError(error, name)  # type: ignore[arg-type]
            return real(**kwargs)

        return call


@pytest.fixture
def bare(monkeypatch) -> Iterator[None]:
    with moto_sandbox(monkeypatch):
        yield


def watcher(ecs: Any, cloudwatch: Any, time: FakeTime, lines: list[str]) -> DeploymentWatcher:
    return DeploymentWatcher(
        ecs, cloudwatch, clock=time.clock, sleep=time.sleep, log=lines.append, attempts=4
    )


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
def test_ecs_errors_are_retried_with_growing_backoff(aws, code):  # noqa: F811
    time, lines = FakeTime(), []
    ecs = Flaky(aws["ecs"], "describe_services", code, times=2)
    found = watcher(ecs, aws["cloudwatch"], time, lines).describe(CLUSTER, ["onebox"])
    assert found["onebox"]["status"] == "ACTIVE"
    assert ecs.calls == 3 and time.now == 1 + 2  # slept 1 s, then 2 s
    assert lines[0] == (
        f"ECS DescribeServices on cluster {CLUSTER!r}: {code}: {code} from AWS; retrying in 1s"
    )


def test_persistent_throttling_becomes_one_clear_error(aws):  # noqa: F811
    time, lines = FakeTime(), []
    cloudwatch = Flaky(aws["cloudwatch"], "describe_alarms", "Throttling", times=99)
    with pytest.raises(WatchError) as err:
        watcher(aws["ecs"], cloudwatch, time, lines).firing_alarms(["onebox-latency"])
    assert str(err.value) == (
        "CloudWatch DescribeAlarms failed 4 times (backing off up to 20s): "
        "Throttling: Throttling from AWS"
    )
    assert cloudwatch.calls == 4 and time.now == 1 + 2 + 4


def test_a_missing_cluster_is_not_retried(bare):
    time, lines = FakeTime(), []
    ecs = boto3.client("ecs", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    with pytest.raises(WatchError, match="ClusterNotFoundException"):
        watcher(ecs, cloudwatch, time, lines).describe("nope", ["svc"])
    assert time.now == 0 and lines == []


def test_cloudwatch_check_reports_access_denied(bare):
    time, lines = FakeTime(), []
    ecs = boto3.client("ecs", region_name=REGION)
    cloudwatch = Flaky(
        boto3.client("cloudwatch", region_name=REGION), "describe_alarms", "AccessDenied", 99
    )
    with pytest.raises(
        WatchError, match=r"CloudWatch DescribeAlarms failed 4 times .*AccessDenied"
    ):
        watcher(ecs, cloudwatch, time, lines).check_cloudwatch()
