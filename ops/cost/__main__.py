"""`python -m ops.cost --stack dev|prod [--json] [--detail]`: what a stack costs a month.

Exit codes: 0 priced; 2 the program failed to synthesize, or the stack is unknown; 4 bad usage or nothing to price it with
(a region or an instance type the price table lacks).
"""

from __future__ import annotations

import sys

if not __package__:  # run by its path: the project's imports below would fail with a traceback
    sys.stderr.write(
        "ops/cost/__main__.py is a module: run `python -m ops.cost` in the project, or `make cost`\n"
    )
    raise SystemExit(2)

import argparse
import json
from collections.abc import Sequence

from ops.cli.options import add_json_option, add_stack_option, refuse_unknown_stack
from ops.cost.estimate import estimate_stack
from ops.cost.price_table import PriceError
from ops.cost.render import render_text, to_json
from ops.synth.stack_config import StackConfigError

EXIT_PROGRAM, EXIT_USAGE = 2, 4


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.cost",
        description="What a stack costs a month, from the resources it synthesizes.",
    )
    add_stack_option(parser)
    add_json_option(parser)
    parser.add_argument("--detail", action="store_true", help="one line a charge")
    args = parser.parse_args(argv)
    if (refused := refuse_unknown_stack("cost", args.stack, sys.stderr)) is not None:
        return refused
    try:
        estimate = estimate_stack(args.stack)
    except (PriceError, StackConfigError) as err:
        print(f"cost: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # the program's own failure; `make check` shows it in full
        print(
            f"cost: the program failed to synthesize: {type(err).__name__}: {err}", file=sys.stderr
        )
        print(f"run `make check STACK={args.stack}` for the full report", file=sys.stderr)
        return EXIT_PROGRAM
    if args.json:
        print(json.dumps(to_json(estimate), indent=2))
    else:
        print(render_text(estimate, detail=args.detail))
    return 0


if __name__ == "__main__":
    from ops.cli.gc_tuning import tune_gc

    tune_gc()  # a run of the tool: its synthesis collects less often
    sys.exit(main())
