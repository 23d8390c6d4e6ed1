"""steadystate's HTTP service: the sample app the platform deploys, probes and load-tests.

Modules, one purpose each:

- ``settings``: every environment variable, parsed and validated once at start-up.
- ``logs``: JSON log lines on stdout.
- ``dependencies``: the things a service depends on (TCP, HTTP, Postgres) and how to check one.
- ``readiness``: the ``/ready`` report over the configured dependencies.
- ``faults``: the latency / error-rate switches for demos and chaos experiments.
- ``routes``: the endpoint handlers.
- ``asgi``: the ASGI application (routing, 404/405, error handling).
- ``server``: the production entry point (Granian), ``python -m steadystate_app.server``.
- ``healthcheck``: the container health check, ``python -m steadystate_app.healthcheck``.
- ``cloudwatch`` and ``prober``: the connectivity prober sidecar,
  ``python -m steadystate_app.prober``.
"""
