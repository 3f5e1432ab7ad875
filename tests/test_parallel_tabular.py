"""ParallelRunStep over a TabularDataset (row ranges of about mini_batch_size bytes, a pandas
DataFrame per run()) and with partition_keys (one mini-batch per partition, of files or of
rows), run for real with the local executor; and what a user sees when they are wrong."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.sdk import Dataset, Environment, Experiment, Pipeline, PipelineData, PipelineParameter
from runner.sdk.steps import ParallelRunConfig, ParallelRunStep

HEADER = "id,value\n"


def _upload(workspace, tmp_path, folder: str, files: dict[str, str]) -> object:
    """Write `files` (path below `folder` -> text) and upload them to the default datastore."""
    data = tmp_path / "data" / folder
    for rel, text in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(text)
    datastore = workspace.get_default_datastore()
    datastore.upload(str(data), target_path=folder, overwrite=True, show_progress=False)
    return datastore


def _table_files(ids_per_file: list[range]) -> dict[str, str]:
    """CSV files of fixed-width rows `id,value` (value = id * 10): every file has the same
    bytes per row when it has the same number of rows."""
    return {f"part{n}.csv": HEADER + "".join(f"{i:02d},{i * 10:03d}\n" for i in ids)
            for n, ids in enumerate(ids_per_file)}


def _config(tmp_path, **overrides) -> ParallelRunConfig:
    values = dict(environment=Environment("prs"), entry_script="score.py", error_threshold=-1,
                  output_action="append_row", compute_target="local", node_count=1,
                  process_count_per_node=2, source_directory=str(tmp_path / "src"),
                  run_invocation_timeout=60, run_max_try=1)
    values.update(overrides)
    return ParallelRunConfig(**values)


def _script(write, body: str) -> None:
    write("src/score.py", textwrap.dedent(body))


def _submit(workspace, step, **kwargs):
    run = Experiment(workspace, "prs-tab").submit(Pipeline(workspace, [step]), **kwargs)
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.get_steps()
    return status, step_run


def _rows(workspace, step_run, port: str = "scores") -> list[str]:
    ref = step_run.get_output_data(port)
    path = workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore
    return (path / "parallel_run_step.txt").read_text().splitlines()


def _master(tmp_path, step_run) -> str:
    (found,) = (tmp_path / ".amlocal" / "runs").glob(f"*/{step_run.id}/artifacts/logs")
    return (found / "sys" / "master_role.txt").read_text()


SCORE_TABLE = """
    import pandas as pd

    def run(mini_batch, mini_batch_context):
        out = pd.DataFrame({"id": mini_batch["id"], "double": mini_batch["value"] * 2})
        out["kind"] = type(mini_batch).__name__
        out["first_index"] = int(mini_batch.index[0])
        out["batch"] = mini_batch_context.minibatch_index
        out["rows"] = len(mini_batch)
        return out
