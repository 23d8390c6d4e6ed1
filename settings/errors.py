"""The error a bad stack configuration raises: every problem at once, each naming key, value and rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration."""

    key: str
    value: Any
    message: str

    def __str__(self) -> str:
        shown = self.value if isinstance(self.value, str) else json.dumps(self.value)
        return f"{self.key} = {shown}: {self.message}"


class SettingsError(Exception):
    """The stack configuration is invalid; `problems` lists every reason, in key order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):\n{lines}"
        )
