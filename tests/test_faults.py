"""Faults a step or the machine can cause, and what the user sees: a metric value the store
could not keep, a database another program holds locked, a killed runner, a damaged
database, escape bytes in step output. None of them loses a run or prints a traceback."""
from __future__ import annotations

import json
import math

from runner.sdk import Experiment, Pipeline, PythonScriptStep

METRICS = """
from azureml.core import Run
run = Run.get_context()
run.log("first", 1)
for name, value in [("big", 2 ** 64), ("neg", -2 ** 64), ("nan", float("nan")),
                    ("inf", float("inf")), ("ninf", float("-inf")), (None, 3), ("obj", object())]:
    try:
        run.log(name, value)
    except Exception as exc:
        print(type(exc).__name__, exc)
run.log("last", 2)
"""


def _run_one(workspace, tmp_path, write, code: str):
    write("steps/s.py", code)
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "faults").submit(Pipeline(workspace, [step]))
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.find_step_run("s")
    return run, step_run, status


def test_metric_values_of_any_size_nan_and_inf_round_trip_and_bad_ones_are_refused_at_the_call(
        workspace, write, tmp_path):
    run, step_run, status = _run_one(workspace, tmp_path, write, METRICS)
    assert status == "Finished"
    assert step_run.get_stdout_log() == (
        "UserErrorException Metric name must be a non-empty string, got None (NoneType)\n"
        "UserErrorException Metric obj: a value of type object cannot be logged; log a number, "
        "a bool or a string\n")
    metrics = step_run.get_metrics()
    assert sorted(metrics) == ["big", "first", "inf", "last", "nan", "neg", "ninf"]
    assert metrics["big"] == 2 ** 64 and type(metrics["big"]) is int
    assert metrics["neg"] == -2 ** 64 and type(metrics["neg"]) is int
    assert math.isnan(metrics["nan"]) and type(metrics["nan"]) is float
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    assert (metrics["first"], metrics["last"]) == (1, 2)


def test_a_raw_event_the_store_cannot_keep_is_skipped_and_the_rest_of_the_batch_kept(workspace, write, tmp_path):
    code = ("import json, os, time\nrid = os.environ['AZUREML_RUN_ID']\n"
            "with open(os.environ['AMLOCAL_EVENTS_FILE'], 'a') as f:\n"
            "    for name, value in [('a', 1), (None, 2), (7, 3), ('b', 4)]:\n"
            "        f.write(json.dumps({'t': time.time(), 'run': rid, 'kind': 'scalar', 'name': name, 'value': value}) + '\\n')\n")
    run, step_run, status = _run_one(workspace, tmp_path, write, code)
    assert status == "Finished"
    assert step_run.get_metrics() == {"a": 1, "b": 4}


CHILDREN = """
import os, subprocess, sys, time
kept = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
if os.fork() == 0:  # a double fork: the grandchild leaves the tree, stays in the group
    if os.fork() == 0:
        time.sleep(300)
    os._exit(0)
escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
time.sleep(0.6)
print(kept.pid, escaped.pid, flush=True)
"""


def test_every_descendant_of_a_local_step_is_stopped_when_it_ends(workspace, write, tmp_path):
    import time

    import psutil
    run, step_run, status = _run_one(workspace, tmp_path, write, CHILDREN)
    assert status == "Finished"
    pids = [int(p) for p in step_run.get_stdout_log().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
        assert time.monotonic() < deadline, "a child of the step still runs after it ended"
        time.sleep(0.05)
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if p.info["cmdline"] and "time.sleep(300)" in " ".join(p.info["cmdline"])
                 and p.info["cmdline"][0] == __import__("sys").executable]
    assert leftovers == []


def test_a_write_lock_held_by_another_program_past_the_busy_timeout_delays_a_writer(workspace):
    import sqlite3
    import threading
    import time

    from store.database import connect
    from store.metrics import insert_metrics, latest_metrics
    path = workspace._local.layout.db_path
    writer = connect(path)
    writer.execute("PRAGMA busy_timeout=100")  # a short timeout: the retry is what is tested
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    assert insert_metrics(writer, [("r", "m", "scalar", 1.5, 0.0)]) == 1
    assert time.monotonic() - started >= 0.9
    assert [(m.name, m.value) for m in latest_metrics(writer, ["r"])] == [("m", 1.5)]
    release.join()


def _cli(workspace, tmp_path, *args):
    from conftest import amlocal
    return amlocal(*args, cwd=tmp_path, env={"AMLOCAL_HOME": str(workspace._local.layout.root)})


def _one_line_error(done, *fragments):
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr


