"""Step outputs as datasets: OutputFileDatasetConfig registered on completion and read as a
table by a later step, PipelineData.as_dataset(), and datasets as pipeline parameters
(swapped at submit, and by the workspace service's DataSetDefinitionValueAssignments)."""
from __future__ import annotations

import pytest

from runner.sdk import Dataset, Experiment, Pipeline, PythonScriptStep
from runner.sdk.data import DatasetConsumptionConfig, OutputFileDatasetConfig
from runner.sdk.pipeline_data import PipelineData, PipelineParameter
from runner.service.assignments import AssignmentError, parameter_values
from runner.spec import OutputSpec, ParameterSpec
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_types import DataType
from store import registry
from store.runs import get_pipeline_run

PRODUCE = """
    import os, sys
    from azureml.core import Run
    out = Run.get_context().output_datasets["prepared"]
    assert out == sys.argv[1], (out, sys.argv)
    with open(os.path.join(out, "rows.csv"), "w") as f:
        f.write("x,name\\n1,a\\n2,b\\n3,c\\n")
    with open(os.path.join(out, "README.txt"), "w") as f:
        f.write("not a table\\n")
    {extra}
"""

CONSUME_TABLE = """
    from azureml.core import Run
    ds = Run.get_context().input_datasets["rows"]
    df = ds.to_pandas_dataframe()
    print(type(ds).__name__, list(df.columns), [type(df[c].iloc[0]).__name__ for c in df.columns])
    print(df.values.tolist())
"""


def _step(write, tmp_path, name: str, code: str, **kwargs) -> PythonScriptStep:
    write(f"{name}/{name}.py", code)
    return PythonScriptStep(f"{name}.py", name=name, source_directory=str(tmp_path / name),
                            **kwargs)


def _run(workspace, steps, **submit):
    run = Experiment(workspace, "dsout").submit(Pipeline(workspace, steps), **submit)
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    return run, status


def _error(run, step: str):
    return run.find_step_run(step)[0].get_details().get("error")


def test_register_on_complete_adds_a_version_per_run_made_by_the_step(workspace, write, tmp_path):
    out = OutputFileDatasetConfig("prepared").register_on_complete(
        "prepared", description="clean rows", tags={"stage": 1})
    produce = _step(write, tmp_path, "produce", PRODUCE.replace("{extra}", ""),
                    arguments=[out], allow_reuse=False)
    first, status = _run(workspace, [produce])
    assert status == "Finished", _error(first, "produce")
    second, status = _run(workspace, [produce])
    assert status == "Finished", _error(second, "produce")
    (step1,), (step2,) = first.find_step_run("produce"), second.find_step_run("produce")
    latest = Dataset.get_by_name(workspace, "prepared")
    v1 = Dataset.get_by_name(workspace, "prepared", version=1)
    assert (type(latest).__name__, latest.version, latest.description, latest.tags) == \
        ("FileDataset", 2, "clean rows", {"stage": "1"})
    assert latest.to_path() == ["/README.txt", "/rows.csv"]
    conn = workspace._local.conn
    record1 = registry.get_by_id(conn, v1.id)
    record2 = registry.get_by_id(conn, latest.id)
    assert (record1.made_by_step_run_id, record1.made_by_pipeline_run_id) == (step1.id, first.id)
    assert (record2.made_by_step_run_id, record2.made_by_pipeline_run_id) == (step2.id, second.id)
    assert record2.definition["sources"] == [{"datastore": "workspaceblobstore",
                                              "path": f"dataset/{step2.id}/prepared"}]
    assert sorted(record2.content) == [f"workspaceblobstore:dataset/{step2.id}/prepared/README.txt",
                                       f"workspaceblobstore:dataset/{step2.id}/prepared/rows.csv"]


def test_a_failed_step_registers_no_output(workspace, write, tmp_path):
    out = OutputFileDatasetConfig("prepared").register_on_complete("prepared")
    produce = _step(write, tmp_path, "produce", PRODUCE.replace("{extra}", "raise SystemExit(4)"),
                    arguments=[out])
    run, status = _run(workspace, [produce])
    assert status == "Failed"
    assert _error(run, "produce") == "exit code 4"
    assert registry.list_versions(workspace._local.conn, "dataset") == []


