"""chaos.probes.service_state reads every count ECS reports, pending ones included.

ECS's ``Service.pendingCount`` is "the number of tasks in the cluster that are in the PENDING
state" (botocore ``ecs`` service-2.json, shape ``Service``): while a replacement is still starting,
running may already equal desired (the stopped task's replacement counted, or a deployment's extra
task), and the service is not steady yet.
"""

from __future__ import annotations

from typing import Any

from chaos.probes import service_state


class PendingEcs:
    """The world's ECS, with ``pendingCount`` on every described service set to ``pending``."""

    def __init__(self, ecs: Any, pending: int) -> None:
        self._ecs, self._pending = ecs, pending

    def describe_services(self, **kwargs: Any) -> dict[str, Any]:
        answer = self._ecs.describe_services(**kwargs)
        for service in answer.get("services") or []:
            service["pendingCount"] = self._pending
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ecs, name)


def test_a_pending_task_is_not_steady_even_with_running_equal_to_desired(world) -> None:
    assert service_state(world.ecs, world.cluster, world.service).ok
    state = service_state(PendingEcs(world.ecs, 1), world.cluster, world.service)
    assert not state.ok
    assert state.reason == "runningCount 3 != desiredCount 3, pendingCount 1"
    assert state.pending == 1


def test_no_pending_task_is_steady(world) -> None:
    assert service_state(PendingEcs(world.ecs, 0), world.cluster, world.service).ok
