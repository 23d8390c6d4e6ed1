"""The bake's length comes from the alarm replay of the deployment alarms' real definitions."""

from __future__ import annotations

from ops.release.bake_window import bake_window


def five_xx_rate(name: str = "blue-onebox-5xx-rate", m: int = 1, n: int = 1) -> dict:
    def metric(query_id: str, metric_name: str) -> dict:
        dims = [
            {"Name": "TargetGroup", "Value": "targetgroup/tg/1"},
            {"Name": "LoadBalancer", "Value": "app/lb/2"},
        ]
        return {
            "Id": query_id,
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": metric_name,
                    "Dimensions": dims,
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }

    return {
        "AlarmName": name,
        "EvaluationPeriods": n,
        "DatapointsToAlarm": m,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "Metrics": [
            metric("errors", "HTTPCode_Target_5XX_Count"),
            metric("requests", "RequestCount"),
            {
                "Id": "rate",
                "Expression": "IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)",
                "ReturnData": True,
            },
        ],
    }


def test_a_bake_shorter_than_the_replayed_detection_is_lengthened_and_says_why() -> None:
    window = bake_window(60, [five_xx_rate()])
    assert window.seconds == 120
    assert (
        "alarm blue-onebox-5xx-rate: ALARM 120 s after a failing release starts (replay 'a failing release')"
        in window.lines
    )
    assert window.lines[-1] == "bake lengthened from 60 s to 120 s so every alarm can fire"


def test_a_long_enough_bake_keeps_its_length() -> None:
    window = bake_window(300, [five_xx_rate(m=2, n=2)])
    assert window.seconds == 300 and len(window.lines) == 1


def test_an_alarm_the_replay_cannot_read_is_named_not_fatal() -> None:
    odd = {
        **five_xx_rate("odd"),
        "Metrics": [],
        "MetricName": "Mystery",
        "Namespace": "X",
        "Period": 60,
        "Statistic": "Sum",
    }
    window = bake_window(300, [odd])
    assert window.seconds == 300
    assert window.lines[0].startswith("alarm odd: not replayed (alarm 'odd' watches X/Mystery")