def test_read_delimited_files_gives_the_next_step_a_table_and_registers_one(
        workspace, write, tmp_path):
    out = OutputFileDatasetConfig("prepared")
    produce = _step(write, tmp_path, "produce", PRODUCE.replace("{extra}", ""),
                    arguments=[out.read_delimited_files(path_glob="*.csv")
                               .register_on_complete("table")])
    rows = out.read_delimited_files(path_glob="*.csv",
                                    set_column_types={"x": DataType.to_long()}).as_input("rows")
    consume = _step(write, tmp_path, "consume", CONSUME_TABLE, inputs=[rows])
    run, status = _run(workspace, [produce, consume])
    assert status == "Finished", _error(run, "consume")
    assert run.find_step_run("consume")[0].get_stdout_log() == (
        "TabularDataset ['x', 'name'] ['int64', 'str']\n"
        "[[1, 'a'], [2, 'b'], [3, 'c']]\n")
    table = Dataset.get_by_name(workspace, "table")
    assert (type(table).__name__, table.version) == ("TabularDataset", 1)
    (producer,) = run.find_step_run("produce")
    assert table._definition["sources"] == [{"datastore": "workspaceblobstore",
                                             "path": f"dataset/{producer.id}/prepared/*.csv"}]
    assert table.to_pandas_dataframe().values.tolist() == [["1", "a"], ["2", "b"], ["3", "c"]]


def test_read_parquet_files_and_the_sdk_errors(workspace, write, tmp_path):
    out = OutputFileDatasetConfig("prepared")
    produce = _step(write, tmp_path, "produce", """
        import os
        import pandas as pd
        from azureml.core import Run
        out = Run.get_context().output_datasets["prepared"]
        pd.DataFrame({"k": [7, 8]}).to_parquet(os.path.join(out, "part.parquet"))
        open(os.path.join(out, "_SUCCESS"), "w").close()
    """, arguments=[out.as_upload()])
    rows = out.read_parquet_files(path_glob="*.parquet", include_path=True).as_input("rows")
    consume = _step(write, tmp_path, "consume", CONSUME_TABLE, inputs=[rows])
    run, status = _run(workspace, [produce, consume])
    assert status == "Finished", _error(run, "consume")
    assert run.find_step_run("consume")[0].get_stdout_log() == (
        "TabularDataset ['Path', 'k'] ['str', 'int64']\n"
        "[['/part.parquet', 7], ['/part.parquet', 8]]\n")
    with pytest.raises(UserErrorException, match=r"^OutputTabularDatasetConfig does not support "
                                                 r"mount\. Only FileDataset supports mount$"):
        DatasetConsumptionConfig("t", out.read_parquet_files(), "mount")
    with pytest.raises(ValueError, match=r"^The registration name of the dataset must not be "
                                         r"empty\.$"):
        out.register_on_complete("")
    assert out.as_upload() is not out and out.mode == "mount" and out.as_upload().mode == "upload"
    assert isinstance(out.as_input("p").name, str) and str(out.as_input("p")) == \
        "DatasetConsumptionConfig:p"


def test_pipeline_data_as_dataset_parsed_as_a_table_mounted_and_registered(
        workspace, write, tmp_path):
    data = PipelineData("prepared").as_dataset()
    produce = _step(write, tmp_path, "produce", """
        import os, sys
        os.makedirs(sys.argv[1], exist_ok=True)
        open(os.path.join(sys.argv[1], "rows.csv"), "w").write("x\\n5\\n6\\n")
        open(os.path.join(sys.argv[1], "notes.md"), "w").write("# notes\\n")
    """, arguments=[data], outputs=[data.register("prepared_files")])
    rows = data.parse_delimited_files(set_column_types={"x": DataType.to_long()}) \
        .as_named_input("rows")
    consume = _step(write, tmp_path, "consume", CONSUME_TABLE, inputs=[rows])
    listing = _step(write, tmp_path, "listing", """
        import os
        from azureml.core import Run
        path = Run.get_context().input_datasets["files"]
        print(type(path).__name__, sorted(os.listdir(path)))
    """, inputs=[data.as_named_input("files")])
    run, status = _run(workspace, [produce, consume, listing])
    assert status == "Finished", (_error(run, "consume"), _error(run, "listing"))
    assert run.find_step_run("consume")[0].get_stdout_log() == (
        "TabularDataset ['x'] ['int64']\n[[5], [6]]\n")
    assert run.find_step_run("listing")[0].get_stdout_log() == "str ['notes.md', 'rows.csv']\n"
    registered = Dataset.get_by_name(workspace, "prepared_files")
    (producer,) = run.find_step_run("produce")
    assert (type(registered).__name__, registered.version) == ("FileDataset", 1)
    assert registered._definition["sources"] == [{"datastore": "workspaceblobstore",
                                                  "path": f"azureml/{producer.id}/prepared"}]
    with pytest.raises(ValueError, match="^Argument additional_transformation cannot be empty"):
        type(rows)(data, None)


