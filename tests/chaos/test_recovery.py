"""Time to recover, from journal timestamps: from the end of the last fault the method injected to
the end of the hypothesis after the method, when it passed."""

from __future__ import annotations

from chaos.recovery import parse_time, recovery_seconds, time_to_recover


def record(kind: str, name: str, end: str, status: str = "succeeded") -> dict:
    return {"activity": {"type": kind, "name": name}, "status": status, "end": end}


def kill_journal(after_met: bool = True, stop_status: str = "succeeded") -> dict:
    """kill-one-task's shape: load, kill, wait for the recovery, measure; then the hypothesis."""
    return {
        "run": [
            record("action", "start-load", "2026-03-01T10:00:01+00:00"),
            record("action", "stop-one-random-task", "2026-03-01T10:00:02+00:00", stop_status),
            record("probe", "wait-until-the-service-recovers", "2026-03-01T10:01:00+00:00"),
            record("probe", "measure-the-load", "2026-03-01T10:01:01+00:00"),
        ],
        "steady_states": {
            "before": {"steady_state_met": True, "probes": []},
            "after": {
                "steady_state_met": after_met,
                "probes": [
                    record("probe", "error-rate", "2026-03-01T10:01:04+00:00"),
                    record("probe", "health", "2026-03-01T10:01:05.500000+00:00"),
                ],
            },
        },
    }


def test_measured_from_the_last_injected_fault_to_the_steady_state_after():
    recovery = time_to_recover(kill_journal())
    assert recovery == {
        "seconds": 63.5,  # 10:00:02 (the kill) to 10:01:05.5 (the last probe after)
        "after_method_seconds": 4.5,  # 10:01:01 (the method's end) to 10:01:05.5
        "fault_ended": "2026-03-01T10:00:02+00:00",
        "method_ended": "2026-03-01T10:01:01+00:00",
        "steady_again": "2026-03-01T10:01:05.500000+00:00",
    }
    assert recovery_seconds(kill_journal()) == 63.5


def test_a_failed_kill_leaves_the_load_start_as_the_last_fault():
    assert recovery_seconds(kill_journal(stop_status="failed")) == 64.5


def test_no_figure_without_a_recovery_or_without_a_fault():
    assert time_to_recover(kill_journal(after_met=False)) is None  # deviated
    aborted = {**kill_journal(), "run": []}
    assert time_to_recover(aborted) is None
    probes_only = kill_journal()
    probes_only["run"] = [r for r in probes_only["run"] if r["activity"]["type"] == "probe"]
    assert time_to_recover(probes_only) is None
    no_stamps = kill_journal()
    del no_stamps["run"][1]["end"]
    assert time_to_recover(no_stamps) is None
    assert time_to_recover({}) is None


def test_timestamps_naive_or_zulu_are_utc():
    assert parse_time("2026-03-01T10:00:02") == parse_time("2026-03-01T10:00:02Z")
    assert parse_time("2026-03-01T10:00:02Z") == parse_time("2026-03-01T11:00:02+01:00")
    assert parse_time("yesterday") is None and parse_time(None) is None
