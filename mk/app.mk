# The app (app/): serve it locally exactly as the image does, test it, benchmark it.
PORT ?= 8080
WORKERS ?= 2
.PHONY: serve app-test bench

serve: $(VENV)/.installed  ## run the app as the image does: python -m steadystate_app.server [PORT=8080] [WORKERS=2]
	PYTHONPATH=app PORT=$(PORT) WORKERS=$(WORKERS) exec $(PY) -m steadystate_app.server

app-test: $(VENV)/.installed  ## the app's tests only (real server, Postgres, moto_server)
	$(PY) -m pytest tests/app $(ARGS)

bench: $(VENV)/.installed  ## app vs the autoscaling tutorial's nginx+uwsgi+Flask under wrk -> build/bench/app.{json,md} (~4 min)
	@command -v wrk >/dev/null && { command -v nginx || test -x /usr/sbin/nginx; } >/dev/null \
		|| { echo "bench needs wrk and nginx: apt-get install wrk nginx-light"; exit 1; }
	$(PY) -m pip install --quiet -r bench/app/requirements.txt
	$(PY) bench/app/run.py $(ARGS)
