"""PipelineEndpoint: versions of published pipelines under one name and one REST URL; the
default version decides what a submit (SDK or REST) runs."""
from __future__ import annotations

import pytest
import requests

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from runner.sdk.authentication import InteractiveLoginAuthentication
from runner.sdk.pipeline_endpoint import PipelineEndpoint, PipelineIdVersion
from runner.sdk.runs import PipelineRun
from runner.step_runtime.exceptions import UserErrorException
from store.runs import get_pipeline_run, get_step_runs
from tests.conftest import amlocal, python_with_compat


def _pipelines(workspace, write, tmp_path):
    write("steps/a.py", "print('a')\n")
    write("steps/b.py", "print('b')\n")
    src = str(tmp_path / "steps")
    one = Pipeline(workspace, [PythonScriptStep("a.py", name="first", source_directory=src)])
    two = Pipeline(workspace, [PythonScriptStep("b.py", name="second", source_directory=src)])
    return one.publish("v-one"), two.publish("v-two")


def _step_names(workspace, run_id: str) -> list[str]:
    return [s.name for s in get_step_runs(workspace._local.conn, run_id)]


def test_the_default_version_decides_what_a_submit_runs(workspace, write, tmp_path):
    one, two = _pipelines(workspace, write, tmp_path)
    endpoint = PipelineEndpoint.publish(workspace, "nightly", "the nightly job", one)
    assert (endpoint.name, endpoint.default_version, endpoint.status) == ("nightly", "0", "Active")
    assert endpoint.list_versions() == [PipelineIdVersion(one.id, "0")]
    run = endpoint.submit("e")
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _step_names(workspace, run.id) == ["first"]
    endpoint.add_default(two)
    assert endpoint.get_default_version() == "1"
    assert endpoint.list_versions() == [PipelineIdVersion(one.id, "0"), PipelineIdVersion(two.id, "1")]
    again = PipelineEndpoint.get(workspace, name="nightly")
    assert again.id == endpoint.id and again.get_pipeline().id == two.id
    run = again.submit("e")
    run.wait_for_completion(show_output=False)
    assert _step_names(workspace, run.id) == ["second"]
    old = again.submit("e", pipeline_version="0")
    old.wait_for_completion(show_output=False)
    assert _step_names(workspace, old.id) == ["first"]
    via_experiment = Experiment(workspace, "e").submit(again, pipeline_version="0")
    assert get_pipeline_run(workspace._local.conn, via_experiment.id).published_pipeline_id == one.id
    via_experiment.wait_for_completion(show_output=False)


def test_rest_submit_of_an_endpoint_and_its_pipelineversion(workspace, write, tmp_path):
    one, two = _pipelines(workspace, write, tmp_path)
    endpoint = PipelineEndpoint.publish(workspace, "nightly", "d", one)
    endpoint.add(two)
    assert endpoint.get_default_version() == "0"
    headers = InteractiveLoginAuthentication().get_authentication_header()
    url = endpoint.endpoint
    assert url.endswith(f"/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint.id}")
    default = requests.post(url, headers=headers, json={"ExperimentName": "rest"})
    assert default.status_code == 200 and default.json()["PipelineId"] == one.id
    second = requests.post(url + "?pipelineVersion=1", headers=headers, json={"ExperimentName": "rest"})
    assert second.status_code == 200 and second.json()["PipelineId"] == two.id
    missing = requests.post(url + "?pipelineVersion=7", headers=headers, json={"ExperimentName": "rest"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Pipeline endpoint nightly has no version 7 (its versions: 0, 1)"
    unknown = requests.post(url.rsplit("/", 1)[0] + "/nope", headers=headers, json={"ExperimentName": "x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Pipeline endpoint nope not found"
    assert requests.post(url, json={"ExperimentName": "rest"}).status_code == 401
    endpoint.disable()
    disabled = requests.post(url, headers=headers, json={"ExperimentName": "rest"})
    assert disabled.status_code == 400
    assert disabled.json()["error"]["message"] == "Pipeline endpoint nightly is Disabled; enable it first"
    for body in (default.json(), second.json()):
        run = PipelineRun(Experiment(workspace, "rest"), body["Id"])
        assert run.wait_for_completion(show_output=False) == "Finished"


def test_names_status_listing_and_errors(workspace, write, tmp_path):
    one, two = _pipelines(workspace, write, tmp_path)
    endpoint = PipelineEndpoint.publish(workspace, "nightly", "d", one)
    with pytest.raises(UserErrorException, match="PipelineEndpoint name nightly already exists"):
        PipelineEndpoint.publish(workspace, "nightly", "d", two)
    with pytest.raises(UserErrorException, match="has no version 3 \\(its versions: 0\\)"):
        endpoint.set_default_version("3")
    with pytest.raises(UserErrorException, match="no pipeline endpoint named 'gone'"):
        PipelineEndpoint.get(workspace, name="gone")
    endpoint.set_name("daily")
    assert PipelineEndpoint.get(workspace, id=endpoint.id).name == "daily"
    endpoint.add(two)
    assert [p.id for p in endpoint.list_pipelines()] == [one.id, two.id]
    endpoint.disable()
    with pytest.raises(UserErrorException, match="PipelineEndpoint daily is Disabled; enable it first"):
        endpoint.submit("e")
    assert [e.id for e in PipelineEndpoint.list(workspace)] == []
    assert [e.id for e in PipelineEndpoint.list(workspace, active_only=False)] == [endpoint.id]
    endpoint.archive()
    assert endpoint.status == "Deprecated"
    endpoint.reactivate("again")
    assert (endpoint.status, endpoint.name) == ("Active", "again")


def test_cli_published_lists_pipelines_and_endpoints(workspace, write, tmp_path):
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    empty = amlocal("published", cwd=tmp_path, env=env)
    assert empty.stdout == "nothing published yet: call pipeline.publish(name) in a pipeline script\n"
    one, two = _pipelines(workspace, write, tmp_path)
    endpoint = PipelineEndpoint.publish(workspace, "nightly", "d", one)
    endpoint.add_default(two)
    listed = amlocal("published", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "VERSION", "STATUS", "PUBLISHED"]
    assert {lines[1].split()[0], lines[2].split()[0]} == {one.id, two.id}
    assert lines[4].split() == ["ENDPOINT", "ID", "NAME", "STATUS", "DEFAULT", "VERSIONS"]
    assert lines[5].split()[:4] == [endpoint.id, "nightly", "Active", "1"]
    assert lines[5].endswith(f"0={one.id[:8]}, 1={two.id[:8]}")


def test_the_compat_import_gives_the_class():
    done = python_with_compat(
        "from azureml.pipeline.core import PipelineEndpoint as A\n"
        "from azureml.pipeline.core.pipeline_endpoint import PipelineEndpoint as B, PipelineIdVersion\n"
        "print(A is B, A.__module__, PipelineIdVersion._fields)\n")
    assert done.stdout == "True runner.sdk.pipeline_endpoint ('pipeline_id', 'version')\n", done.stderr
