"""Paths of file datasets as the SDK takes them: DataReference (`datastore.path(...)`),
DataPath, tuples, and glob patterns resolved when the pipeline is built."""
from __future__ import annotations

import json
import os

import pytest

from runner.sdk import DataPath, Dataset, Experiment, Pipeline, PipelineData, PythonScriptStep
from runner.step_runtime.exceptions import UserErrorException

LIST_INPUT = """
    import json, os, sys
    found = sorted(os.path.relpath(os.path.join(d, f), sys.argv[1])
                   for d, _, files in os.walk(sys.argv[1]) for f in files)
    os.makedirs(sys.argv[2], exist_ok=True)
    open(os.path.join(sys.argv[2], "found.json"), "w").write(json.dumps(found))
"""


@pytest.fixture
def readings(workspace, write, tmp_path):
    for rel in ("a.csv", "b.csv", "notes.txt", "2024/c.csv"):
        write(f"data/{rel}", rel)
    blob = workspace.get_default_datastore()
    blob.upload(str(tmp_path / "data"), target_path="raw", show_progress=False)
    return blob


def test_a_data_reference_or_data_path_is_a_dataset_path(readings):
    by_reference = Dataset.File.from_files(path=readings.path("raw/2024"))
    by_data_path = Dataset.File.from_files(DataPath(readings, "raw/a.csv"))
    by_list = Dataset.File.from_files([readings.path("raw/a.csv"), (readings, "raw/b.csv")])
    assert (by_reference.to_path(), by_data_path.to_path(), by_list.to_path()) == \
        (["/c.csv"], ["/a.csv"], ["/a.csv", "/b.csv"])
    with pytest.raises(UserErrorException, match="from_files takes a DataPath, a DataReference"):
        Dataset.File.from_files(42)


def test_globs_select_files_and_validate_says_when_nothing_matches(readings, tmp_path):
    csvs = Dataset.File.from_files(path=readings.path("raw/*.csv"))
    assert csvs.to_path() == ["/a.csv", "/b.csv"]
    assert Dataset.File.from_files((readings, "raw/**/*.csv")).to_path() == ["/2024/c.csv", "/a.csv", "/b.csv"]
    copied = csvs.download(str(tmp_path / "copy"))
    assert sorted(os.path.basename(p) for p in copied) == ["a.csv", "b.csv"]
    with pytest.raises(UserErrorException) as refused:
        Dataset.File.from_files((readings, "raw/*.parquet"))
    assert str(refused.value).startswith("Dataset validation failed: workspaceblobstore:raw/*.parquet "
                                         "has no files (looked in ")


def test_a_glob_input_gives_the_step_only_its_files(workspace, write, tmp_path, readings):
    write("steps/list.py", LIST_INPUT)
    found = PipelineData("found")
    dataset = Dataset.File.from_files((readings, "raw/**/*.csv"))
    step = PythonScriptStep("list.py", name="list", source_directory=str(tmp_path / "steps"),
                            arguments=[dataset.as_named_input("csvs").as_mount(), found], outputs=[found])
    run = Experiment(workspace, "globs").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    ref = run.find_step_run("list")[0].get_output_data("found")
    listed = (workspace._local.layout.datastore_dir("workspaceblobstore") / ref.path_on_datastore / "found.json")
    assert json.loads(listed.read_text()) == ["2024/c.csv", "a.csv", "b.csv"]


def test_a_glob_that_matches_nothing_fails_when_the_pipeline_is_built(workspace, write, tmp_path, readings):
    write("steps/list.py", LIST_INPUT)
    dataset = Dataset.File.from_files((readings, "raw/*.json"), validate=False)
    found = PipelineData("found")
    step = PythonScriptStep("list.py", name="list", source_directory=str(tmp_path / "steps"),
                            arguments=[dataset.as_named_input("js").as_mount(), found], outputs=[found])
    with pytest.raises(UserErrorException) as refused:
        Pipeline(workspace, [step])
    root = workspace._local.layout.datastore_dir("workspaceblobstore").resolve()
    assert str(refused.value) == (f"Dataset path workspaceblobstore:raw/*.json matches no files "
                                  f"(looked below {root / 'raw'}); check the pattern or upload the "
                                  "files first")


def test_a_glob_never_matches_or_enters_a_link_in_the_datastore(readings, tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "s.csv").write_text("secret")
    root = readings._local_path("raw")
    os.symlink(outside / "s.csv", root / "link.csv")
    os.symlink(outside, root / "linked_dir")
    assert Dataset.File.from_files((readings, "raw/**/*.csv")).to_path() == ["/2024/c.csv", "/a.csv", "/b.csv"]
