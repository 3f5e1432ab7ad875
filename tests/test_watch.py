"""Watch mode with real files and real processes: what a save reruns, and what it does not."""
from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from store.runs import get_step_runs, list_pipeline_runs
from tests.conftest import AMLOCAL, REPO
from tests.test_reuse import TRAIN, project  # noqa: F401  (the fixture)

SCRIPT = """
    import sys
    sys.path.insert(0, {tests!r})
    from pathlib import Path
    from azureml.core import Experiment, Workspace
    from test_reuse import build
    ws = Workspace.from_config()
    Experiment(ws, "watched").submit(build(ws, Path({root!r}))).wait_for_completion(show_output=False)
"""


class Watcher:
    """`amlocal run --watch` in a subprocess, its output collected line by line."""

    def __init__(self, root, workspace, *extra: str) -> None:
        self.workspace = workspace
        self.lines: list[str] = []
        env = {**os.environ, "PYTHONPATH": str(REPO), "AMLOCAL_EXECUTOR": "local",
               "AMLOCAL_HOME": str(workspace._local.layout.root)}
        self.proc = subprocess.Popen([*AMLOCAL, "run", "--watch", *extra, str(root / "pipeline.py")],
                                     cwd=root, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait_for("amlocal watch: watching")

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"never printed {text!r}:\n" + "\n".join(self.lines))

    def runs(self) -> list:
        return list_pipeline_runs(self.workspace._local.conn)

    def wait_runs(self, count: int, finished: bool = True, timeout: float = 60.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs()
            if len(runs) >= count and (not finished or runs[0].status in ("Finished", "Failed", "Canceled")):
                return runs
            time.sleep(0.05)
        raise AssertionError(f"expected {count} runs:\n" + "\n".join(self.lines))

    def decisions(self, run_id: str) -> dict[str, str]:
        return {s.name: s.decision for s in get_step_runs(self.workspace._local.conn, run_id)}

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(30)
        self.reader.join(10)  # every line it printed has been read
        return code


@pytest.fixture
def watched(project, workspace, write):  # noqa: F811
    write("pipeline.py", SCRIPT.format(tests=str(REPO / "tests"), root=str(project)))
    watcher = Watcher(project, workspace)
    yield watcher
    if watcher.proc.poll() is None:
        watcher.proc.kill()


def _save(path, text) -> None:
    path.write_text(textwrap.dedent(text))


def test_editing_a_steps_script_reruns_it_and_its_descendants_only(watched, project):
    assert len(watched.wait_runs(1)) == 1
    _save(project / "train" / "train.py", TRAIN.replace('f"{rows} {lr} {epochs}"', 'f"{rows}:{lr}:{epochs}"'))
    watched.wait_for("train.py changed → train, report rerun")
    latest = watched.wait_runs(2)[0]
    assert latest.status == "Finished"
    assert watched.decisions(latest.id) == {"prep": "reused", "train": "run", "report": "run"}
    assert watched.stop() == 0


def test_ignored_files_and_written_outputs_trigger_nothing(watched, project, workspace):
    first = watched.wait_runs(1)[0]
    (project / "prep" / "notes.md").write_text("matched by .amlignore\n")
    (project / "prep" / "notes.md.swp").write_text("editor swap file\n")
    prep = get_step_runs(workspace._local.conn, first.id)[0]
    folder = next(iter(prep.outputs.values())).local_path
    Path(folder, "extra.txt").write_text("written into a step's output")
    time.sleep(1.5)
    assert len(watched.runs()) == 1
    assert not any("changed" in line for line in watched.lines)


def test_ten_saves_within_100_ms_make_one_rerun(watched, project):
    watched.wait_runs(1)
    started = time.monotonic()
    for i in range(10):  # as an editor's autosave or a formatter does, about 10 ms apart
        (project / "train" / "train.py").write_text(textwrap.dedent(TRAIN) + f"# save {i}\n")
        time.sleep(0.008)
    assert time.monotonic() - started < 0.15  # ten saves spread over about 100 ms
    watched.wait_runs(2)
    time.sleep(1.0)
    assert len(watched.runs()) == 2, "\n".join(watched.lines)
    assert sum(line.startswith("amlocal watch: train.py changed") for line in watched.lines) == 1


def test_a_broken_pipeline_script_is_reported_and_the_fix_reruns(watched, project):
    watched.wait_runs(1)
    script = project / "pipeline.py"
    good = script.read_text()
    script.write_text(good + "\ndef broken(:\n")
    watched.wait_for("SyntaxError")
    watched.wait_for("watching goes on")
    assert len(watched.runs()) == 1
    script.write_text(good + "\n# fixed\n")
    watched.wait_for("pipeline.py changed → evaluating the pipeline again")
    runs = watched.wait_runs(2)
    assert runs[0].status == "Finished"


def test_a_datastore_input_edit_reruns_the_step_that_reads_it(watched, workspace):
    watched.wait_runs(1)
    raw = workspace._local.layout.datastore_dir("workspaceblobstore") / "raw" / "b.txt"
    raw.write_text("three four five\n")
    watched.wait_for("b.txt changed → prep, train, report rerun")
    latest = watched.wait_runs(2)[0]
    assert watched.decisions(latest.id)["prep"] == "run"


def test_an_edit_during_a_run_cancels_it_and_starts_a_new_one(watched, project):
    watched.wait_runs(1)
    slow = textwrap.dedent(TRAIN).replace("import os, sys", "import os, sys, time\ntime.sleep(60)")
    _save(project / "train" / "train.py", slow)
    watched.wait_for("train.py changed")
    deadline = time.monotonic() + 30

    def slow_train_running() -> bool:  # its process started, from a snapshot of the slow script
        runs = watched.runs()
        steps = {s.name: s for s in get_step_runs(watched.workspace._local.conn, runs[0].id)}
        return len(runs) == 2 and "train" in steps and steps["train"].status == "Running"
    while not slow_train_running():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _save(project / "train" / "train.py", textwrap.dedent(TRAIN) + "# quick again\n")
    watched.wait_for("canceling run")
    runs = watched.wait_runs(3)
    assert [r.status for r in runs] == ["Finished", "Canceled", "Finished"]


def test_ctrl_c_stops_watching_and_leaves_nothing_running(watched, project):
    watched.wait_runs(1)
    slow = textwrap.dedent(TRAIN).replace("import os, sys", "import os, sys, time\ntime.sleep(60)")
    _save(project / "train" / "train.py", slow)
    deadline = time.monotonic() + 30
    while not (len(watched.runs()) == 2 and watched.runs()[0].status == "Running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    steps = get_step_runs(watched.workspace._local.conn, watched.runs()[0].id)
    deadline = time.monotonic() + 30
    while not any(s.status == "Running" and s.process_id for s in steps):
        assert time.monotonic() < deadline
        time.sleep(0.05)
        steps = get_step_runs(watched.workspace._local.conn, watched.runs()[0].id)
    pid = next(s.process_id for s in steps if s.status == "Running")
    assert watched.stop() == 0
    assert "amlocal watch: stopped" in watched.lines
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert watched.runs()[0].status == "Canceled"


def test_manual_mode_waits_for_enter_and_p_pauses(project, workspace, write):  # noqa: F811
    write("pipeline.py", SCRIPT.format(tests=str(REPO / "tests"), root=str(project)))
    watcher = Watcher(project, workspace, "--manual")
    try:
        watcher.wait_runs(1)
        _save(project / "train" / "train.py", textwrap.dedent(TRAIN) + "# manual\n")
        watcher.wait_for("train.py changed; press Enter to rerun")
        time.sleep(0.5)
        assert len(watcher.runs()) == 1  # only marked dirty
        watcher.proc.stdin.write("\n")
        watcher.proc.stdin.flush()
        watcher.wait_runs(2)
        watcher.proc.stdin.write("p\n")
        watcher.proc.stdin.flush()
        watcher.wait_for("watch paused")
        _save(project / "train" / "train.py", textwrap.dedent(TRAIN) + "# while paused\n")
        time.sleep(0.5)
        watcher.proc.stdin.write("\n")
        watcher.proc.stdin.flush()
        time.sleep(0.5)
        assert len(watcher.runs()) == 2  # paused: the save was not even marked
        assert watcher.stop() == 0
    finally:
        if watcher.proc.poll() is None:
            watcher.proc.kill()
