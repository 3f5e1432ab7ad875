"""The workspace service's run queue: a REST submit records its run as Queued and answers;
the service starts at most `service_runs` runners at once, oldest run first; a queued run
can be canceled without starting; a restarted service takes over what a killed one queued,
on the same port; a queued run whose service is gone ends with the reason."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests

from runner.client import Client, SubmitOptions
from runner.engine.liveness import QUEUE_LOST, reconcile_active_runs
from runner.executors.processes import process_alive
from runner.sdk import Pipeline, PythonScriptStep
from runner.sdk.authentication import InteractiveLoginAuthentication
from runner.service.dispatch import RunDispatcher, runner_slots
from runner.service.serve import _listen
from runner.service_control import ensure_service, running_service, stop_service
from store import catalog
from store.run_queue import CANCELED_IN_QUEUE
from store.runs import get_pipeline_run, get_step_runs
from store.settings import SettingsError, write_setting
from tests.conftest import REPO, amlocal, wait_until

BLOCKING_STEP = """\
import os, time
while not os.path.exists({flag!r}):
    time.sleep(0.05)
print("released")
"""


@pytest.fixture(autouse=True)
def _release_at_the_end(tmp_path):
    """Whatever a test asserted, its blocked steps are released when it ends."""
    yield
    (tmp_path / "release").write_text("go")


def _publish_blocking(workspace, write, tmp_path, slots: int = 1):
    """A published one-step pipeline whose step waits for a flag file; the service has
    `slots` runner slots. Returns (endpoint URL, auth header, flag path)."""
    write_setting(workspace._local.layout, "service_runs", str(slots))
    flag = tmp_path / "release"
    write("steps/block.py", BLOCKING_STEP.format(flag=str(flag)))
    step = PythonScriptStep("block.py", name="block", source_directory=str(tmp_path / "steps"),
                            allow_reuse=False)
    published = Pipeline(workspace, [step]).publish("blocking")
    return published.endpoint, InteractiveLoginAuthentication().get_authentication_header(), flag


def _post(url: str, headers: dict, experiment: str = "q") -> dict:
    response = requests.post(url, headers=headers, json={"ExperimentName": experiment})
    assert response.status_code == 200, response.text
    return response.json()


def _status(workspace, run_id: str) -> str:
    return get_pipeline_run(workspace._local.conn, run_id).status


def _step_started(workspace, run_id: str) -> bool:
    return any(s.start_time is not None for s in get_step_runs(workspace._local.conn, run_id))


def test_a_submit_answers_queued_and_the_service_runs_one_at_a_time(workspace, write, tmp_path):
    url, headers, flag = _publish_blocking(workspace, write, tmp_path, slots=1)
    answers = [_post(url, headers) for _ in range(3)]
    assert [a["Status"]["StatusCode"] for a in answers] == ["Queued", "Queued", "Queued"]
    first, second, third = (a["Id"] for a in answers)
    wait_until(lambda: _step_started(workspace, first))
    time.sleep(1.5)  # time for the dispatcher to start them, were it to
    assert (_status(workspace, first), _status(workspace, second), _status(workspace, third)) \
        == ("Running", "Queued", "Queued")
    assert not _step_started(workspace, second) and not _step_started(workspace, third)
    flag.write_text("go")
    wait_until(lambda: _status(workspace, third) == "Finished")
    runs = [get_pipeline_run(workspace._local.conn, r) for r in (first, second, third)]
    assert [r.status for r in runs] == ["Finished", "Finished", "Finished"]
    assert runs[0].start_time < runs[1].start_time < runs[2].start_time  # oldest first
    assert runs[0].end_time <= runs[1].start_time  # one slot: the second waited for the first


def test_a_queued_run_is_canceled_without_starting_and_the_service_lives(workspace, write,
                                                                         tmp_path):
    url, headers, flag = _publish_blocking(workspace, write, tmp_path, slots=1)
    first, second = _post(url, headers)["Id"], _post(url, headers)["Id"]
    wait_until(lambda: _step_started(workspace, first))
    service = running_service(workspace._local.layout)
    said = Client(workspace._local).cancel(second)
    assert said == f"run {second} canceled before it started"
    run = get_pipeline_run(workspace._local.conn, second)
    assert (run.status, run.error) == ("Canceled", CANCELED_IN_QUEUE)
    assert [s.status for s in get_step_runs(workspace._local.conn, second)] == ["Canceled"]
    assert running_service(workspace._local.layout) == service  # never signalled
    flag.write_text("go")
    wait_until(lambda: _status(workspace, first) == "Finished")
    time.sleep(1.5)  # a dispatcher round after the slot freed: the canceled run stays put
    assert _status(workspace, second) == "Canceled" and not _step_started(workspace, second)


def test_a_restarted_service_takes_over_the_queue_on_the_same_port(workspace, write, tmp_path):
    url, headers, flag = _publish_blocking(workspace, write, tmp_path, slots=1)
    first, second = _post(url, headers)["Id"], _post(url, headers)["Id"]
    wait_until(lambda: _step_started(workspace, first))
    killed = running_service(workspace._local.layout)
    os.kill(killed.pid, signal.SIGKILL)
    wait_until(lambda: not process_alive(killed.pid, None))  # its lock may outlive it a moment
    again = ensure_service(workspace._local.layout, quiet=True)
    assert again.pid != killed.pid and again.port == killed.port  # saved URLs keep working
    assert _status(workspace, second) == "Queued"
    flag.write_text("go")
    wait_until(lambda: _status(workspace, second) == "Finished")
    assert _status(workspace, first) == "Finished"  # its runner never depended on the service
    third = _post(url, headers)["Id"]  # the URL from before the restart
    wait_until(lambda: _status(workspace, third) == "Finished")


def test_a_queued_run_whose_service_stopped_ends_with_the_reason(workspace, write, tmp_path):
    url, headers, flag = _publish_blocking(workspace, write, tmp_path, slots=1)
    first, second = _post(url, headers)["Id"], _post(url, headers)["Id"]
    wait_until(lambda: _step_started(workspace, first))
    stop_service(workspace._local.layout)
    assert _status(workspace, second) == "Queued"
    assert reconcile_active_runs(workspace._local.conn, workspace._local.layout) == 1
    run = get_pipeline_run(workspace._local.conn, second)
    assert (run.status, run.error) == ("Failed", QUEUE_LOST)
    assert _status(workspace, first) == "Running"  # its runner lives on
    flag.write_text("go")
    wait_until(lambda: _status(workspace, first) == "Finished")


def _queued_run(workspace, write, tmp_path, owner: tuple[int, float]) -> str:
    write("steps/s.py", "print('hi')\n")
    step = PythonScriptStep("s.py", name="s", source_directory=str(tmp_path / "steps"))
    spec = Pipeline(workspace, [step]).graph
    return Client(workspace._local).enqueue(
        spec, SubmitOptions(experiment_name="q", pipeline_name="p"), owner).run_id


def test_a_runner_that_exits_before_claiming_its_run_fails_it_with_the_reason(workspace, write,
                                                                            tmp_path):
    dispatcher = RunDispatcher(workspace._local.layout, slots=1)  # not started: driven by hand
    run_id = _queued_run(workspace, write, tmp_path, dispatcher.owner)
    assert _status(workspace, run_id) == "Queued"
    dispatcher._runner_exited(run_id, 3)
    dispatcher._settle_exited(workspace._local)
    dispatcher.stop()
    run = get_pipeline_run(workspace._local.conn, run_id)
    assert run.status == "Failed"
    assert run.error == (f"its runner exited (status 3) before it started the run; see "
                         f"{workspace._local.layout.runner_log(run_id)}")
    assert [s.status for s in get_step_runs(workspace._local.conn, run_id)] == ["Failed"]


def test_a_runner_started_for_a_run_canceled_in_the_queue_does_nothing(workspace, write, tmp_path):
    me = psutil.Process()
    run_id = _queued_run(workspace, write, tmp_path, (me.pid, me.create_time()))
    assert Client(workspace._local).cancel(run_id) == f"run {run_id} canceled before it started"
    done = subprocess.run([sys.executable, "-m", "runner.engine.runner_process",
                           str(workspace._local.layout.root), run_id], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    run = get_pipeline_run(workspace._local.conn, run_id)
    assert (run.status, run.error, run.runner_pid) == ("Canceled", CANCELED_IN_QUEUE, me.pid)
    assert not _step_started(workspace, run_id)


def test_a_runner_claims_a_queued_run_and_records_what_its_submit_left(workspace, write,
                                                                       tmp_path):
    me = psutil.Process()
    run_id = _queued_run(workspace, write, tmp_path, (me.pid, me.create_time()))
    done = subprocess.run([sys.executable, "-m", "runner.engine.runner_process",
                           str(workspace._local.layout.root), run_id], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    run = get_pipeline_run(workspace._local.conn, run_id)
    assert run.status == "Finished" and run.runner_pid not in (None, me.pid)
    step = get_step_runs(workspace._local.conn, run_id)[0]
    assert (step.decision, type(step.fingerprint)) == ("run", str)


def test_service_runs_is_a_positive_number(workspace, tmp_path):
    layout = workspace._local.layout
    assert runner_slots(layout) == max(1, os.cpu_count() or 1)
    write_setting(layout, "service_runs", "3")
    assert runner_slots(layout) == 3
    try:
        write_setting(layout, "service_runs", "0")
    except SettingsError as exc:
        assert str(exc) == "setting service_runs is a number of runs (1 or more), not '0'"
    else:
        raise AssertionError("0 was taken")
    env = {"AMLOCAL_HOME": str(layout.root)}
    bad = amlocal("config", "service_runs", "many", cwd=tmp_path, env=env)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == ("amlocal: error: setting service_runs is a number of runs (1 or more), "
                          "not 'many'\n")


def test_the_service_socket_is_tcp_so_answers_are_not_delayed():
    sock = _listen("127.0.0.1", 0)
    try:  # asyncio sets TCP_NODELAY only on connections of an IPPROTO_TCP socket
        assert (sock.family, sock.type, sock.proto) == (socket.AF_INET, socket.SOCK_STREAM,
                                                        socket.IPPROTO_TCP)
    finally:
        sock.close()


def test_a_request_that_fails_inside_is_500_and_the_service_answers_on(workspace, write,
                                                                      tmp_path):
    url, headers, flag = _publish_blocking(workspace, write, tmp_path, slots=1)
    flag.write_text("go")
    published = catalog.list_published_pipelines(workspace._local.conn, True)[0]
    workspace._local.conn.execute("UPDATE pipeline SET spec_json = '{\"steps\": [{}]}' "
                                  "WHERE id = ?", (published.pipeline_id,))
    workspace._local.conn.commit()
    broken = requests.post(url, headers=headers, json={"ExperimentName": "x"})
    assert broken.status_code == 500
    error = broken.json()["error"]
    assert (error["code"], error["innerError"]["code"]) == ("SystemError", "InternalError")
    assert error["message"] == "SpecError: the stored pipeline spec is damaged (KeyError: 'node_id')"
    assert requests.get(url.split("/pipelines/")[0] + "/docs").status_code == 200


def test_a_service_whose_last_port_is_taken_says_so_and_takes_another(workspace, write, tmp_path):
    layout = workspace._local.layout
    first = ensure_service(layout, quiet=True)
    stop_service(layout)
    holder = _listen("127.0.0.1", first.port)  # another program took the port meanwhile
    try:
        again = ensure_service(layout, quiet=True)
        assert again.port != first.port
        log = (layout.root / "private" / "service.log").read_text()
        assert (f"amlocal: the service's last port {first.port} is taken (cannot listen on "
                f"127.0.0.1:{first.port}: Address already in use); listening on another one, so "
                "endpoint URLs saved before no longer work") in log
    finally:
        holder.close()
    stop_service(layout)
    assert ensure_service(layout, quiet=True).port == again.port  # the new one is kept


def test_the_service_starts_runners_at_a_lower_priority_their_session_group_too():
    from runner.engine.runner_process import lower_priority
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             start_new_session=True)  # as a runner is started
    try:
        lower_priority(child.pid, 10)
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == 10
        group = f"/proc/{child.pid}/autogroup"
        if os.path.exists(group):  # autogroup scheduling: nice counts only inside the group
            with open(group) as text:
                assert text.read().split()[-2:] == ["nice", "10"]
    finally:
        child.kill()
        child.wait()
    lower_priority(child.pid, 10)  # gone: nothing to lower, and no error
