"""Policy tests: the pack is imported as ``policy.guardrails`` from the project root, and the
helpers beside this file (``policy_harness``) are importable under pytest's importlib mode."""

import sys
from pathlib import Path

for path in (Path(__file__).resolve().parents[2], Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
