"""Why a chaos run could not start, each with its exit code (the table is in ``chaos/run.py``).

A run that stops on one of these is recorded as aborted: nothing was injected, nothing proven.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOT_STEADY = 1
EXIT_USAGE = 2
EXIT_METRIC = 3
EXIT_BAD_EXPERIMENT = 4
EXIT_NO_CREDENTIALS = 5
EXIT_STACK_UNREACHABLE = 6
EXIT_WRONG_STACK = 7


class RunRefused(Exception):
    """The run cannot start; ``code`` is the exit code, ``kind`` names the reason in the journal."""

    code = EXIT_USAGE
    kind = "usage"


class UsageError(RunRefused):
    """Flags or ``--var`` values that do not fit (an unknown service key, no failover time)."""


class BadExperiment(RunRefused):
    """No such experiment, an invalid file, or an activity whose module or function does not
    exist or whose arguments do not fit."""

    code = EXIT_BAD_EXPERIMENT
    kind = "bad-experiment"


class NoCredentials(RunRefused):
    """No AWS credentials or no region, or AWS refused the credentials."""

    code = EXIT_NO_CREDENTIALS
    kind = "no-credentials"


class StackUnreachable(RunRefused):
    """The stack's outputs cannot be read (no pulumi CLI, no such stack, Automation API failure,
    outputs missing) or its cluster does not exist."""

    code = EXIT_STACK_UNREACHABLE
    kind = "stack-unreachable"


class WrongStack(RunRefused):
    """``--cluster`` is not the ``--stack``'s cluster (its ``Stack`` tag names another stack)."""

    code = EXIT_WRONG_STACK
    kind = "wrong-stack"