@pytest.fixture
def two_tables(workspace, tmp_path):
    """Registered TabularDatasets "small" (2 rows) and "big" (3 rows) on the default datastore."""
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "small.csv").write_text("v\n1\n2\n")
    (folder / "big.csv").write_text("v\n10\n20\n30\n")
    datastore = workspace.get_default_datastore()
    datastore.upload(str(folder), target_path="tables", show_progress=False)
    small = Dataset.Tabular.from_delimited_files((datastore, "tables/small.csv"))
    big = Dataset.Tabular.from_delimited_files((datastore, "tables/big.csv"))
    return small.register(workspace, "small"), big.register(workspace, "big")


COUNT = """
    from azureml.core import Run
    ds = Run.get_context().input_datasets["data"]
    print(type(ds).__name__, ds.name, ds.version, ds.to_pandas_dataframe()["v"].tolist())
"""


def test_a_dataset_parameter_uses_its_default_and_takes_another_dataset_at_submit(
        workspace, write, tmp_path, two_tables):
    small, big = two_tables
    param = PipelineParameter("data", default_value=small)
    step = _step(write, tmp_path, "count", COUNT,
                 inputs=[DatasetConsumptionConfig("data", param)])
    run, status = _run(workspace, [step])
    assert status == "Finished", _error(run, "count")
    assert run.find_step_run("count")[0].get_stdout_log() == "TabularDataset small 1 [1, 2]\n"
    swapped, status = _run(workspace, [step], pipeline_parameters={"data": big})
    assert status == "Finished", _error(swapped, "count")
    assert swapped.find_step_run("count")[0].get_stdout_log() == \
        "TabularDataset big 1 [10, 20, 30]\n"
    stored = get_pipeline_run(workspace._local.conn, swapped.id).parameters
    assert stored["data"] == {"dataset": big._definition, "asset_id": big.id}
    with pytest.raises(Exception, match=r"^Pipeline parameter data expects a TabularDataset, "
                                        r"got str 'big'$"):
        Experiment(workspace, "dsout").submit(Pipeline(workspace, [step]),
                                              pipeline_parameters={"data": "big"})
    files = Dataset.File.from_files((workspace.get_default_datastore(), "tables"))
    with pytest.raises(Exception, match=r"^Pipeline parameter data expects a TabularDataset, "
                                        r"got a FileDataset$"):
        Experiment(workspace, "dsout").submit(Pipeline(workspace, [step]),
                                              pipeline_parameters={"data": files})


def test_a_file_dataset_parameter_downloads_the_submitted_files(workspace, write, tmp_path,
                                                                two_tables):
    datastore = workspace.get_default_datastore()
    small = Dataset.File.from_files((datastore, "tables/small.csv"))
    big = Dataset.File.from_files((datastore, "tables/big.csv"))
    param = PipelineParameter("files", default_value=small)
    step = _step(write, tmp_path, "lines", """
        import os
        from azureml.core import Run
        path = Run.get_context().input_datasets["files"]
        print(os.path.basename(path), open(path).read().split())
    """, inputs=[DatasetConsumptionConfig("files", param).as_download()])
    run, status = _run(workspace, [step], pipeline_parameters={"files": big})
    assert status == "Finished", _error(run, "lines")
    assert run.find_step_run("lines")[0].get_stdout_log() == \
        "big.csv ['v', '10', '20', '30']\n"
    with pytest.raises(UserErrorException, match=r"^Invalid PipelineParameter with default value "
                                                 r"'5\. Default value must be of types: "
                                                 r"FileDataset or TabularDataset$"):
        DatasetConsumptionConfig("n", PipelineParameter("n", 5))
    with pytest.raises(UserErrorException, match=r"^TabularDataset does not support download\. "
                                                 r"Only FileDataset supports download$"):
        DatasetConsumptionConfig("t", PipelineParameter("t", two_tables[0])).as_download()


