"""The one-offs real v1 projects use: ComputeInstance, Environment.build, arg_val, partition
filters on FileDatasets, FileDataset.mount(), and msrest's HttpOperationError."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runner.sdk import (ComputeInstance, ComputeTarget, Dataset, Environment, Experiment,
                        OutputFileDatasetConfig, Pipeline, PythonScriptStep)
from runner.step_runtime.exceptions import ComputeTargetException, UserErrorException
from runner.step_runtime.dataset_partitions import PartitionFormatError
from tests.conftest import python_with_compat


def test_a_compute_instance_is_one_node_that_starts_and_stops(workspace, capsys):
    config = ComputeInstance.provisioning_configuration(vm_size="STANDARD_DS3_V2",
                                                        ssh_public_access=False)
    instance = ComputeTarget.create(workspace, "dev-box", config)
    instance.wait_for_completion(show_output=True)
    assert capsys.readouterr().out == "Provisioning operation finished, operation \"Succeeded\"\n"
    assert (type(instance), instance.type, instance.vm_size, instance.max_nodes) == (
        ComputeInstance, "ComputeInstance", "STANDARD_DS3_V2", 1)
    assert instance.get_status().state == "Running"
    with pytest.raises(ComputeTargetException, match=r"current state \(Running\) does not "
                                                     r"support Start operation"):
        instance.start()
    instance.stop(wait_for_completion=True)
    assert ComputeTarget(workspace, "dev-box").get_status().state == "Stopped"
    with pytest.raises(ComputeTargetException, match="does not support Restart"):
        instance.restart()
    instance.start()
    assert instance.get_status().state == "Running"
    assert type(workspace.compute_targets["dev-box"]) is ComputeInstance
    with pytest.raises(ComputeTargetException, match="not all virtual net information provided"):
        ComputeInstance.provisioning_configuration(vnet_name="v").validate_configuration()


def test_environment_build_with_the_local_executor_says_nothing_is_built(workspace, capsys):
    env = Environment("train-env")
    env.python.conda_dependencies.add_pip_package("numpy")
    details = env.build(workspace)
    assert details.wait_for_completion(show_output=True) is details
    assert (details.status, details.image) == ("Succeeded", None)
    printed = capsys.readouterr().out
    assert printed.startswith("no image built: steps run as local processes "
                              "($AMLOCAL_EXECUTOR); the local executor runs steps with ")
    assert printed.endswith("Image Build Status: Succeeded\n\n")


@pytest.mark.docker
def test_environment_build_in_docker_builds_the_image_a_step_uses(docker_workspace, docker_image):
    env = Environment("plain")
    details = env.build(docker_workspace).wait_for_completion(show_output=False)
    assert (details.status, details.image) == ("Succeeded", docker_image)
    assert details.get_log().endswith(f"image {docker_image} is ready for environment plain\n")


def test_arg_val_in_arguments_becomes_the_output_path(workspace, write, tmp_path):
    write("steps/w.py", "import sys, os\nos.makedirs(sys.argv[2], exist_ok=True)\n"
                        "open(os.path.join(sys.argv[2], 'x'), 'w').write(sys.argv[1])\n")
    out = OutputFileDatasetConfig(name="prepared")
    assert out.arg_val == "DatasetOutputConfig:prepared" and type(out.arg_val) is str
    step = PythonScriptStep("w.py", name="w", source_directory=str(tmp_path / "steps"),
                            arguments=["--out", out.arg_val], outputs=[out])
    run = Experiment(workspace, "argval").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("w")
    folder = workspace._local.layout.datastore_dir("workspaceblobstore") / "dataset" / step_run.id
    assert (folder / "prepared" / "x").read_text() == "--out"


@pytest.fixture
def partitioned(workspace):
    root = workspace._local.layout.datastore_dir("workspaceblobstore")
    for country, day in (("BE", "2024/01/05"), ("BE", "2024/02/01"), ("NL", "2024/01/09"),
                         ("FR", "2023/12/31")):
        folder = root / "sales" / country / day
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text(country)
    (root / "sales" / "README.md").write_text("not a partition")
    return Dataset.File.from_files((workspace.get_default_datastore(), "/sales"),
                                   partition_format="/{country}/{day:yyyy/MM/dd}/data.csv")


def test_filters_on_partition_columns(partitioned):
    ds = partitioned
    assert len(ds.to_path()) == 5
    assert ds.filter(ds["country"] == "BE").to_path() == ["/BE/2024/01/05/data.csv",
                                                          "/BE/2024/02/01/data.csv"]
    both = ds.filter((ds["country"] == "NL") | (ds["country"] == "FR"))
    assert both.to_path() == ["/FR/2023/12/31/data.csv", "/NL/2024/01/09/data.csv"]
    january = ds.filter((ds["day"] >= dt.datetime(2024, 1, 1)) & (ds["day"] < dt.datetime(2024, 2, 1)))
    assert january.to_path() == ["/BE/2024/01/05/data.csv", "/NL/2024/01/09/data.csv"]
    assert ds.filter(~(ds["country"] == "BE")).filter(ds["Path"].ends_with(".csv")).to_path() == [
        "/FR/2023/12/31/data.csv", "/NL/2024/01/09/data.csv"]
    with pytest.raises(KeyError, match="the dataset's columns are country, day, Path"):
        ds["region"]
    with pytest.raises(UserErrorException, match="combine conditions with & and |"):
        ds.filter(ds["country"] == "BE" and ds["country"] == "NL")
    with pytest.raises(PartitionFormatError, match="cannot be compared"):
        ds.filter(ds["day"] > "2024").to_path()


LISTER = """
    import os
    from azureml.core import Run
    from azureml.data import FileDataset
    sales = Run.get_context().input_datasets["sales"]  # a dataset object in direct mode, as in the SDK
    assert isinstance(sales, FileDataset), type(sales)
    root = sales.mount().mount_point
    with sales.mount(root):
        print(sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs))
