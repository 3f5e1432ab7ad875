"""`RunDetails(run).show()` where the `azureml-widgets` package is not installed.

In a notebook (an IPython kernel) it displays an HTML table of the run's steps and their
status, and a background thread updates that same output in place until the run ends. In a
script or a plain terminal it prints the steps once, with the `amlocal show` line to follow
the run. It never raises: anything that is not a run gets a one-line note.
"""
from __future__ import annotations

import datetime as dt
import html
import sys
import threading
import time
from typing import Any, Callable

from store import status as st

REFRESH_SECONDS = 1.0


def _seconds(details: dict) -> float | None:
    """How long a step ran (so far), from its details' UTC times."""
    def parse(text: str | None) -> dt.datetime | None:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc) \
            if text else None
    start, end = parse(details.get("startTimeUtc")), parse(details.get("endTimeUtc"))
    if start is None:
        return None
    return ((end or dt.datetime.now(dt.timezone.utc)) - start).total_seconds()


def _step_row(step: Any) -> dict[str, Any]:
    details = step.get_details()
    reused = "azureml.reusedrunid" in (details.get("properties") or {})
    seconds = _seconds(details)
    return {"name": step.name, "status": details["status"],
            "duration": None if seconds is None else round(seconds, 1),
            "note": "reused" if reused else (details.get("error") or "")}


def _notebook_display() -> tuple[Callable[..., Any], type] | None:
    """IPython's (display, HTML) when this code runs in a notebook kernel, else None."""
    ipython = sys.modules.get("IPython")
    try:
        if ipython is None:
            import IPython as ipython  # noqa: N813 - only the kernel's, when there is one
        shell = ipython.get_ipython()
        if shell is None or not hasattr(shell, "kernel"):
            return None
        from IPython.display import HTML, display
        return display, HTML
    except Exception:  # no IPython, or an unusual one: the plain-text form is the answer
        return None


class RunDetails:
    """The steps of a pipeline run (or one step run) with their live status."""

    def __init__(self, run_instance: Any) -> None:
        self._run = run_instance
        self._thread: threading.Thread | None = None

    def _is_run(self) -> bool:
        return hasattr(self._run, "get_status") and hasattr(self._run, "id")

    def get_widget_data(self, widget_settings: dict | None = None) -> dict[str, Any]:
        """What the widget shows: the run's id, type, status and one row per step."""
        run = self._run
        status = run.get_status()  # before the steps: rows read after an end are the final ones
        steps = list(run.get_steps()) if hasattr(run, "get_steps") else \
            [run] if getattr(run, "type", None) == "azureml.StepRun" else []
        rows = [_step_row(s) for s in steps]
        if not rows and hasattr(run, "get_graph"):  # submitted, its runner not started yet
            rows = [{"name": s.name, "status": st.NOT_STARTED, "duration": None, "note": ""}
                    for s in run.get_graph().steps]
        return {"run_id": run.id, "type": getattr(run, "type", None), "status": status,
                "steps": rows}

    def _html(self, data: dict[str, Any]) -> str:
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
                r["name"], r["status"], "" if r["duration"] is None else f"{r['duration']} s",
                r["note"])) + "</tr>" for r in data["steps"])
        return (f"<div class='amlocal-run-details'><p><b>{html.escape(str(data['type']))}</b> "
                f"{html.escape(data['run_id'])}: <b>{html.escape(data['status'])}</b> "
                f"(<code>amlocal show {html.escape(data['run_id'][:8])}</code>)</p>"
                "<table><thead><tr><th>Step</th><th>Status</th><th>Duration</th><th></th></tr>"
                f"</thead><tbody>{rows}</tbody></table></div>")

    def _text(self, data: dict[str, Any]) -> str:
        lines = [f"{data['type']} {data['run_id']}: {data['status']}"]
        if data["steps"]:
            width = max(len(r["name"]) for r in data["steps"])
            for r in data["steps"]:
                duration = "" if r["duration"] is None else f"{r['duration']}s"
                lines.append(f"  {r['name']:<{width}}  {r['status']:<10} {duration:>8}  {r['note']}".rstrip())
        lines.append(f"amlocal show {data['run_id'][:8]}")
        return "\n".join(lines)

    def show(self, render_lib: Any = None, widget_settings: dict | None = None) -> None:
        """Show the run: a live HTML table in a notebook, the steps printed elsewhere."""
        if not self._is_run():
            print(f"RunDetails: {type(self._run).__name__} object is not a run amlocal can show; "
                  "pass a PipelineRun or StepRun")
            return
        try:
            data = self.get_widget_data(widget_settings)
        except Exception as exc:  # a widget never takes the notebook down
            print(f"RunDetails: cannot read run {self._run.id}: {exc}")
            return
        notebook = _notebook_display()
        if notebook is None:
            print(self._text(data), flush=True)
            return
        display, html_class = notebook
        handle = display(html_class(self._html(data)), display_id=True)
        if data["status"] not in st.TERMINAL and handle is not None:
            self._thread = threading.Thread(target=self._refresh, args=(handle, html_class),
                                            name=f"run-details-{self._run.id[:8]}", daemon=True)
            self._thread.start()

    def _refresh(self, handle: Any, html_class: type) -> None:
        """Update the displayed table until the run ends (one last update shows the end)."""
        while True:
            time.sleep(REFRESH_SECONDS)
            try:
                data = self.get_widget_data()
                handle.update(html_class(self._html(data)))
            except Exception:
                return
            if data["status"] in st.TERMINAL:
                return