"""


def test_a_table_is_split_into_row_ranges_of_about_the_size_and_run_gets_dataframes(
        workspace, write, tmp_path):
    _script(write, SCORE_TABLE)
    datastore = _upload(workspace, tmp_path, "people", _table_files([range(0, 5), range(5, 10)]))
    table = Dataset.Tabular.from_delimited_files((datastore, "people/*.csv"))
    total = 2 * (len(HEADER) + 5 * len("00,000\n"))  # 88 bytes, 8.8 bytes a row
    assert total == 88
    size = 27  # 27 * 10 // 88 = 3 rows a mini-batch
    step = ParallelRunStep("score", _config(tmp_path, mini_batch_size=size),
                           inputs=[table.as_named_input("people")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Finished", step_run.get_details()["error"]
    sizes = [3, 3, 3, 1]
    assert _rows(workspace, step_run) == [
        f"{i} {i * 20} DataFrame 0 {i // 3} {sizes[i // 3]}" for i in range(10)]
    master = _master(tmp_path, step_run)
    assert "input people: 10 rows in 88 bytes of files: mini-batches of 3 rows (about 27 bytes " \
           "each)" in master
    assert "4 mini-batches of about 27 bytes of rows (10 rows) for 2 worker process(es) on 1 " \
           "node(s)" in master
    metrics = step_run.get_metrics()
    assert metrics["Total MiniBatches"] == 4 and type(metrics["Total MiniBatches"]) is int
    assert (metrics["Succeeded Items"], metrics["Failed Items"]) == (10, 0)


def test_the_default_size_of_a_table_is_1mb_and_a_size_parameter_takes_units(workspace, write,
                                                                              tmp_path):
    _script(write, SCORE_TABLE)
    datastore = _upload(workspace, tmp_path, "people", _table_files([range(0, 10)]))
    table = Dataset.Tabular.from_delimited_files((datastore, "people/part0.csv"))
    step = ParallelRunStep("score", _config(tmp_path), inputs=[table.as_named_input("people")],
                           output=PipelineData("scores"))
    (compiled,) = Pipeline(workspace, [step])._spec.steps
    assert compiled.parallel.input_type == "tabular"
    assert compiled.parallel.mini_batch_size.value == "1048576"
    size = PipelineParameter("size", default_value="1MB")
    step = ParallelRunStep("score", _config(tmp_path, mini_batch_size=size),
                           inputs=[table.as_named_input("people")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step, pipeline_parameters={"size": "1KB"})
    assert status == "Finished", step_run.get_details()["error"]
    assert len(_rows(workspace, step_run)) == 10
    assert "1 mini-batches of about 1024 bytes of rows (10 rows)" in _master(tmp_path, step_run)
    status, step_run = _submit(workspace, step, pipeline_parameters={"size": "big"})
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: mini_batch_size 'big' is not a size (a TabularDataset input is "
        "split into mini-batches of about that much data: '1MB', '10KB', '1GB' or a number of "
        "bytes)")


def test_an_unparseable_mini_batch_size_is_the_sdks_error(tmp_path):
    with pytest.raises(ValueError) as raised:
        _config(tmp_path, mini_batch_size="1 MB")
    assert str(raised.value) == r"Parameter mini_batch_size must follow regex rule " \
                                r"^\d+([kKmMgG][bB])*$."
    assert _config(tmp_path, mini_batch_size="10KB").mini_batch_size == 10240
    assert _config(tmp_path, mini_batch_size="1GB").mini_batch_size == 1024 ** 3


def test_a_rerun_of_a_table_processes_only_failed_and_new_rows(workspace, write, tmp_path):
    _script(write, """
        import os
        def run(mini_batch):
            marks = os.environ["MARKS"]
            with open(os.path.join(marks, "calls.txt"), "a") as fh:
                fh.write(" ".join(str(i) for i in mini_batch["id"]) + "\\n")
            if 4 in set(mini_batch["id"]) and not os.path.exists(os.path.join(marks, "fixed")):
                raise ValueError("not yet")
            return [f"{i} {v}" for i, v in zip(mini_batch["id"], mini_batch["value"])]
    """)
    files = _table_files([range(0, 4), range(4, 8)])
    datastore = _upload(workspace, tmp_path, "people", files)
    table = Dataset.Tabular.from_delimited_files((datastore, "people/*.csv"))
    marks = tmp_path / "marks"
    marks.mkdir()
    config = _config(tmp_path, mini_batch_size=19,  # 37 bytes / 4 rows a file: 2 rows a batch
                     environment_variables={"MARKS": str(marks)})

    def submit():
        step = ParallelRunStep("score", config, inputs=[table.as_named_input("people")],
                               output=PipelineData("scores"))
        return _submit(workspace, step)

    status, first = submit()
    assert status == "Finished" and first.get_metrics()["Failed MiniBatches"] == 1
    (logs,) = (tmp_path / ".amlocal" / "runs").glob(f"*/{first.id}/artifacts/logs")
    assert "mini-batch 2 (2 rows, try 1): ValueError: not yet" in \
        (logs / "job_error.txt").read_text()
    (marks / "fixed").touch()
    (marks / "calls.txt").unlink()
    _upload(workspace, tmp_path, "people", _table_files([range(0, 4), range(4, 8),
                                                         range(8, 12)]))
    status, second = submit()
    assert status == "Finished", second.get_details()["error"]
    assert sorted((marks / "calls.txt").read_text().splitlines()) == ["10 11", "4 5", "8 9"]
    assert _rows(workspace, second) == [f"{i} {i * 10}" for i in range(12)]
    assert "reused 3 of 6 mini-batches (unchanged rows, entry script, environment and " \
           "settings)" in _master(tmp_path, second)
    metrics = second.get_metrics()
    assert (metrics["Reused MiniBatches"], metrics["Succeeded MiniBatches"]) == (3, 6)


def test_parquet_files_are_read_once_per_worker_and_split_by_rows(workspace, write, tmp_path):
    import pandas as pd
    _script(write, SCORE_TABLE)
    folder = tmp_path / "data" / "pq"
    folder.mkdir(parents=True)
    pd.DataFrame({"id": range(6), "value": [i * 10 for i in range(6)]}).to_parquet(
        folder / "part.parquet", index=False)
    datastore = workspace.get_default_datastore()
    datastore.upload(str(folder), target_path="pq", overwrite=True, show_progress=False)
    table = Dataset.Tabular.from_parquet_files((datastore, "pq/part.parquet"))
    size = (folder / "part.parquet").stat().st_size // 3 + 1  # 2 rows a mini-batch
    step = ParallelRunStep("score", _config(tmp_path, mini_batch_size=size),
                           inputs=[table.as_named_input("pq")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Finished", step_run.get_details()["error"]
    assert _rows(workspace, step_run) == [f"{i} {i * 20} DataFrame 0 {i // 2} 2" for i in range(6)]


SCORE_PARTITION = """
    import os
    def run(mini_batch, mini_batch_context):
        value = mini_batch_context.partition_key_value
        label = ",".join(f"{k}={v}" for k, v in value.items())
        if isinstance(mini_batch, list):
            return [f"{type(value).__name__} {label} {os.path.basename(p)}" for p in mini_batch]
        return [f"{type(mini_batch).__name__} {label} {i}" for i in mini_batch["id"]]
