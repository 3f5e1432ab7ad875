"""Errors name the user's frame: a module the pipeline script imports is named with its line,
and `amlocal run --traceback` prints the user's traceback without amlocal's frames."""
from __future__ import annotations

from tests.conftest import amlocal

HELPER = """\
from azureml.pipeline.core import PipelineData


def make_output():
    return PipelineData("not a valid name")
"""
SCRIPT = """\
from azureml.core import Workspace
from helpers.outputs import make_output

ws = Workspace.from_config()
make_output()
"""


def _project(write):
    write("project/helpers/__init__.py", "")
    write("project/helpers/outputs.py", HELPER)
    return write("project/pipeline.py", SCRIPT)


def test_an_error_in_an_imported_module_names_that_file_and_line(tmp_path, write):
    script = _project(write)
    done = amlocal("run", str(script), cwd=tmp_path, env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 1
    error = [line for line in done.stderr.splitlines() if line.startswith("amlocal: error:")]
    assert error == ["amlocal: error: helpers/outputs.py:5: ValueError: PipelineData name: "
                     "[not a valid name] is not a valid, it must only contain letters, digits and '_'"]
    assert "Traceback" not in done.stderr


def test_traceback_shows_the_users_frames_only(tmp_path, write):
    script = _project(write)
    done = amlocal("run", "--traceback", str(script), cwd=tmp_path,
                   env={"AMLOCAL_HOME": str(tmp_path / ".amlocal")})
    assert done.returncode == 1
    start = done.stderr.index("Traceback (most recent call last):")
    assert done.stderr[start:].splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{script}", line 5, in <module>',
        "    make_output()",
        f'  File "{script.parent / "helpers" / "outputs.py"}", line 5, in make_output',
        '    return PipelineData("not a valid name")',
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "ValueError: PipelineData name: [not a valid name] is not a valid, it must only contain "
        "letters, digits and '_'",
        "amlocal: error: helpers/outputs.py:5: ValueError: PipelineData name: [not a valid name] "
        "is not a valid, it must only contain letters, digits and '_'",
    ]
