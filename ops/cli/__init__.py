"""What every steadystate command shares: the `--stack` and `--json` options and how they behave."""
