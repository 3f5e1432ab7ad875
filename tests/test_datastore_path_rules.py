"""The SDK's path rules: a leading `/` or `./` on a datastore path means the datastore root, for
every call that takes one; `..` stays refused, and errors show the path as the user wrote it."""
from __future__ import annotations

import pytest

from runner.sdk import (DataPath, DataReference, Dataset, Experiment, OutputFileDatasetConfig,
                        Pipeline, PythonScriptStep)
from store.datastore_paths import normalize_datastore_path
from store.errors import UnsafePathError


@pytest.mark.parametrize("written, meant", [
    ("/dataset/raw", "dataset/raw"), ("./dataset/raw", "dataset/raw"),
    ("//dataset//raw/", "dataset/raw"), ("/./dataset", "dataset"), ("/", ""), ("./", ""),
    (".", ""), ("", ""), ("/blob-input-data/", "blob-input-data"), ("a/./b/../c", "a/c"),
])
def test_leading_slash_and_dot_slash_mean_the_root(written, meant):
    assert normalize_datastore_path(written) == meant


@pytest.mark.parametrize("written", ["..", "../x", "/../x", "./../x", "a/../../x", "C:/x"])
def test_paths_that_leave_the_datastore_are_refused_as_written(written):
    with pytest.raises(UnsafePathError) as refused:
        normalize_datastore_path(written, what="destination path")
    assert str(refused.value).startswith(f"destination path {written!r} ")


def test_every_call_that_takes_a_path_honours_the_rule(workspace, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f.csv").write_text("1")
    ds = workspace.get_default_datastore()
    root = workspace._local.layout.datastore_dir("workspaceblobstore")
    ref = ds.upload_files([str(tmp_path / "in" / "f.csv")], target_path="/blob-input-data/",
                          show_progress=False)
    assert (root / "blob-input-data" / "f.csv").read_text() == "1"
    assert ref.path_on_datastore == "/blob-input-data/"  # kept as written, as the SDK keeps it
    ds.upload(str(tmp_path / "in"), target_path="./dataset/raw", show_progress=False)
    assert (root / "dataset" / "raw" / "f.csv").read_text() == "1"
    assert Dataset.File.from_files((ds, "/dataset/raw")).to_path() == ["/f.csv"]
    assert Dataset.File.from_files(DataPath(ds, "/dataset/raw/f.csv")).to_path() == ["/f.csv"]
    assert DataReference(ds, "raw", "/dataset/raw")._input_source().path == "dataset/raw"
    assert ds.download(str(tmp_path / "dl"), prefix="/dataset", show_progress=False) == 1
    with pytest.raises(UnsafePathError, match=r"path_on_datastore '/\.\./up' leaves the datastore"):
        DataReference(ds, "x", "/../up")


def test_an_output_dataset_destination_with_a_leading_slash(workspace, write, tmp_path):
    write("steps/w.py", "import os, sys\nopen(os.path.join(sys.argv[1], 'o.txt'), 'w').write('o')\n")
    ds = workspace.get_default_datastore()
    out = OutputFileDatasetConfig(name="scored", destination=(ds, "/dataset/{output-name}/{run-id}"))
    step = PythonScriptStep("w.py", name="w", source_directory=str(tmp_path / "steps"),
                            arguments=[out], outputs=[out])
    run = Experiment(workspace, "paths").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("w")
    written = workspace._local.layout.datastore_dir("workspaceblobstore") / "dataset" / "scored"
    assert (written / step_run.id / "o.txt").read_text() == "o"
    assert step_run.get_output_data("scored").path_on_datastore == f"dataset/scored/{step_run.id}"


def test_an_output_destination_that_climbs_shows_the_placeholders(workspace):
    ds = workspace.get_default_datastore()
    with pytest.raises(UnsafePathError) as refused:
        OutputFileDatasetConfig(destination=(ds, "../{run-id}/{output-name}"))
    assert str(refused.value) == ("destination path '../{run-id}/{output-name}' leaves the "
                                  "datastore (it climbs out with '..')")
