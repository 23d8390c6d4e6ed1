# Release pipeline and chaos experiments (ops/release/pipeline.py, chaos/). Both need AWS credentials;
# `release` also needs the pulumi CLI on PATH (`make release-plan` does not).
EXPERIMENT ?=
.PHONY: release release-plan chaos

release: $(VENV)/.installed  ## release STACK one environment at a time: onebox, smoke, bake under load, fleet (needs the pulumi CLI)
	$(PY) -m ops.release.pipeline --stack $(STACK) $(ARGS)

release-plan: $(VENV)/.installed  ## validate STACK like `make check` and print what `make release` would do, touching nothing
	$(PY) -m ops.release.pipeline --stack $(STACK) --dry-run $(ARGS)

chaos: $(VENV)/.installed  ## run chaos/experiments/EXPERIMENT.json on STACK (EXPERIMENT is required) [ARGS=--validate|--json|...]
	@test -n "$(EXPERIMENT)" || { echo "make chaos needs EXPERIMENT=<name>, one of: $$(ls chaos/experiments | sed 's/\.json$$//' | tr '\n' ' ')" >&2; exit 2; }
	$(PY) -m chaos.run --stack $(STACK) --experiment $(EXPERIMENT) $(ARGS)
