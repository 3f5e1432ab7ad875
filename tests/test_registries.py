"""Registered datasets and models as the SDK has them, in a script and inside steps: versions,
lookups by name and id, registration from a step (applied only when it succeeds), model
paths in steps, and the errors a user meets (unknown names and versions, an existing name
without create_new_version, a model path that does not exist)."""
from __future__ import annotations

import pytest

from runner.sdk import Dataset, Experiment, Pipeline, PythonScriptStep
from runner.step_runtime.exceptions import (ModelNotFoundException, UserErrorException,
                                            WebserviceException)
from runner.step_runtime.model import Model
from store import registry


@pytest.fixture
def raw(workspace, tmp_path):
    """Two CSV files uploaded to the default datastore under raw/."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "b.csv").write_text("x,y\n3,4\n")
    datastore = workspace.get_default_datastore()
    datastore.upload(str(data), target_path="raw", show_progress=False)
    return datastore


def test_a_file_dataset_registers_with_versions_and_is_found_by_name_and_id(workspace, raw):
    ds = Dataset.File.from_files((raw, "raw"))
    assert (ds.name, ds.version, ds.id) == (None, None, None)
    first = ds.register(workspace, "raw", description="landing zone", tags={"src": "upload"})
    assert (first.name, first.version, type(first.version)) == ("raw", 1, int)
    assert first.tags == {"src": "upload"} and first.description == "landing zone"
    with pytest.raises(UserErrorException, match=r'^There is already a dataset registered under '
                                                 r'name "raw"\. Specify `create_new_version=True`'):
        ds.register(workspace, "raw")
    same = ds.register(workspace, "raw", create_new_version=True)
    assert same.version == 1  # the same definition: the latest version, no new one
    second = ds.take(1).register(workspace, "raw", create_new_version=True)
    assert second.version == 2
    assert Dataset.get_by_name(workspace, "raw").version == 2
    assert Dataset.get_by_name(workspace, "raw", version=1).to_path() == ["/a.csv", "/b.csv"]
    assert Dataset.get_by_name(workspace, "raw", version="2").to_path() == ["/a.csv"]
    assert Dataset.get_by_id(workspace, first.id).version == 1
    assert sorted(workspace.datasets) == ["raw"] and workspace.datasets["raw"].version == 2
    with pytest.raises(UserErrorException, match=r'^Cannot find dataset registered with name '
                                                 r'"nope" in the workspace\.$'):
        Dataset.get_by_name(workspace, "nope")
    with pytest.raises(UserErrorException, match=r'^Cannot find dataset registered with name '
                                                 r'"raw" \(version: 7\) in the workspace\.$'):
        Dataset.get_by_name(workspace, "raw", version=7)
    pinned = registry.get_by_id(workspace._local.conn, first.id).content
    assert sorted(pinned) == ["workspaceblobstore:raw/a.csv", "workspaceblobstore:raw/b.csv"]


def test_file_dataset_subsets_split_without_overlap(workspace, raw):
    ds = Dataset.File.from_files((raw, "raw"))
    assert ds.skip(1).to_path() == ["/b.csv"]
    left, right = ds.random_split(0.5, seed=3)
    assert sorted(left.to_path() + right.to_path()) == ["/a.csv", "/b.csv"]
    assert set(left.to_path()).isdisjoint(right.to_path())
    assert ds.filter(ds.file_metadata("Size") > 100).to_path() == []
    assert ds.filter(ds.file_metadata("Extension") == "csv").to_path() == ["/a.csv", "/b.csv"]
    with pytest.raises(UserErrorException, match="probability must be a number greater than 0"):
        ds.take_sample(1.5)
    with pytest.raises(UserErrorException, match="file_metadata: 'Owner' is not file metadata"):
        ds.file_metadata("Owner")


TRAIN = """
    import os
    from azureml.core import Dataset, Model, Run
    run = Run.get_context()
    ws = run.experiment.workspace
    raw = Dataset.get_by_name(ws, "raw")
    print(type(raw).__name__, raw.version, raw.to_path())
    os.makedirs("outputs", exist_ok=True)
    open("outputs/model.txt", "w").write("weights from " + ",".join(raw.to_path()))
    model = run.register_model("clf", "outputs/model.txt", tags={"accuracy": "0.9"})
    print("asked", model.name, model.version)
    {extra}
"""

SCORE = """
    from azureml.core import Model, Run
    path = Model.get_model_path("clf")
    print(open(path).read())
    ws = Run.get_context().experiment.workspace
    print([(m.name, m.version, m.tags) for m in Model.list(ws)])
