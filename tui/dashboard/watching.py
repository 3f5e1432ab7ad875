"""Watch mode inside the dashboard: one PipelineWatcher per watched pipeline, each in a thread
worker, its events posted to the app as messages."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from runner.watch.watcher import PipelineWatcher
from store.layout import WorkspaceLayout
from store.runs import get_pipeline_run
from store.workspace import open_workspace
from tui.dashboard.messages import WatchEvent


def make_watcher(layout: WorkspaceLayout, pipeline: str, run_id: str,
                 post: Callable[[WatchEvent], object]) -> PipelineWatcher:
    """A watcher of the pipeline that `run_id` ran, reporting through `post(WatchEvent)`."""
    with open_workspace(layout) as local:
        script = get_pipeline_run(local.conn, run_id).script
    return PipelineWatcher(layout, Path(script) if script else None, run_id,
                           say=lambda text: post(WatchEvent(pipeline, text)), progress=None,
                           runs_in_process=False)  # reruns get runner processes of their own
