"""The workspace service: published pipelines over HTTP in Azure ML's REST shape.

`runner.service.app` builds the ASGI app (FastAPI), `runner.service.assignments` turns a
request body into parameter values, `runner.service.serve` runs it under uvicorn with the
workspace's service lock. Start it with `amlocal serve` or `runner.service_control`.
"""
