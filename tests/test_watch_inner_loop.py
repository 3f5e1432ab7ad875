"""Watch mode as a user meets it on day one: a run that fails (the first one too) never ends
watching; a script that uploads its data each time it is evaluated makes exactly one run per
save; a temporary file an editor or `sed -i` leaves for an instant is not reported."""
from __future__ import annotations

import os
import time

import pytest

from tests.conftest import REPO
from tests.test_reuse import TRAIN, project  # noqa: F401  (the fixture)
from tests.test_watch import Watcher

UPLOADING = """
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from azureml.core import Experiment, Workspace
    from test_reuse import build
    ws = Workspace.from_config()
    # as many notebooks do: the data goes up again every time the script runs
    ws.get_default_datastore().upload({data!r}, "raw", overwrite=True, show_progress=False)
    Experiment(ws, "watched").submit(build(ws, Path({root!r}))).wait_for_completion(show_output=False)
"""


@pytest.fixture
def uploading(project, workspace, write):  # noqa: F811
    write("pipeline.py", UPLOADING.format(tests=str(REPO / "tests"), root=str(project),
                                          data=str(project / "data" / "raw")))
    yield project


def test_saving_a_script_that_uploads_its_data_makes_exactly_one_run(uploading, workspace):
    watcher = Watcher(uploading, workspace)
    try:
        watcher.wait_runs(1)
        script = uploading / "pipeline.py"
        script.write_text(script.read_text() + "\n# a comment\n")
        watcher.wait_for("pipeline.py changed → evaluating the pipeline again")
        watcher.wait_runs(2)
        time.sleep(1.5)  # what the evaluation uploaded would have come in by now
        assert len(watcher.runs()) == 2, "\n".join(watcher.lines)
        assert not any("b.txt changed" in line or "amlocal-upload" in line for line in watcher.lines)
    finally:
        watcher.stop()


def test_a_first_run_that_fails_keeps_watching_and_the_fix_reruns(project, workspace, write):  # noqa: F811
    from tests.test_watch import SCRIPT
    write("pipeline.py", SCRIPT.format(tests=str(REPO / "tests"), root=str(project)))
    train = project / "train" / "train.py"
    train.write_text(train.read_text() + "\nraise SystemExit('bad model')\n")
    watcher = Watcher(project, workspace)
    try:
        assert watcher.wait_runs(1)[0].status == "Failed"
        watcher.wait_for("amlocal watch: train failed; fix and save (watching goes on)")
        import textwrap
        train.write_text(textwrap.dedent(TRAIN))
        watcher.wait_for("train.py changed → train, report rerun")
        assert watcher.wait_runs(2)[0].status == "Finished"
        assert watcher.proc.poll() is None
    finally:
        assert watcher.stop() == 0


def test_a_temporary_file_that_is_gone_is_not_reported(project, workspace, write):  # noqa: F811
    from tests.test_watch import SCRIPT
    write("pipeline.py", SCRIPT.format(tests=str(REPO / "tests"), root=str(project)))
    watcher = Watcher(project, workspace)
    try:
        watcher.wait_runs(1)
        train = project / "train" / "train.py"
        temp = project / "train" / "sedAb12Cd"  # what `sed -i` writes, then renames over the file
        temp.write_text(train.read_text() + "# edited\n")
        os.replace(temp, train)
        line = watcher.wait_for("changed → ")
        assert line == "amlocal watch: train.py changed → train, report rerun"
        watcher.wait_runs(2)
    finally:
        watcher.stop()
