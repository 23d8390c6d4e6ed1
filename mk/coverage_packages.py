"""Per-package coverage of the last `make test`: statements, missed, percent, one line each.

Reads the combined `.coverage` data file; a package is the first directory under the project
(`app/steadystate_app` counts as `app`).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for filename in cov.get_data().measured_files():
        path = Path(filename)
        try:
            relative = path.relative_to(ROOT)
        except ValueError:
            continue
        if len(relative.parts) < 2:
            continue
        _, statements, _, missing, _ = cov.analysis2(filename)
        package = totals[relative.parts[0]]
        package[0] += len(statements)
        package[1] += len(missing)
    if not totals:
        print("no coverage data: run `make test` first", file=sys.stderr)
        return 1
    print(f"{'package':<12} {'stmts':>7} {'miss':>6} {'cover':>6}")
    all_statements = all_missing = 0
    for name, (statements, missing) in sorted(totals.items()):
        all_statements += statements
        all_missing += missing
        print(f"{name:<12} {statements:>7} {missing:>6} {percent(statements, missing):>6}")
    print(
        f"{'TOTAL':<12} {all_statements:>7} {all_missing:>6} {percent(all_statements, all_missing):>6}"
    )
    return 0


def percent(statements: int, missing: int) -> str:
    return f"{100 * (statements - missing) / statements:.1f}%" if statements else "-"


if __name__ == "__main__":
    sys.exit(main())
