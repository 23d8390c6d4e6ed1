# Offline gate speed: `make check STACK=prod` against importing the pulumi-aws modules it uses.
.PHONY: bench-check

bench-check: $(VENV)/.installed  ## time `make check STACK=prod` vs loading its pulumi-aws modules (target <= 2.5x) -> build/bench/check_speed.{json,md}
	$(PY) bench/check_speed.py --stack prod $(ARGS)