"""


def _two_steps(workspace, write, tmp_path, extra: str = ""):
    write("steps/train.py", TRAIN.replace("{extra}", extra))
    write("steps/score.py", SCORE)
    train = PythonScriptStep("train.py", name="train", source_directory=str(tmp_path / "steps"))
    score = PythonScriptStep("score.py", name="score", source_directory=str(tmp_path / "steps"))
    score.run_after(train)
    run = Experiment(workspace, "reg").submit(Pipeline(workspace, [score]))
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    return run, status


def _check_registered_from_a_step(workspace, write, tmp_path, raw):
    Dataset.File.from_files((raw, "raw")).register(workspace, "raw")
    run, status = _two_steps(workspace, write, tmp_path)
    assert status == "Finished", run.find_step_run("train")[0].get_details()["error"]
    (train,) = run.find_step_run("train")
    (score,) = run.find_step_run("score")
    assert train.get_stdout_log() == ("FileDataset 1 ['/a.csv', '/b.csv']\nasked clf 1\n")
    assert score.get_stdout_log() == ("weights from /a.csv,/b.csv\n"
                                      "[('clf', 1, {'accuracy': '0.9'})]\n")
    model = Model(workspace, "clf")
    assert (model.version, model.run_id, model.tags) == (1, train.id, {"accuracy": "0.9"})
    conn = workspace._local.conn
    assert [a.name for a in registry.used_by_step_run(conn, train.id)] == ["raw"]
    assert [a.name for a in registry.made_by_pipeline_run(conn, run.id)] == ["clf"]
    assert open(Model.get_model_path("clf", _workspace=workspace)).read() == \
        "weights from /a.csv,/b.csv"


def test_a_step_reads_a_dataset_by_name_and_registers_a_model_the_next_step_loads(
        workspace, write, tmp_path, raw):
    _check_registered_from_a_step(workspace, write, tmp_path, raw)


@pytest.mark.docker
def test_registries_from_steps_in_containers(docker_workspace, write, tmp_path, raw):
    _check_registered_from_a_step(docker_workspace, write, tmp_path, raw)


def test_a_step_that_fails_registers_nothing(workspace, write, tmp_path, raw):
    Dataset.File.from_files((raw, "raw")).register(workspace, "raw")
    run, status = _two_steps(workspace, write, tmp_path, extra="raise SystemExit(3)")
    assert status == "Failed"
    assert Model.list(workspace) == []
    with pytest.raises(WebserviceException, match="^ModelNotFound: Model with name clf not found"):
        Model(workspace, "clf")


def test_models_from_a_script_with_the_sdk_rules(workspace, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(b"\x00\x01")
    first = Model.register(workspace, str(tmp_path / "m"), "net", tags={"k": 1},
                           model_framework=Model.Framework.PYTORCH)
    second = Model.register(workspace, str(tmp_path / "m" / "w.bin"), "net")
    assert (first.id, first.version, first.tags, first.model_framework) == ("net:1", 1, {"k": "1"}, "PyTorch")
    assert (second.id, Model(workspace, "net").version) == ("net:2", 2)
    assert [m.version for m in Model.list(workspace, name="net")] == [2, 1]
    assert [m.id for m in Model.list(workspace, tags=[["k", "1"]])] == ["net:1"]
    assert Model.get_model_path("net", version=1, _workspace=workspace).endswith("models/net/1/m")
    target = first.download(str(tmp_path / "out"))
    assert (tmp_path / "out" / "m" / "w.bin").read_bytes() == b"\x00\x01" and target.endswith("out/m")
    with pytest.raises(WebserviceException, match='provided model path "nope.pkl" cannot be found'):
        Model.register(workspace, "nope.pkl", "net")
    with pytest.raises(WebserviceException, match="provided model name is invalid"):
        Model.register(workspace, str(tmp_path / "m"), "../escape")
    with pytest.raises(ModelNotFoundException, match=r"Model/Version net/9 not found in workspace\. "
                                                     r"\['net/1', 'net/2'\]"):
        Model.get_model_path("net", version=9, _workspace=workspace)
    with pytest.raises(UserErrorException, match="^Model.deploy: deploying or packaging models"):
        Model.deploy(workspace, "svc", [first])
    first.add_tags({"stage": "prod"})
    assert Model(workspace, id="net:1").tags == {"k": "1", "stage": "prod"}


READER = """
    from azureml.core import Run
    from azureml.data import TabularDataset
    people = Run.get_context().input_datasets["people"]
    print(type(people).__name__, isinstance(people, TabularDataset), people.name, people.version)
    df = people.to_pandas_dataframe()
    print(list(df.columns), [str(t) for t in df.dtypes], df["age"].sum())
