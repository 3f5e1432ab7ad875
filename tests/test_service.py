"""The workspace service: a real uvicorn server on 127.0.0.1, real HTTP calls in Azure's
REST shape, the token checked, runs recorded through the client API and finished."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest
import requests

from runner.sdk import Pipeline, PipelineParameter, PublishedPipeline, PythonScriptStep
from runner.sdk.authentication import InteractiveLoginAuthentication
from runner.sdk.runs import PipelineRun
from runner.service.assignments import AssignmentError, convert_value, parameter_values
from runner.service_control import base_url, ensure_service, running_service, stop_service
from runner.spec import ParameterSpec
from store.runs import get_pipeline_run
from store.service_record import read_service_record
from store.workspace_token import workspace_token
from tests.conftest import REPO, amlocal

STEP = """\
import argparse
p = argparse.ArgumentParser(); p.add_argument("--arg"); p.add_argument("--rate")
a = p.parse_args()
print("arg", a.arg, "rate", a.rate)
"""


def _publish(workspace, write, tmp_path) -> PublishedPipeline:
    write("steps/s.py", STEP)
    arg = PipelineParameter("pipeline_arg", default_value=1)
    rate = PipelineParameter("rate", default_value=0.5)
    step = PythonScriptStep("s.py", name="s", arguments=["--arg", arg, "--rate", rate],
                            source_directory=str(tmp_path / "steps"))
    return Pipeline(workspace, [step]).publish("nightly", description="n")


def _wait(workspace, run_id: str) -> str:
    return PipelineRun(_experiment(workspace, run_id), run_id).wait_for_completion(
        show_output=False)


def _experiment(workspace, run_id):
    from runner.sdk import Experiment
    return Experiment(workspace, get_pipeline_run(workspace._local.conn, run_id).experiment_name)


def test_the_seed_snippet_publish_then_post_runs_with_the_parameter(workspace, write, tmp_path,
                                                                    capsys):
    published = _publish(workspace, write, tmp_path)
    assert "started the workspace service on http://127.0.0.1:" in capsys.readouterr().err
    auth_header = InteractiveLoginAuthentication().get_authentication_header()
    response = requests.post(published.endpoint, headers=auth_header,
                             json={"ExperimentName": "rest-exp",
                                   "ParameterAssignments": {"pipeline_arg": 20}})
    assert response.status_code == 200
    body = response.json()
    assert body["PipelineId"] == published.id and body["RunHistoryExperimentName"] == "rest-exp"
    assert body["ParameterAssignments"] == {"pipeline_arg": "20", "rate": "0.5"}
    assert body["Status"]["StatusCode"] in ("NotStarted", "Queued", "Running", "Finished")
    assert _wait(workspace, body["Id"]) == "Finished"
    run = get_pipeline_run(workspace._local.conn, body["Id"])
    assert run.parameters == {"pipeline_arg": 20, "rate": 0.5}
    assert type(run.parameters["pipeline_arg"]) is int
    assert run.published_pipeline_id == published.id
    assert (run.subscription_id, run.workspace_name) == (workspace.subscription_id, "test")
    step = PipelineRun(_experiment(workspace, body["Id"]), body["Id"]).find_step_run("s")[0]
    assert "arg 20 rate 0.5\n" in step.get_stdout_log()


def test_strings_as_the_sdk_sends_are_converted_to_the_parameters_type(workspace, write,
                                                                       tmp_path):
    published = _publish(workspace, write, tmp_path)
    response = requests.post(published.endpoint,
                             headers=InteractiveLoginAuthentication().get_authentication_header(),
                             json={"ExperimentName": "e", "tags": {"by": "ci"},
                                   "ParameterAssignments": {"pipeline_arg": "7", "rate": "2"}})
    assert response.status_code == 200
    run = get_pipeline_run(workspace._local.conn, response.json()["Id"])
    assert run.parameters == {"pipeline_arg": 7, "rate": 2.0}
    assert type(run.parameters["rate"]) is float and run.tags == {"by": "ci"}
    assert _wait(workspace, run.id) == "Finished"


def test_a_missing_or_wrong_token_is_401_and_starts_no_run(workspace, write, tmp_path):
    published = _publish(workspace, write, tmp_path)
    body = {"ExperimentName": "e", "ParameterAssignments": {"pipeline_arg": 2}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = requests.post(published.endpoint, headers=headers, json=body)
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "UserError"
        assert error["innerError"]["code"] == "AuthenticationFailed"
        assert "Bearer" in error["message"]
    assert workspace._local.conn.execute("SELECT COUNT(*) FROM pipeline_run").fetchone()[0] == 0
    token = workspace_token(workspace._local.layout)
    log = open(workspace._local.layout.root / "private" / "service.log").read()
    assert token not in log and "401" in log


@pytest.mark.parametrize("body, status, code, says", [
    ({"ExperimentName": "e", "ParameterAssignments": {"nope": 1}}, 400, "BadArgument",
     "Parameter nope does not exist in this pipeline (its parameters: pipeline_arg, rate)"),
    ({"ExperimentName": "e", "ParameterAssignments": {"pipeline_arg": "ten"}}, 400, "BadArgument",
     "Parameter pipeline_arg expects a value of type int, got str 'ten'"),
    ({"ExperimentName": "e", "ParameterAssignments": {"pipeline_arg": True}}, 400, "BadArgument",
     "Parameter pipeline_arg expects a value of type int, got bool True"),
    ({"ParameterAssignments": {}}, 400, "BadRequest",
     "ExperimentName is required (a non-empty string)"),
    ({"ExperimentName": "e", "ParameterAssignments": [1]}, 400, "BadArgument",
     "ParameterAssignments must be a JSON object of parameter name to value"),
])
def test_bad_requests_are_4xx_with_a_clear_message(workspace, write, tmp_path, body, status,
                                                   code, says):
    published = _publish(workspace, write, tmp_path)
    headers = InteractiveLoginAuthentication().get_authentication_header()
    response = requests.post(published.endpoint, headers=headers, json=body)
    assert response.status_code == status
    assert response.json()["error"]["innerError"]["code"] == code
    assert response.json()["error"]["message"] == says
    assert workspace._local.conn.execute("SELECT COUNT(*) FROM pipeline_run").fetchone()[0] == 0


def test_malformed_json_unknown_pipeline_and_disabled_pipeline(workspace, write, tmp_path):
    published = _publish(workspace, write, tmp_path)
    headers = InteractiveLoginAuthentication().get_authentication_header()
    bad = requests.post(published.endpoint, headers={**headers, "Content-Type": "application/json"},
                        data=b"{not json")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("the request body is not valid JSON: ")
    unknown = requests.post(published.endpoint.rsplit("/", 1)[0] + "/no-such-id", headers=headers,
                            json={"ExperimentName": "e"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Published pipeline no-such-id not found"
    big = requests.post(published.endpoint, headers=headers,
                        data=b'{"ExperimentName": "' + b"x" * (1 << 21) + b'"}')
    assert big.status_code == 413
    published.disable()
    disabled = requests.post(published.endpoint, headers=headers, json={"ExperimentName": "e"})
    assert disabled.status_code == 400
    assert disabled.json()["error"]["message"] == (
        f"Published pipeline {published.id} is Disabled; enable it first")
    published.enable()
    assert requests.post(published.endpoint, headers=headers,
                         json={"ExperimentName": "e"}).status_code == 200


def test_get_routes_and_the_openapi_page(workspace, write, tmp_path):
    published = _publish(workspace, write, tmp_path)
    headers = InteractiveLoginAuthentication().get_authentication_header()
    ws_url = published.endpoint.split("/PipelineRuns/")[0]
    got = requests.get(f"{ws_url}/PublishedPipelines/Id/{published.id}", headers=headers).json()
    assert (got["Id"], got["Name"], got["EntityStatus"], got["TotalRunSteps"]) == (
        published.id, "nightly", "Active", 1)
    listed = requests.get(f"{ws_url}/PublishedPipelines", headers=headers).json()
    assert [p["Id"] for p in listed] == [published.id]
    run_id = requests.post(published.endpoint, headers=headers,
                           json={"ExperimentName": "e"}).json()["Id"]
    assert _wait(workspace, run_id) == "Finished"
    run = requests.get(f"{ws_url}/PipelineRuns/{run_id}", headers=headers).json()
    assert (run["Id"], run["Status"]["StatusCode"]) == (run_id, "Finished")
    root = ws_url.split("/pipelines/")[0]
    paths = requests.get(f"{root}/openapi.json").json()["paths"]
    assert any(p.endswith("/PipelineRuns/PipelineSubmit/{pipeline_id}") for p in paths)
    assert requests.get(f"{root}/docs").status_code == 200


def test_one_service_per_workspace_recorded_privately_and_stopped(workspace, write, tmp_path):
    layout = workspace._local.layout
    first = ensure_service(layout, quiet=True)
    assert ensure_service(layout, quiet=True) == first  # a second call finds the running one
    path = layout.root / "private" / "service.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.with_name("service.log")).st_mode) == 0o600
    assert read_service_record(layout).pid == first.pid
    second = subprocess.run([sys.executable, "-m", "runner.service", "--workspace",
                             str(layout.root)], capture_output=True, text=True, timeout=60,
                            cwd=REPO)
    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"amlocal: error: a service already runs for this workspace on {base_url(first)} "
        f"(pid {first.pid}); `amlocal service stop` ends it")
    assert stop_service(layout) == first
    assert running_service(layout) is None and not path.exists()


def test_cli_serve_status_token_and_curl_style_call(workspace, write, tmp_path):
    published = _publish(workspace, write, tmp_path)
    stop_service(workspace._local.layout)
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    assert amlocal("service", "status", cwd=tmp_path, env=env).returncode == 3
    serve = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--port", "0"],
                             cwd=tmp_path, env={**os.environ, **env, "PYTHONPATH": str(REPO),
                                                "AMLOCAL_EXECUTOR": "local"},
                             stderr=subprocess.PIPE, text=True)
    try:
        line = serve.stderr.readline()
        assert line.startswith(f"amlocal: serving {workspace._local.layout.root} on http://127.0.0.1:")
        status = amlocal("service", "status", cwd=tmp_path, env=env)
        assert status.returncode == 0 and status.stdout.startswith("running on http://127.0.0.1:")
        token = amlocal("service", "token", cwd=tmp_path, env=env).stdout.strip()
        assert token == workspace_token(workspace._local.layout)
        url = published.endpoint  # the foreground service answers: no second one started
        assert str(running_service(workspace._local.layout).pid) == str(serve.pid)
        response = requests.post(url, headers={"Authorization": f"Bearer {token}"},
                                 data='{"ExperimentName": "curl", "ParameterAssignments": '
                                      '{"pipeline_arg": 5}}')
        assert response.status_code == 200
        assert _wait(workspace, response.json()["Id"]) == "Finished"
        stopped = amlocal("service", "stop", cwd=tmp_path, env=env)
        assert stopped.stdout.startswith("stopped the service on http://127.0.0.1:")
        assert serve.wait(timeout=20) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()


def test_serve_on_another_host_warns(workspace, tmp_path):
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    done = amlocal("serve", "--host", "0.0.0.0", "--port", "70000", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == "amlocal: error: --port 70000 is not a port (0-65535)"


def test_published_pipeline_submit_get_and_list_share_the_store(workspace, write, tmp_path):
    published = _publish(workspace, write, tmp_path)
    again = PublishedPipeline.get(workspace, published.id)
    assert (again.id, again.name, again.endpoint) == (published.id, "nightly", published.endpoint)
    assert [p.id for p in PublishedPipeline.list(workspace)] == [published.id]
    run = published.submit(workspace, "sdk", pipeline_parameters={"pipeline_arg": 3})
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert get_pipeline_run(workspace._local.conn, run.id).parameters["pipeline_arg"] == 3


def test_convert_value_is_exact_about_types():
    assert convert_value("a", "int", "20") == 20 and type(convert_value("a", "int", "20")) is int
    assert type(convert_value("a", "int", 20.0)) is int
    assert convert_value("a", "float", 2) == 2.0 and type(convert_value("a", "float", 2)) is float
    assert convert_value("a", "bool", "True") is True and convert_value("a", "bool", False) is False
    assert convert_value("a", "str", 3) == "3"
    for kind, value in (("int", 2.5), ("float", "nan"), ("bool", "yes"), ("str", None)):
        with pytest.raises(AssignmentError):
            convert_value("a", kind, value)
    params = {"p": ParameterSpec("datapath", {"datastore": "d", "path": "x"}),
              "n": ParameterSpec("int", 1)}
    assert parameter_values(params, {"n": "4"}, {"p": {"DataStoreName": "ws", "RelativePath": "in/"}}) \
        == {"n": 4, "p": {"datastore": "ws", "path": "in/"}}
    with pytest.raises(AssignmentError, match="is a int parameter, not a DataPath"):
        parameter_values(params, None, {"n": {"DataStoreName": "ws", "RelativePath": "in/"}})
    with pytest.raises(AssignmentError, match="assign it with DataPathAssignments"):
        parameter_values(params, {"p": "x"})


def test_a_service_stops_when_its_workspace_is_removed(tmp_path):
    import shutil
    from store.layout import WorkspaceLayout
    from store.workspace import open_workspace
    layout = WorkspaceLayout(tmp_path / "gone" / ".amlocal")
    open_workspace(layout).close()
    record = ensure_service(layout, quiet=True)
    shutil.rmtree(tmp_path / "gone")
    deadline = time.monotonic() + 20
    import psutil
    while psutil.pid_exists(record.pid) and time.monotonic() < deadline:
        try:
            if psutil.Process(record.pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    alive = psutil.pid_exists(record.pid) and \
        psutil.Process(record.pid).status() != psutil.STATUS_ZOMBIE
    assert not alive
