# Resilience report: worst-case recovery times of STACK next to the source documents' setups.
.PHONY: resilience

resilience: $(VENV)/.installed  ## worst-case recovery times of STACK vs the source documents' setups (exit 1: a prod target is missed)
	$(PY) -m ops.resilience.report --stack $(STACK) $(ARGS)
