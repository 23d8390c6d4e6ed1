"""Replay CloudWatch alarms as AWS evaluates them, over metric streams shaped as AWS publishes them.

* :mod:`.definition` — an alarm as synthesized (Pulumi inputs) or as ``DescribeAlarms`` returns it;
* :mod:`.metric_math` — the metric-math subset our alarms use (``IF``, ``FILL``, arithmetic,
  comparison and logical operators);
* :mod:`.evaluation` — M of N, the evaluation range and missing-data treatment;
* :mod:`.streams` — how each metric is published (sparse ALB counts, the prober's 10 s samples, a
  dead task's silence), one table entry per metric;
* :mod:`.scenarios` — named worlds (healthy and idle, the bake's load, a failing release, a lost
  dependency, a lost environment, a load step) and what each alarm's purpose needs in them;
* :mod:`.stack` — every alarm of a synthesized stack through every scenario.

Pure: no AWS, no Pulumi runtime, no clock.
"""
