"""Writing a pipeline's definition to a file, for the SDK's `save(path)` methods
(`PipelineRun.save`, `PublishedPipeline.save`, `PipelineDraft.save`)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from runner.step_runtime.exceptions import UserErrorException


def save_spec(spec: dict, path: str | None, file_name: str) -> str:
    """Write `spec` to `path`, or to `<path>/<file_name>` when `path` is a folder (default: the
    current one). amlocal writes its PipelineSpec as JSON, which YAML readers accept, not the
    SDK's pipeline YAML schema. Returns the file written."""
    target = Path(path or os.getcwd())
    if target.is_dir():
        target = target / file_name
    if not target.parent.is_dir():
        raise UserErrorException(f"{target.parent} is not a folder")
    target.write_text(json.dumps(spec, indent=2) + "\n")
    return str(target)