def test_a_database_with_garbage_in_its_middle_pages_gives_one_line_naming_what_to_do(workspace, write, tmp_path):
    from store.metrics import insert_metrics
    run, step_run, status = _run_one(workspace, tmp_path, write, "print('x')\n")
    conn = workspace._local.conn
    insert_metrics(conn, [(step_run.id, f"m{i}", "scalar", float(i), 0.0) for i in range(5000)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = workspace._local.layout.db_path
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(4096 * 2)  # every page but the first two (the header and the schema)
        f.write(b"\xde\xad\xbe\xef" * ((size - 4096 * 2) // 4))
    done = _cli(workspace, tmp_path, "metrics", run.id)
    _one_line_error(done, "is damaged (", "move it away")


def test_a_zero_byte_database_beside_run_folders_and_a_folder_in_its_place_are_one_line_errors(
        workspace, write, tmp_path):
    run, step_run, status = _run_one(workspace, tmp_path, write, "print('x')\n")
    path = workspace._local.layout.db_path
    workspace._local.conn.close()
    for extra in ("-wal", "-shm"):
        (path.parent / (path.name + extra)).unlink(missing_ok=True)
    path.write_bytes(b"")
    done = _cli(workspace, tmp_path, "runs")
    _one_line_error(done, f"{path} is empty (0 bytes) but", "holds runs")
    assert path.stat().st_size == 0  # not silently re-created
    path.unlink()
    path.mkdir()
    done = _cli(workspace, tmp_path, "runs")
    _one_line_error(done, f"{path} is a folder, not the workspace database; move it away")


ESCAPES = """
from azureml.core import Run
print("\\x1b]0;pwned\\x07\\x1b[2Jhello")
Run.get_context().log("m\\x1b[31m", 1)
"""


def test_escape_bytes_from_a_step_are_shown_escaped_by_logs_show_and_metrics(workspace, write, tmp_path):
    run, step_run, status = _run_one(workspace, tmp_path, write, ESCAPES)
    assert status == "Finished"
    logs = _cli(workspace, tmp_path, "logs", run.id, "s")
    assert logs.stdout == "\\x1b]0;pwned\\x07\\x1b[2Jhello\n"
    for command in ("show", "metrics"):
        done = _cli(workspace, tmp_path, command, run.id)
        assert done.returncode == 0
        assert "\x1b" not in done.stdout
        assert "m\\x1b[31m" in done.stdout


SLOW_STEP = """
import time
from azureml.core import Run
run = Run.get_context()
for i in range(1200):
    run.log("tick", i); run.flush(); time.sleep(0.05)
"""


def _wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_cancel_while_another_program_holds_the_write_lock_waits_for_it_and_works(workspace, write, tmp_path):
    """`amlocal cancel` while a database browser holds the write lock: it waits (no
    "database is locked", no traceback), then cancels once the lock is let go."""
    import sqlite3
    import subprocess
    import sys
    import threading
    write("steps/s.py", SLOW_STEP)
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "locked").submit(Pipeline(workspace, [step]))
    _wait_for(lambda: list(run.get_steps()) and next(run.get_steps()).get_metrics().get("tick"),
              "the step never logged")
    holder = sqlite3.connect(workspace._local.layout.db_path, isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    from conftest import AMLOCAL, REPO
    import os
    cancel = subprocess.Popen([*AMLOCAL, "cancel", run.id], cwd=tmp_path, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO), **env})
    release = threading.Timer(12.0, lambda: holder.execute("COMMIT"))  # past the 10 s busy timeout
    release.start()
    out, err = cancel.communicate(timeout=120)
    release.join()
    assert (cancel.returncode, err) == (0, "")
    assert out == f"cancel requested for run {run.id}\n"
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    (step_run,) = run.find_step_run("s")
    assert step_run.get_status() == "Canceled"


HUGE_OUTPUT = """
import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument("--out")
out = parser.parse_args().out
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "huge.bin"), "wb") as f:
    f.truncate(16 * 2**30)  # sparse: 16 GiB to hash, no disk used
"""


def test_hashing_a_huge_output_stops_when_the_run_is_canceled(workspace, write, tmp_path):
    """After the step's process exits its output is hashed (what reuse compares); a cancel
    during that hashing stops it: the step ends Canceled instead of hashing 16 GiB."""
    import psutil

    from runner.sdk import PipelineData
    write("steps/s.py", HUGE_OUTPUT)
    out = PipelineData("out", datastore=workspace.get_default_datastore())
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"),
                            arguments=["--out", out], outputs=[out])
    run = Experiment(workspace, "hash").submit(Pipeline(workspace, [step]))

    def hashing() -> bool:
        steps = list(run.get_steps())
        if not steps:
            return False
        record = steps[0]._record()
        return (record.status == "Running" and record.process_id is not None
                and not psutil.pid_exists(record.process_id))
    _wait_for(hashing, "the step never got to hashing its output")
    run.cancel()
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Canceled"
    (step_run,) = run.find_step_run("s")
    assert step_run.get_status() == "Canceled"
    assert step_run.get_details()["error"] == "canceled by user"