"""


def test_a_filtered_dataset_input_gives_the_step_only_the_selected_files(workspace, partitioned,
                                                                        write, tmp_path):
    write("steps/list.py", LISTER)
    ds = partitioned

    def run_with(expression):
        step = PythonScriptStep("list.py", name="list", source_directory=str(tmp_path / "steps"),
                                inputs=[ds.filter(expression).as_named_input("sales")])
        run = Experiment(workspace, "filtered").submit(Pipeline(workspace, [step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        (step_run,) = run.find_step_run("list")
        return step_run

    first = run_with(ds["country"] == "BE")
    assert first.get_stdout_log() == ("['BE/2024/01/05/data.csv', 'BE/2024/02/01/data.csv']\n")
    other = run_with(ds["country"] == "NL")
    assert other.get_stdout_log() == "['NL/2024/01/09/data.csv']\n"
    assert "azureml.reusedrunid" not in other.get_properties()
    again = run_with(ds["country"] == "BE")
    assert again.get_properties()["azureml.reusedrunid"] == first.id
    root = workspace._local.layout.datastore_dir("workspaceblobstore") / "sales"
    (root / "BE" / "2024" / "01" / "05" / "data.csv").write_text("changed")
    changed = run_with(ds["country"] == "BE")
    assert "azureml.reusedrunid" not in changed.get_properties()


def test_mount_is_a_context_with_start_mount_point_and_stop(partitioned, tmp_path):
    ds = partitioned.filter(partitioned["country"] == "NL")
    with ds.mount() as mounted:
        point = Path(mounted.mount_point)
        assert sorted(p.relative_to(point).as_posix() for p in point.rglob("*") if p.is_file()) \
            == ["NL/2024/01/09/data.csv"]
        assert (point / "NL/2024/01/09/data.csv").read_text() == "NL"
    assert not point.exists()
    context = partitioned.mount(str(tmp_path / "mnt"))
    context.start()
    assert len(list((tmp_path / "mnt").rglob("*.csv"))) == 4
    context.stop()
    assert not (tmp_path / "mnt").exists()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep")
    with pytest.raises(UserErrorException, match="Dataset mount point must be empty"):
        partitioned.mount(str(tmp_path / "busy")).start()
    assert (tmp_path / "busy" / "mine.txt").read_text() == "keep"


def test_msrest_http_operation_error_is_importable_in_scripts_and_steps(workspace):
    code = ("from msrest.exceptions import HttpOperationError\n"
            "from azureml.core import Datastore, Workspace\n"
            "try:\n    Datastore(Workspace.get('w'), 'nope')\n"
            "except HttpOperationError as e:\n    print(type(e).__name__, e.response.status_code)\n")
    done = python_with_compat(code)
    assert done.stdout == "ErrorResponseException 404\n", done.stderr
    bare = python_with_compat("import msrest.exceptions as m; "
                              "print(m.HttpOperationError.__mro__[1].__name__)", bare=True)
    assert bare.stdout == "ClientException\n", bare.stderr