def test_rest_dataset_assignments_set_a_dataset_parameter(two_tables):
    small, big = two_tables
    params = {"data": ParameterSpec("dataset", {"dataset": small._definition,
                                                "asset_id": small.id}),
              "n": ParameterSpec("int", 1)}
    found = {big.id: big._definition}
    values = parameter_values(params, {"n": "3"}, None,
                              {"data": {"SavedDataSetReference": {"Id": big.id}}}, found.get)
    assert values == {"n": 3, "data": {"dataset": big._definition, "asset_id": big.id}}
    with pytest.raises(AssignmentError, match=r"^DataSetDefinitionValueAssignments\[data\]: no "
                                              r"registered dataset has id nope$"):
        parameter_values(params, None, None, {"data": {"SavedDataSetReference": {"Id": "nope"}}},
                         found.get)
    with pytest.raises(AssignmentError, match=r"^Parameter n is a int parameter, not a dataset; "
                                              r"assign it in ParameterAssignments$"):
        parameter_values(params, None, None, {"n": {"SavedDataSetReference": {"Id": big.id}}},
                         found.get)


def test_output_spec_register_round_trips_and_is_absent_when_unset():
    plain = OutputSpec("o", "o", "output_dataset", "workspaceblobstore", destination="d")
    assert "register" not in plain.to_json()
    asked = OutputSpec("o", "o", "output_dataset", "workspaceblobstore", destination="d",
                       register={"name": "n", "description": None, "tags": {},
                                 "dataset": {"kind": "file", "sources": [{"path": ""}]}})
    assert OutputSpec.from_json(asked.to_json()) == asked
    assert asked.to_json()["register"]["name"] == "n"


CONTAINER_COUNT = """
    import csv, glob, os
    from azureml.core import Run
    from azureml.data import TabularDataset
    ds = Run.get_context().input_datasets["rows"]
    (source,) = ds._definition["sources"]
    paths = sorted(glob.glob(os.path.join(source["folder"], source["path"])))
    total = sum(len(list(csv.DictReader(open(p)))) for p in paths)
    print(isinstance(ds, TabularDataset), ds._definition["read"]["format"], source["path"],
          [os.path.basename(p) for p in paths], total)
"""


@pytest.mark.docker
def test_read_delimited_files_between_steps_in_containers(docker_workspace, write, tmp_path):
    out = OutputFileDatasetConfig("prepared")
    produce = _step(write, tmp_path, "produce", PRODUCE.replace("{extra}", ""), arguments=[out])
    consume = _step(write, tmp_path, "consume", CONTAINER_COUNT,
                    inputs=[out.read_delimited_files(path_glob="*.csv").as_input("rows")])
    run, status = _run(docker_workspace, [produce, consume])
    assert status == "Finished", _error(run, "consume")
    assert run.find_step_run("consume")[0].get_stdout_log() == \
        "True delimited *.csv ['rows.csv'] 3\n"


def test_a_published_pipeline_takes_a_registered_dataset_over_rest(workspace, write, tmp_path,
                                                                  two_tables):
    import requests

    from runner.sdk.authentication import InteractiveLoginAuthentication
    from runner.sdk.runs import PipelineRun
    small, big = two_tables
    step = _step(write, tmp_path, "count", COUNT, inputs=[
        DatasetConsumptionConfig("data", PipelineParameter("data", default_value=small))])
    published = Pipeline(workspace, [step]).publish("tables")
    headers = InteractiveLoginAuthentication().get_authentication_header()
    response = requests.post(published.endpoint, headers=headers, json={
        "ExperimentName": "rest", "DataSetDefinitionValueAssignments": {
            "data": {"SavedDataSetReference": {"Id": big.id}}}})
    assert response.status_code == 200, response.text
    run_id = response.json()["Id"]
    stored = get_pipeline_run(workspace._local.conn, run_id)
    assert stored.parameters == {"data": {"dataset": big._definition, "asset_id": big.id}}
    run = PipelineRun(Experiment(workspace, "rest"), run_id)
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert run.find_step_run("count")[0].get_stdout_log() == "TabularDataset big 1 [10, 20, 30]\n"
    unknown = requests.post(published.endpoint, headers=headers, json={
        "ExperimentName": "rest", "DataSetDefinitionValueAssignments": {
            "data": {"SavedDataSetReference": {"Id": "no-such-id"}}}})
    error = unknown.json()["error"]
    assert (unknown.status_code, error["code"], error["innerError"]["code"]) == \
        (400, "UserError", "BadArgument")
    assert error["message"] == ("DataSetDefinitionValueAssignments[data]: no registered dataset "
                                "has id no-such-id")


