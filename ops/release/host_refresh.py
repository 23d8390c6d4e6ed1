"""The release pipeline's host step: follow one environment's instance refresh to its end.

Moving an environment's host pin (``release.hostRollout``) gives its launch template a new
version, and the Auto Scaling group's ``instance_refresh`` block starts an instance refresh
(pulumi-aws ``autoscaling.Group``: "start an Instance Refresh when this Auto Scaling group is
updated"). Whether that refresh succeeded is read from ``DescribeInstanceRefreshes``; statuses are
botocore's ``autoscaling`` ``InstanceRefreshStatus`` enum.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: A refresh still moving (``InstanceRefreshStatus``: Baking is the wait after the last batch).
RUNNING = frozenset({"Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"})
SUCCEEDED = "Successful"


@dataclass(frozen=True)
class RefreshVerdict:
    done: bool
    ok: bool
    reason: str


def refresh_ids(refreshes: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(r["InstanceRefreshId"]) for r in refreshes if r.get("InstanceRefreshId")}


def judge_refresh(refreshes: Iterable[Mapping[str, Any]], before: set[str]) -> RefreshVerdict:
    """The refreshes started since ``before`` (ids seen before the ``up``): none is "nothing to
    roll"; all ``Successful`` is done; any other final status fails with AWS's reason."""
    new = [r for r in refreshes if str(r.get("InstanceRefreshId")) not in before]
    if not new:
        return RefreshVerdict(True, True, "no instance refresh started: the hosts did not change")
    running = [r for r in new if r.get("Status") in RUNNING]
    if running:
        percent = running[0].get("PercentageComplete")
        done = f", {percent} % replaced" if percent is not None else ""
        return RefreshVerdict(False, True, f"instance refresh {running[0]['Status']}{done}")
    failed = [r for r in new if r.get("Status") != SUCCEEDED]
    if failed:
        first = failed[0]
        why = first.get("StatusReason") or "no reason given"
        return RefreshVerdict(True, False, f"instance refresh {first.get('Status')}: {why}")
    return RefreshVerdict(True, True, f"{len(new)} instance refresh(es) Successful")


class HostRefreshWatcher:
    """Reads one Auto Scaling group's instance refreshes (the ``autoscaling`` client is the seam)."""

    def __init__(
        self,
        client: Any,
        *,
        poll_interval: float = 15.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock

    def refreshes(self, group: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"AutoScalingGroupName": group}
        while True:
            page = self.client.describe_instance_refreshes(**kwargs)
            found.extend(page.get("InstanceRefreshes") or [])
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]

    def wait(
        self,
        group: str,
        before: set[str],
        *,
        timeout: float,
        log: Callable[[str], None] = lambda _: None,
    ) -> RefreshVerdict:
        """Poll until the refreshes started since ``before`` end, or ``timeout`` seconds pass."""
        start = self.clock()
        while True:
            verdict = judge_refresh(self.refreshes(group), before)
            log(f"{group}: {verdict.reason}")
            if verdict.done:
                return verdict
            if self.clock() - start >= timeout:
                return RefreshVerdict(
                    True, False, f"instance refresh not finished after {timeout:.0f}s"
                )
            self.sleep(self.poll_interval)
