"""Run CPython's cyclic garbage collector less often in the command-line tools.

The tools import pulumi-aws's generated modules and run the program under the SDK: hundreds of
thousands of objects (classes, functions, typing aliases) that stay alive until the process exits.
With CPython's default thresholds (700, 10, 10) the collector walks them again and again while
they are created: on ``make check STACK=prod`` about 0.6 s of 2.9 s, for no garbage found (peak
memory is the same either way). mypy tunes its collector the same way for the same reason
(``python/mypy``, ``mypy/build.py``: "Run gc less frequently, as otherwise we can spend a large
fraction of cpu in gc", ``gc.set_threshold(200 * 1000, 30, 30)``).

Only a tool's own process does this (its ``__main__``), never an import: the test suite and any
program importing these modules keep the interpreter's defaults. Cycles are still collected,
only less often.
"""

from __future__ import annotations

import gc
import platform

THRESHOLDS = (200_000, 30, 30)


def tune_gc() -> None:
    """Collect less often (CPython only; other interpreters have other collectors)."""
    if platform.python_implementation() == "CPython":
        gc.set_threshold(*THRESHOLDS)
