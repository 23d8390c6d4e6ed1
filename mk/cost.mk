# What a stack costs (ops/cost/): list prices applied to the resources it synthesizes, offline.
.PHONY: cost

cost: $(VENV)/.installed  ## monthly cost of STACK at min and max capacity, from ops/cost/prices.json [ARGS=--json|--detail]
	$(PY) -m ops.cost --stack $(STACK) $(ARGS)
