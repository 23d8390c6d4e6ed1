# Release pipeline and chaos experiments (ops/release/pipeline.py, chaos/). Both need AWS credentials;
# `release` also needs the pulumi CLI on PATH (`make release-plan` does not).
EXPERIMENT ?= kill-one-task
.PHONY: release release-plan chaos

release: $(VENV)/.installed  ## release STACK one environment at a time: onebox, smoke, bake under load, fleet (needs the pulumi CLI)
	$(PY) -m ops.release.pipeline --stack $(STACK)

release-plan: $(VENV)/.installed  ## validate STACK like `make check` and print what `make release` would do, touching nothing
	$(PY) -m ops.release.pipeline --stack $(STACK) --dry-run

chaos: $(VENV)/.installed  ## run chaos/experiments/EXPERIMENT.json (default kill-one-task) on STACK
	$(PY) -m chaos.run --stack $(STACK) --experiment $(EXPERIMENT)
