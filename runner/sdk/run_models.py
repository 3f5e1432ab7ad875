"""`run.register_model(...)` on a finished run in a script: a model from the files the run
kept (`outputs/model.pkl`, or a folder of them), registered as made by that run."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from runner.step_runtime.exceptions import WebserviceException
from runner.step_runtime.model import Model, check_model_name


def register_run_model(run: Any, pipeline_run_id: str, model_name: str,
                       model_path: str | None, **fields: Any) -> Model:
    """Register the artifact `model_path` (a file, or a prefix naming a folder) of `run`."""
    check_model_name(model_name)
    path = (model_path or model_name).strip("/")
    kept = run._artifacts()
    chosen = {name: full for name, full in kept.items()
              if name == path or name.startswith(path + "/")}
    if not chosen:
        raise WebserviceException(f"Could not locate the provided model_path {path} in the set "
                                  f"of files uploaded to the run: {sorted(kept)}")
    workspace = run.experiment.workspace
    with tempfile.TemporaryDirectory(prefix="amlocal-model-") as tmp:
        root = Path(tmp) / Path(path).name
        for name, full in chosen.items():
            target = root if name == path else root / name[len(path) + 1:]
            target.parent.mkdir(parents=True, exist_ok=True)
            run._copy_kept(full, target)
        tags = {str(k): str(v) for k, v in (fields.get("tags") or {}).items()}
        properties = {str(k): str(v) for k, v in (fields.get("properties") or {}).items()}
        asset = workspace._registry().register_model(
            model_name, str(root),
            {"tags": tags, "properties": properties, "description": fields.get("description"),
             "framework": fields.get("model_framework") or Model.Framework.CUSTOM,
             "framework_version": fields.get("model_framework_version"), "datasets": []},
            made_by=(run.id, pipeline_run_id))
    return Model(workspace, _asset=asset)


__all__ = ["register_run_model"]
