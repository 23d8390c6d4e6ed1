# Offline gate speed: `make check STACK=prod` against importing the pulumi-aws modules it uses.
.PHONY: bench-check

bench-check: $(VENV)/.installed  ## time `make check STACK=prod` vs loading the provider modules of its resource classes (target <= 1.5x) -> build/bench/check_speed.{json,md}
	$(PY) bench/check_speed.py --stack prod $(ARGS)

# Would the tests catch a realistic mistake? 24 plants, one at a time, each file restored (~10 min).
.PHONY: mutation-audit
mutation-audit: $(VENV)/.installed  ## plant bench/mutation_audit.py's mistakes one by one -> build/mutation_audit.{json,md}
	$(PY) bench/mutation_audit.py $(ARGS)