"""


def test_partition_keys_make_one_mini_batch_of_files_per_partition(workspace, write, tmp_path):
    _script(write, SCORE_PARTITION)
    datastore = _upload(workspace, tmp_path, "sales", {
        "us/1/a.txt": "1", "us/1/b.txt": "2", "us/2/c.txt": "3", "fr/1/d.txt": "4"})
    files = Dataset.File.from_files((datastore, "sales"),
                                    partition_format="/{country}/{day}/*.txt")
    config = _config(tmp_path, partition_keys=["country"])
    step = ParallelRunStep("score", config, inputs=[files.as_named_input("sales")],
                           output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Finished", step_run.get_details()["error"]
    assert _rows(workspace, step_run) == ["dict country=fr d.txt", "dict country=us a.txt",
                                          "dict country=us b.txt", "dict country=us c.txt"]
    master = _master(tmp_path, step_run)
    assert "partition_keys country: one mini-batch per partition (mini_batch_size is not used)" \
        in master
    assert "2 mini-batches, one per partition by country (4 files) for 2 worker process(es)" \
        in master
    both = ParallelRunStep("score2", _config(tmp_path, partition_keys=["country", "day"]),
                           inputs=[files.as_named_input("sales")], output=PipelineData("s2"))
    status, step_run = _submit(workspace, both)
    assert status == "Finished", step_run.get_details()["error"]
    assert _rows(workspace, step_run, "s2") == [
        "dict country=fr,day=1 d.txt", "dict country=us,day=1 a.txt",
        "dict country=us,day=1 b.txt", "dict country=us,day=2 c.txt"]
    assert step_run.get_metrics()["Total MiniBatches"] == 3


def test_partition_keys_make_one_mini_batch_of_rows_per_partition(workspace, write, tmp_path):
    _script(write, SCORE_PARTITION)
    datastore = _upload(workspace, tmp_path, "sales", {
        "fr/2020-01-01/part.csv": "id\n1\n2\n", "fr/2020-01-02/part.csv": "id\n3\n",
        "us/2020-01-01/part.csv": "id\n4\n5\n"})
    table = Dataset.Tabular.from_delimited_files(
        (datastore, "sales/**/*.csv"), partition_format="/{country}/{day:yyyy-MM-dd}/part.csv")
    step = ParallelRunStep("score", _config(tmp_path, partition_keys=["day"]),
                           inputs=[table.as_named_input("sales")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Finished", step_run.get_details()["error"]
    # the rows of 2020-01-01 are in two files, apart in the table: one mini-batch still
    assert _rows(workspace, step_run) == [
        "DataFrame day=2020-01-01 00:00:00 1", "DataFrame day=2020-01-01 00:00:00 2",
        "DataFrame day=2020-01-01 00:00:00 4", "DataFrame day=2020-01-01 00:00:00 5",
        "DataFrame day=2020-01-02 00:00:00 3"]
    assert "2 mini-batches, one per partition by day (5 rows)" in _master(tmp_path, step_run)


def test_partition_keys_the_inputs_lack_are_refused_with_what_they_have(workspace, write,
                                                                        tmp_path):
    _script(write, SCORE_PARTITION)
    datastore = _upload(workspace, tmp_path, "sales", {"us/1/a.txt": "1"})
    files = Dataset.File.from_files((datastore, "sales"),
                                    partition_format="/{country}/{day}/*.txt")
    with pytest.raises(ValueError) as raised:
        ParallelRunStep("score", _config(tmp_path, partition_keys=["region", "day"]),
                        inputs=[files.as_named_input("sales")], output=PipelineData("o"))
    assert str(raised.value) == (
        "partition_keys region not found in input dataset sales (its partition keys: country, "
        "day); partition_keys must be a subset of the keys of every input dataset")
    plain = Dataset.File.from_files((datastore, "sales"))
    with pytest.raises(ValueError) as raised:
        ParallelRunStep("score", _config(tmp_path, partition_keys=["country"]),
                        inputs=[plain.as_named_input("plain")], output=PipelineData("o"))
    assert str(raised.value) == (
        "partition_keys country not found in input dataset plain (its partition keys: none, it "
        "has no partition_format); partition_keys must be a subset of the keys of every input "
        "dataset")
    with pytest.raises(Exception) as raised:
        ParallelRunStep("score", _config(tmp_path, partition_keys=["country"]),
                        inputs=[files.as_named_input("sales").as_mount()], output=PipelineData("o"))
    assert str(raised.value) == ("Please ensure input dataset consumption mode is direct for "
                                 "partitioned dataset")
    keys = PipelineParameter("keys", default_value='["country"]')
    step = ParallelRunStep("score", _config(tmp_path, partition_keys=keys),
                           inputs=[files.as_named_input("sales")], output=PipelineData("o"))
    status, step_run = _submit(workspace, step, pipeline_parameters={"keys": '["region"]'})
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: partition_keys region not found in input dataset sales (its "
        "partition keys: country, day); partition_keys must be a subset of the keys of every "
        "input dataset")


@pytest.mark.docker
def test_a_table_in_an_image_without_pandas_fails_the_step_in_one_line(docker_workspace, write,
                                                                        tmp_path):
    _script(write, SCORE_TABLE)
    datastore = _upload(docker_workspace, tmp_path, "people", _table_files([range(0, 3)]))
    table = Dataset.Tabular.from_delimited_files((datastore, "people/*.csv"))
    step = ParallelRunStep("score", _config(tmp_path), inputs=[table.as_named_input("people")],
                           output=PipelineData("scores"))
    status, step_run = _submit(docker_workspace, step)
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: to_pandas_dataframe needs pandas: add pandas to this environment "
        "(pip install pandas; the SDK needs azureml-dataprep[pandas] for the same call)")


@pytest.mark.docker
def test_a_table_is_scored_the_same_in_an_image_with_pandas(docker_workspace, write, tmp_path):
    from runner.sdk.conda_dependencies import CondaDependencies
    _script(write, SCORE_TABLE)
    datastore = _upload(docker_workspace, tmp_path, "people", _table_files([range(0, 5),
                                                                           range(5, 10)]))
    table = Dataset.Tabular.from_delimited_files((datastore, "people/*.csv"))
    environment = Environment("prs-pandas")
    environment.python.conda_dependencies = CondaDependencies.create(
        pip_packages=["pandas==3.1.1"])
    step = ParallelRunStep("score", _config(tmp_path, environment=environment, mini_batch_size=27),
                           inputs=[table.as_named_input("people")], output=PipelineData("scores"))
    status, step_run = _submit(docker_workspace, step)
    assert status == "Finished", step_run.get_details()["error"]
    sizes = [3, 3, 3, 1]
    assert _rows(docker_workspace, step_run) == [
        f"{i} {i * 20} DataFrame 0 {i // 3} {sizes[i // 3]}" for i in range(10)]
