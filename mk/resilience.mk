# Resilience report (issue 5): worst-case recovery times of STACK next to the seeds' setups.
.PHONY: resilience

resilience: $(VENV)/.installed  ## worst-case recovery times of STACK vs the seeds (exit 1: a prod target is missed)
	$(PY) -m ops.resilience.report --stack $(STACK) $(ARGS)
