"""Executors run one step invocation each: local processes (`local.py`), or Docker containers
(`docker.py`), behind the interface in `base.py`; `registry.make_executor` makes one by name.

This package's own module imports nothing, so that importing `runner.executors.processes`
(what finding lost runs needs) stays light.
"""