def test_reading_an_output_differently_reruns_the_consumer_only(workspace, write, tmp_path):
    def build(types):
        out = OutputFileDatasetConfig("prepared")
        produce = _step(write, tmp_path, "produce", PRODUCE.replace("{extra}", ""),
                        arguments=[out])
        rows = out.read_delimited_files(path_glob="*.csv", set_column_types=types)
        consume = _step(write, tmp_path, "consume", CONSUME_TABLE, inputs=[rows.as_input("rows")])
        return [produce, consume]

    def decisions(run):
        return {s.name: s._record().decision for s in run.get_steps()}

    first, _ = _run(workspace, build({"x": DataType.to_long()}))
    same, _ = _run(workspace, build({"x": DataType.to_long()}))
    other, status = _run(workspace, build(None))
    assert status == "Finished", _error(other, "consume")
    assert decisions(first) == {"produce": "run", "consume": "run"}
    assert decisions(same) == {"produce": "reused", "consume": "reused"}
    assert decisions(other) == {"produce": "reused", "consume": "run"}
    assert other.find_step_run("consume")[0].get_stdout_log() == (
        "TabularDataset ['x', 'name'] ['str', 'str']\n"
        "[['1', 'a'], ['2', 'b'], ['3', 'c']]\n")


def test_an_output_consumed_directly_is_a_file_dataset_with_its_partitions(
        workspace, write, tmp_path):
    out = OutputFileDatasetConfig("parts", partition_format="/{region}/{name}.csv")
    produce = _step(write, tmp_path, "produce", """
        import os
        from azureml.core import Run
        root = Run.get_context().output_datasets["parts"]
        for region in ("eu", "us"):
            os.makedirs(os.path.join(root, region))
            open(os.path.join(root, region, "a.csv"), "w").write("x\\n1\\n")
    """, arguments=[out.register_on_complete("parts")])
    consume = _step(write, tmp_path, "consume", """
        from azureml.core import Run
        ds = Run.get_context().input_datasets["files"]
        print(type(ds).__name__, ds.to_path(), ds.partition_keys)
    """, inputs=[DatasetConsumptionConfig("files", out)])
    run, status = _run(workspace, [produce, consume])
    assert status == "Finished", _error(run, "consume")
    assert run.find_step_run("consume")[0].get_stdout_log() == \
        "FileDataset ['/eu/a.csv', '/us/a.csv'] ['region', 'name']\n"
    parts = Dataset.get_by_name(workspace, "parts")
    assert (type(parts).__name__, parts.partition_keys) == ("FileDataset", ["region", "name"])
    assert parts.get_partition_key_values(["region"]) == [{"region": "eu"}, {"region": "us"}]


LIST_FILES = """
    from azureml.core import Run
    ds = Run.get_context().input_datasets["files"]
    print(type(ds).__name__, ds.to_path())
"""


def _file_parameter_run(workspace, write, tmp_path):
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "small.csv").write_text("v\n1\n")
    (folder / "big.csv").write_text("v\n10\n")
    datastore = workspace.get_default_datastore()
    datastore.upload(str(folder), target_path="tables", show_progress=False)
    small = Dataset.File.from_files((datastore, "tables/small.csv"))
    every = Dataset.File.from_files((datastore, "tables"))
    step = _step(write, tmp_path, "lister", LIST_FILES, inputs=[
        DatasetConsumptionConfig("files", PipelineParameter("files", default_value=small))])
    default, status = _run(workspace, [step])
    assert status == "Finished", _error(default, "lister")
    swapped, status = _run(workspace, [step], pipeline_parameters={"files": every})
    assert status == "Finished", _error(swapped, "lister")
    assert default.find_step_run("lister")[0].get_stdout_log() == "FileDataset ['/small.csv']\n"
    assert swapped.find_step_run("lister")[0].get_stdout_log() == \
        "FileDataset ['/big.csv', '/small.csv']\n"


def test_a_direct_file_dataset_parameter_is_swapped_at_submit(workspace, write, tmp_path):
    _file_parameter_run(workspace, write, tmp_path)


@pytest.mark.docker
def test_a_direct_file_dataset_parameter_in_containers(docker_workspace, write, tmp_path):
    _file_parameter_run(docker_workspace, write, tmp_path)
