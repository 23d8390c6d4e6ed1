"""Chaos experiments for steadystate: kill tasks or a container host and check the service survives.

``chaos.probes`` and ``chaos.actions`` are the functions the experiments in ``chaos/experiments/``
call (chaostoolkit ``python`` providers); ``chaos.runner`` runs an experiment through chaostoolkit's
library when it is installed, else through a small built-in runner; ``python -m chaos.run`` is the
command line, which also publishes each run's outcome as a CloudWatch metric.
"""
