"""Time to recover, read from a run's journal (either engine: both stamp every activity and probe
with an ISO-8601 ``start`` and ``end``, the end taken before any pause after it).

A run injected a fault when an action of its method succeeded; the fault ends with the last such
action. The service has recovered when the steady-state hypothesis after the method has passed:
at the ``end`` of its last probe. Time to recover is the seconds between the two. It is measured
from the fault rather than from the end of the method because the kill experiments wait for the
recovery inside their method (``wait-until-the-service-recovers``): the end of the method would
leave that wait out. ``after_method_seconds`` (from the method's last activity) is kept too.

No figure when nothing was injected (aborted before the method, or every action failed), when
the hypothesis after the method did not pass (the run deviated: no recovery was seen), or when
the journal lacks the timestamps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime (a naive one is read as UTC); None if absent."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and value:
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _is_fault(record: Mapping[str, Any]) -> bool:
    activity = record.get("activity") or {}
    return activity.get("type") == "action" and record.get("status") == "succeeded"


def time_to_recover(journal: Mapping[str, Any]) -> dict[str, Any] | None:
    """``{"seconds", "after_method_seconds", "fault_ended", "method_ended", "steady_again"}``
    (timestamps as ISO strings), or None when the run shows no recovery from a fault."""
    runs = list(journal.get("run") or [])
    faults = [record for record in runs if _is_fault(record)]
    after = (journal.get("steady_states") or {}).get("after")
    if not faults or not after or not after.get("steady_state_met"):
        return None
    probes = after.get("probes") or []
    fault_ended = parse_time(faults[-1].get("end"))
    method_ended = parse_time(runs[-1].get("end"))
    steady_again = parse_time(probes[-1].get("end")) if probes else None
    if fault_ended is None or method_ended is None or steady_again is None:
        return None
    return {
        "seconds": max(0.0, (steady_again - fault_ended).total_seconds()),
        "after_method_seconds": max(0.0, (steady_again - method_ended).total_seconds()),
        "fault_ended": fault_ended.isoformat(),
        "method_ended": method_ended.isoformat(),
        "steady_again": steady_again.isoformat(),
    }


def recovery_seconds(journal: Mapping[str, Any]) -> float | None:
    recovery = time_to_recover(journal)
    return None if recovery is None else float(recovery["seconds"])