"""


@pytest.fixture
def people(workspace, tmp_path):
    """A registered TabularDataset of two CSV files."""
    data = tmp_path / "people"
    data.mkdir()
    (data / "a.csv").write_text("name,age\nann,31\n")
    (data / "b.csv").write_text("name,age\nbob,40\ncy,9\n")
    datastore = workspace.get_default_datastore()
    datastore.upload(str(data), target_path="people", show_progress=False)
    return Dataset.Tabular.from_delimited_files((datastore, "people/*.csv")).register(
        workspace, "people")


def _read_in_a_step(workspace, write, tmp_path, people):
    write("steps/read.py", READER)
    step = PythonScriptStep("read.py", name="read", source_directory=str(tmp_path / "steps"),
                            inputs=[people.keep_columns(["age"]).as_named_input("people")])
    run = Experiment(workspace, "tab").submit(Pipeline(workspace, [step]))
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.find_step_run("read")
    return status, step_run


def test_a_tabular_dataset_input_is_a_tabular_dataset_in_the_step(workspace, write, tmp_path, people):
    status, step_run = _read_in_a_step(workspace, write, tmp_path, people)
    assert status == "Finished", step_run.get_details()["error"]
    assert step_run.get_stdout_log() == "TabularDataset True None None\n['age'] ['int64'] 80\n"


def test_a_registered_tabular_input_keeps_its_name_and_version_in_the_step(workspace, write,
                                                                          tmp_path, people):
    write("steps/read.py", READER)
    step = PythonScriptStep("read.py", name="read", source_directory=str(tmp_path / "steps"),
                            inputs=[people.as_named_input("people")])
    run = Experiment(workspace, "tab").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("read")
    assert step_run.get_stdout_log().splitlines()[0] == "TabularDataset True people 1"
    with pytest.raises(UserErrorException, match="TabularDataset does not support mount"):
        people.as_named_input("people").as_mount()


@pytest.mark.docker
def test_reading_a_table_in_an_image_without_pandas_says_what_to_add(docker_workspace, write,
                                                                    tmp_path, people):
    status, step_run = _read_in_a_step(docker_workspace, write, tmp_path, people)
    assert status == "Failed"
    assert step_run.get_stdout_log() == "TabularDataset True None None\n"
    assert step_run.get_details()["error"].endswith(
        "to_pandas_dataframe needs pandas: add pandas to this environment (pip install pandas; "
        "the SDK needs azureml-dataprep[pandas] for the same call)")


def test_a_rerun_says_which_registered_dataset_changed_and_how_it_is_read(workspace, write,
                                                                           tmp_path, people):
    write("steps/read.py", "print('read')\n")

    def run_with(dataset):
        step = PythonScriptStep("read.py", name="read", source_directory=str(tmp_path / "steps"),
                                inputs=[dataset.as_named_input("people")])
        run = Experiment(workspace, "why").submit(Pipeline(workspace, [step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        (step_run,) = run.find_step_run("read")
        record = step_run._record()
        return record.decision, record.reason

    first = run_with(people)
    assert first[0] == "run"
    assert run_with(people)[0] == "reused"
    (tmp_path / ".amlocal" / "datastores" / "workspaceblobstore" / "people" / "b.csv").write_text(
        "name,age\nbob,41\n")
    assert run_with(people) == ("run", "rerun: dataset people v1 changed (1 file)")
    assert run_with(people.keep_columns("age")) == (
        "run", "rerun: dataset input people is read differently (reader, columns or rows)")


def test_a_registration_from_a_step_cannot_reach_outside_the_workspace(workspace, write, tmp_path, raw):
    """A step's event file is untrusted: a dataset it registers must stay on this workspace's
    datastores, and a link it planted there is never hashed through."""
    secret = tmp_path / "host-secret.txt"
    secret.write_text("host secret")
    write("steps/evil.py", f"""
        import json, os
        from azureml.core import Run
        run = Run.get_context()
        store = os.path.join(os.environ["AZUREML_DATAREFERENCE_raw"], "..")
        os.symlink({str(tmp_path)!r}, os.path.join(os.environ["AZUREML_DATAREFERENCE_raw"], "hop"))
        with open(os.environ["AMLOCAL_EVENTS_FILE"], "a") as events:
            for definition in (
                    {{"kind": "file", "sources": [{{"datastore": "../../..", "path": "etc"}}]}},
                    {{"kind": "file", "sources": [{{"datastore": "workspaceblobstore", "path": "../../x"}}]}},
                    {{"kind": "file", "sources": [{{"datastore": "workspaceblobstore",
                                                   "path": "raw/hop/host-secret.txt"}}]}}):
                events.write(json.dumps({{"run": run.id, "kind": "register", "name": "dataset",
                                         "value": {{"name": "evil", "definition": definition}}}}) + "\\n")
    """)
    from runner.sdk import DataReference
    ref = DataReference(raw, "raw", "raw")
    step = PythonScriptStep("evil.py", name="evil", source_directory=str(tmp_path / "steps"),
                            inputs=[ref])
    run = Experiment(workspace, "evil").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    (step_run,) = run.find_step_run("evil")
    assert step_run.get_details()["error"] == (
        "registering dataset evil: datastore name '../../..' must be a plain name without '/', "
        "'..' or '\\'; registering dataset evil: path_on_datastore '../../x' leaves the datastore "
        "(it climbs out with '..')")
    assert registry.list_versions(workspace._local.conn, "dataset") == []  # all or nothing
    from runner.engine.asset_registry import dataset_content
    definition = {"kind": "file", "sources": [{"datastore": "workspaceblobstore",
                                               "path": "raw/hop/host-secret.txt"}]}
    assert dataset_content(workspace._local.conn, workspace._local.layout, definition) == {}
