# Chaos records (chaos/report.py): the journals `make chaos` keeps in chaos/journals/STACK/ and the
# stack's AWS FIS history (needs AWS credentials; skipped, and said so, without them).
.PHONY: chaos-report

chaos-report: $(VENV)/.installed  ## report STACK's chaos runs (journals + FIS): table and charts in build/chaos-report/STACK/ [ARGS=--no-fis|--out DIR]
	$(PY) -m chaos.report --stack $(STACK) $(ARGS)
