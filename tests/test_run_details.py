"""`RunDetails(run).show()` without azureml-widgets: the steps printed in a script, a live
HTML table in a notebook, a one-line note for anything that is not a run."""
from __future__ import annotations

import sys
import threading
import types

import pytest

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from runner.sdk import run_details
from runner.sdk.run_details import RunDetails


def _submit(workspace, write, tmp_path, gate: bool = False):
    write("steps/a.py", "print('a')\n")
    write("steps/b.py", "import os, time\nwhile not os.path.exists(os.environ['GATE']):\n"
                        "    time.sleep(0.05)\n" if gate else "print('b')\n")
    a = PythonScriptStep("a.py", name="first", source_directory=str(tmp_path / "steps"))
    b = PythonScriptStep("b.py", name="second", source_directory=str(tmp_path / "steps"))
    b.run_after(a)
    return Experiment(workspace, "details").submit(Pipeline(workspace, [b]))


def test_in_a_script_the_steps_and_the_show_line_are_printed(workspace, write, tmp_path, capsys):
    run = _submit(workspace, write, tmp_path)
    run.wait_for_completion(show_output=False)
    capsys.readouterr()
    RunDetails(run).show()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"azureml.PipelineRun {run.id}: Finished"
    assert [line.split()[:2] for line in lines[1:3]] == [["first", "Finished"], ["second", "Finished"]]
    assert lines[3] == f"amlocal show {run.id[:8]}"
    data = RunDetails(run).get_widget_data()
    assert (data["status"], [r["name"] for r in data["steps"]]) == ("Finished", ["first", "second"])
    assert isinstance(data["steps"][0]["duration"], float)


def test_anything_but_a_run_gets_a_one_line_note(capsys):
    RunDetails("not a run").show()
    assert capsys.readouterr().out == ("RunDetails: str object is not a run amlocal can show; "
                                       "pass a PipelineRun or StepRun\n")


class _Handle:
    """What IPython's display(..., display_id=True) returns: a handle updated in place."""

    def __init__(self, first: object) -> None:
        self.shown = [first]
        self.done = threading.Event()

    def update(self, obj: object) -> None:
        self.shown.append(obj)
        if ": <b>Finished</b>" in obj.data:  # the run's own status, not a step's
            self.done.set()


@pytest.fixture
def notebook(monkeypatch):
    """A stand-in IPython kernel: get_ipython() has a kernel; display returns a handle."""
    handles: list[_Handle] = []

    class HTML:
        def __init__(self, data: str) -> None:
            self.data = data

    def display(obj: object, display_id: bool = False) -> _Handle:
        assert display_id is True
        handles.append(_Handle(obj))
        return handles[-1]

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    display_module = types.ModuleType("IPython.display")
    display_module.HTML, display_module.display = HTML, display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    monkeypatch.setattr(run_details, "REFRESH_SECONDS", 0.05)
    return handles


def test_in_a_notebook_an_html_table_updates_in_place_until_the_run_ends(
        workspace, write, tmp_path, notebook, monkeypatch, capsys):
    gate = tmp_path / "gate"
    monkeypatch.setenv("GATE", str(gate))
    run = _submit(workspace, write, tmp_path, gate=True)
    capsys.readouterr()
    RunDetails(run).show()
    (handle,) = notebook
    first = handle.shown[0].data
    assert first.startswith("<div class='amlocal-run-details'>") and "<th>Step</th>" in first
    assert f"<code>amlocal show {run.id[:8]}</code>" in first
    gate.write_text("go")
    run.wait_for_completion(show_output=False)
    assert handle.done.wait(10), "the table was not updated to the run's end"
    last = handle.shown[-1].data
    assert "<td>first</td><td>Finished</td>" in last and "<td>second</td><td>Finished</td>" in last
    assert capsys.readouterr().out == ""  # nothing printed: it was displayed
