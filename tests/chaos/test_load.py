"""chaos.load against a real HTTP server on 127.0.0.1: bounds, counts, error rate, p99, and the
hypothesis probe that judges the load measured during a fault."""

from __future__ import annotations

import time

import pytest

from chaos import load


def test_bounds_are_refused_with_the_allowed_range(server):
    url, _ = server
    with pytest.raises(load.LoadError, match=r"rate must be in \(0, 50\], got 500"):
        load.start_load(f"{url}/api", rate=500)
    with pytest.raises(load.LoadError, match=r"duration must be in \(0, 3600\], got 86400"):
        load.start_load(f"{url}/api", duration=86400)
    with pytest.raises(load.LoadError, match=r"concurrency must be in \[1, 16\], got 0"):
        load.start_load(f"{url}/api", concurrency=0)
    with pytest.raises(load.LoadError, match="http\\(s\\) URL, got 'ftp://x'"):
        load.start_load("ftp://x")
    with pytest.raises(load.LoadError, match="finish_load without start_load"):
        load.finish_load()


def test_load_counts_answers_and_errors_and_ends_at_its_duration(server):
    url, handler = server
    handler.fixed = {"/api": 503}
    load.start_load(f"{url}/api", rate=40, duration=0.5, timeout=2)
    with pytest.raises(load.LoadError, match="already running"):
        load.start_load(f"{url}/api")
    time.sleep(0.8)  # longer than the duration: the run has ended by itself
    sent = handler.paths.count("/api")
    time.sleep(0.2)
    assert handler.paths.count("/api") == sent  # nothing more after the duration
    summary = load.finish_load()
    assert summary["requests"] == sent
    assert 15 <= sent <= 21  # 40/s for 0.5 s, first request at once
    assert summary["errors"] == sent and summary["error_rate"] == 1.0
    assert summary["statuses"] == {"503": sent}
    assert summary["p99_ms"] is not None and summary["p99_ms"] >= summary["p50_ms"]


def test_no_answer_is_an_error():
    load.start_load("http://127.0.0.1:9/api", rate=20, duration=0.2, timeout=1)  # discard port
    time.sleep(0.3)
    summary = load.finish_load()
    assert summary["requests"] >= 1
    assert summary["statuses"] == {"no answer": summary["requests"]}


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert load.percentile(values, 99) == 99.0
    assert load.percentile(values, 50) == 50.0
    assert load.percentile([3.0], 99) == 3.0
    assert load.percentile([], 99) is None


def test_the_probe_samples_before_and_judges_the_fault_run_after(server):
    url, handler = server
    # before the method: no measurement yet, so the probe samples the service itself
    assert load.load_within_tolerance(f"{url}/api", sample_seconds=0.3, rate=20) is True
    sampled = handler.paths.count("/api")
    assert sampled >= 3
    # the method's load sees 1 error in ~10 requests: 10 % > 1 %
    handler.statuses = [503, 200]
    load.start_load(f"{url}/api", rate=40, duration=0.25)
    time.sleep(0.35)
    summary = load.finish_load()
    assert summary["errors"] == 1
    assert load.last_load() == summary
    assert load.load_within_tolerance(f"{url}/api", max_error_rate=0.01) is False
    assert handler.paths.count("/api") == sampled + summary["requests"]  # judged, not re-sampled
    # the measurement is used once: the next call samples again, now healthy
    assert load.load_within_tolerance(f"{url}/api", sample_seconds=0.2, rate=20) is True


def test_the_error_rate_limit_is_validated(server):
    url, _ = server
    with pytest.raises(load.LoadError, match=r"max_error_rate must be in \[0, 1\], got 2"):
        load.load_within_tolerance(f"{url}/api", max_error_rate=2)


def test_judge_names_the_breach():
    summary = {"url": "u", "requests": 200, "errors": 3, "error_rate": 0.015,
               "statuses": {"200": 197, "503": 3}, "p99_ms": 80.0}  # fmt: skip
    assert load.judge(summary, 0.01) == (
        False,
        "error rate 1.50% (3/200, {'200': 197, '503': 3}) above 1.00%",
    )
    assert load.judge(summary, 0.02)[0] is True
    assert load.judge(summary, 0.02, max_p99_ms=50) == (False, "p99 80.0 ms above 50 ms")
    assert load.judge({"url": "u", "requests": 0}, 0.01) == (False, "no request to u completed")


def test_stop_load_is_a_safe_rollback(server):
    url, _ = server
    assert load.stop_load() == {"stopped": False}
    load.start_load(f"{url}/api", rate=10, duration=60)
    stopped = load.stop_load()
    assert stopped["stopped"] is True and stopped["requests"] >= 1
    assert load.stop_load() == {"stopped": False}
