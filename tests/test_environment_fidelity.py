"""Environments and run configurations as the SDK builds them: conda files the SDK writes,
pip requirements, Dockerfiles, the Docker and distributed-training sections, saving and
loading, and the cloud-only images and curated environments refused with what to do."""
from __future__ import annotations

import json
import os
import stat

import pytest

from runner.sdk import Pipeline, PythonScriptStep
from runner.sdk.conda_dependencies import CondaDependencies
from runner.sdk.environment import DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, Environment
from runner.sdk.runconfig import RunConfiguration
from runner.sdk.runconfig_sections import (DockerConfiguration, MpiConfiguration,
                                           PyTorchConfiguration, TensorflowConfiguration)
from runner.step_runtime.exceptions import RunConfigurationException, UserErrorException

# What the real SDK's CondaDependencies.save writes: list items at the key's indent.
SDK_WRITTEN = """\
# Conda environment specification.
name: project_environment
dependencies:
  # The python interpreter version.
- python=3.8.13

- pip:
    # Required packages for AzureML execution, history, and data preparation.
  - azureml-defaults
  - --extra-index-url https://example.org/simple
  - numpy==1.26.4
channels:
- anaconda
- conda-forge
"""


def test_a_conda_file_the_sdk_wrote_reads_back_with_its_pip_section(tmp_path):
    path = tmp_path / "conda_dependencies.yml"
    path.write_text(SDK_WRITTEN)
    deps = CondaDependencies(str(path))
    assert deps.get_python_version() == "3.8.13"
    assert deps.pip_packages == ["azureml-defaults", "numpy==1.26.4"]
    assert deps.pip_options == ["--extra-index-url https://example.org/simple"]
    assert deps.conda_packages == []
    assert deps.conda_channels == ["conda-forge", "anaconda"]


def test_conda_dependencies_members_behave_as_the_sdks(tmp_path):
    deps = CondaDependencies()
    deps.set_pip_requirements(["pandas>=2", "# a comment", "", "--index-url https://x/simple"])
    assert (deps.pip_packages, deps.pip_options) == (["pandas>=2"], ["--index-url https://x/simple"])
    deps.add_tensorflow_pip_package(version="2.15.0")
    deps.add_tensorflow_pip_package(core_type="gpu")  # replaces the earlier tensorflow
    deps.add_cntk_package()
    deps.add_tensorflow_conda_package(version="2.12")
    assert deps.pip_packages == ["pandas>=2", "tensorflow-gpu==2.2.0", "cntk==2.7"]
    assert deps.conda_packages == ["tensorflow=2.12"]
    with pytest.raises(UserErrorException, match="Invalid core type tpu. Only accept 'cpu' or 'gpu'"):
        deps.add_cntk_package("tpu")
    assert CondaDependencies.merge_requirements(["numpy>=1.2", "numpy<2", "scipy"]) == \
        ["numpy>=1.2,<2", "scipy"]
    assert CondaDependencies.sdk_origin_url() == "https://pypi.python.org/simple"
    assert deps.get_default_number_of_packages() == (0, 0)
    relative = deps.save_to_file(str(tmp_path))
    assert relative == ".azureml/conda_dependencies.yml"
    assert CondaDependencies(str(tmp_path / relative)).pip_packages == deps.pip_packages


def test_environment_constructors_record_what_the_sdk_records(tmp_path):
    (tmp_path / "requirements.txt").write_text("requests==2.31.0\n# pinned\nrich\n")
    env = Environment.from_pip_requirements("pip-env", str(tmp_path / "requirements.txt"), "23.3")
    deps = env.python.conda_dependencies
    assert (deps.pip_packages, deps.conda_packages) == (["requests==2.31.0", "rich"], ["pip=23.3"])

    (tmp_path / "environment.yml").write_text("name: x\ndependencies:\n  - python=3.9\n  - pip:\n"
                                              "    - scikit-learn\n")
    env = Environment.from_conda_specification("conda-env", str(tmp_path / "environment.yml"))
    assert env._to_spec().to_json()["python_version"] == "3.9"
    assert env._to_spec().to_json()["pip_packages"] == ["scikit-learn"]

    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nRUN pip install rich\n")
    env = Environment.from_dockerfile("df-env", str(tmp_path / "Dockerfile"))
    assert env.docker.base_dockerfile == "FROM python:3.11-slim\nRUN pip install rich\n"
    assert env.docker.base_image is None and env.python.user_managed_dependencies is True
    env.docker.base_image = "python:3.12-slim"  # one excludes the other, as in the SDK
    assert (env.docker.base_image, env.docker.base_dockerfile) == ("python:3.12-slim", None)

    env = Environment.from_docker_image("img-env", "python:3.11-slim")
    assert (env._to_spec().to_json()["base_image"], env._to_spec().to_json()["user_managed"]) == ("python:3.11-slim", True)
    with pytest.raises(UserErrorException, match="Only one of conda_specification or pip_requirements"):
        Environment.from_docker_image("both", "x", conda_specification="a", pip_requirements="b")


def test_an_environment_saved_to_a_directory_loads_back(tmp_path):
    env = Environment("saved")
    env.environment_variables = {"MODE": "fast"}
    env.docker.base_image = "python:3.11-slim"
    env.docker.arguments = ["--cpus", "1"]
    env.python.conda_dependencies.add_pip_package("rich==13.7.0")
    env.save_to_directory(str(tmp_path / "env"))
    assert sorted(os.listdir(tmp_path / "env")) == ["azureml_environment.json", "conda_dependencies.yml"]
    definition = json.loads((tmp_path / "env" / "azureml_environment.json").read_text())
    assert definition["docker"]["baseImage"] == "python:3.11-slim"  # the SDK's keys
    loaded = Environment.load_from_directory(str(tmp_path / "env"))
    assert loaded._to_spec() == env._to_spec()
    with pytest.raises(FileExistsError):
        env.save_to_directory(str(tmp_path / "env"))
    env.save_to_directory(str(tmp_path / "env"), overwrite=True)


def test_a_curated_environment_says_what_to_do_instead(workspace):
    with pytest.raises(UserErrorException) as curated:
        Environment.get(workspace, "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu")
    assert str(curated.value) == (
        "Environment AzureML-sklearn-1.0-ubuntu20.04-py38-cpu is a curated Azure ML environment, "
        "which exists only in Azure: define it in the script instead, e.g. "
        "Environment.from_conda_specification('AzureML-sklearn-1.0-ubuntu20.04-py38-cpu', "
        "'environment.yml') or Environment.from_pip_requirements("
        "'AzureML-sklearn-1.0-ubuntu20.04-py38-cpu', 'requirements.txt') with the packages it has")
    with pytest.raises(UserErrorException, match="Only one of version or label can be specified"):
        Environment.get(workspace, "mine", version="1", label="prod")


def test_from_existing_conda_environment_exports_it_with_conda(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert Environment.from_existing_conda_environment("e", "base") is None
    assert capsys.readouterr().out == ("Unable to run Conda package manager. Please make sure "
                                       "Conda (>= 4.4.0) is installed.\n")
    conda = tmp_path / "conda"
    conda.write_text("#!/bin/sh\n[ \"$5\" = science ] || exit 3\n"
                     "printf 'name: science\\ndependencies:\\n  - python=3.10\\n  - pip:\\n    - scipy\\n'\n")
    conda.chmod(conda.stat().st_mode | stat.S_IEXEC)
    env = Environment.from_existing_conda_environment("from-conda", "science")
    assert (env.name, env._to_spec().to_json()["python_version"], env._to_spec().to_json()["pip_packages"]) == \
        ("from-conda", "3.10", ["scipy"])
    assert Environment.from_existing_conda_environment("e", "other") is None
    assert capsys.readouterr().out == "Exporting conda specifications failed with exit code: 3\n"


def test_docker_and_distributed_sections_are_the_sdks_and_reach_the_step_spec():
    docker = DockerConfiguration(use_docker=True)
    assert (docker.use_docker, docker.shared_volumes, docker.arguments, docker.shm_size) == \
        (True, True, [], "2g")
    assert (MpiConfiguration().process_count_per_node, MpiConfiguration().node_count) == (1, 1)
    torch = PyTorchConfiguration(communication_backend="Gloo", node_count=2)
    assert (torch.communication_backend, torch.process_count, torch.node_count) == ("gloo", None, 2)
    with pytest.raises(RunConfigurationException, match="Mpi is not a supported backend"):
        PyTorchConfiguration(communication_backend="Mpi")
    assert (TensorflowConfiguration().worker_count, TensorflowConfiguration(3, 2).parameter_server_count) == (1, 2)

    config = RunConfiguration(communicator="IntelMpi")
    config.environment.docker.arguments = ["--cpus", "1"]
    config.docker = DockerConfiguration(use_docker=True, arguments=["--memory", "512m"], shm_size="1g")
    config.mpi = MpiConfiguration(process_count_per_node=4, node_count=2)
    spec = config._to_spec().to_json()
    assert spec["environment"]["docker_arguments"] == ["--cpus", "1", "--memory", "512m"]
    assert spec["environment"]["shm_size"] == "1g"
    assert spec["use_docker"] is True
    assert spec["distributed"] == {"kind": "mpi", "process_count_per_node": 4, "node_count": 2}
    pytorch = RunConfiguration(framework="PyTorch", communicator="Nccl")
    pytorch.pytorch = PyTorchConfiguration(process_count=8)
    assert pytorch._to_spec().to_json()["distributed"] == {"kind": "pytorch", "communication_backend": "nccl",
                                                 "process_count": 8, "node_count": 1}
    assert RunConfiguration()._to_spec().distributed is None


def test_a_run_configuration_saves_loads_and_deletes(tmp_path):
    config = RunConfiguration(script="train.py", arguments=["--epochs", 3])
    config.target = "cpu-cluster"
    config.node_count = 2
    config.docker = DockerConfiguration(use_docker=True, shm_size="4g")
    config.environment.python.conda_dependencies.add_pip_package("rich")
    config.save(str(tmp_path), name="train")
    saved = tmp_path / ".azureml" / "train.runconfig"
    assert saved.is_file() and (tmp_path / ".azureml" / "conda_dependencies.yml").is_file()
    loaded = RunConfiguration.load(str(tmp_path), name="train")
    assert (loaded.script, loaded.arguments, loaded.target, loaded.node_count) == \
        ("train.py", ["--epochs", "3"], "cpu-cluster", 2)
    assert (loaded.docker.use_docker, loaded.docker.shm_size) == (True, "4g")
    assert loaded.environment.python.conda_dependencies.pip_packages == ["rich"]
    assert RunConfiguration.load(str(saved)).target == "cpu-cluster"
    with pytest.raises(UserErrorException, match="Cannot save a runconfig without a name specified"):
        config.save(str(tmp_path))
    RunConfiguration.delete(str(tmp_path), "train")
    assert not saved.exists()
    with pytest.raises(UserErrorException, match="Failed to load RunConfiguration"):
        RunConfiguration.load(str(tmp_path), name="train")


def test_the_python_version_is_recorded_with_the_step(workspace, write, tmp_path):
    write("steps/a.py", "print('a')\n")
    write("environment.yml", "dependencies:\n  - python=3.9.18\n")
    config = RunConfiguration()
    config.environment = Environment.from_conda_specification("py39", str(tmp_path / "environment.yml"))
    step = PythonScriptStep("a.py", source_directory=str(tmp_path / "steps"), runconfig=config)
    (spec,) = Pipeline(workspace, [step]).graph.to_json()["steps"]
    assert spec["runconfig"]["environment"]["python_version"] == "3.9.18"
    assert spec["runconfig"]["environment"]["name"] == "py39"


def test_azures_gpu_image_is_refused_when_the_pipeline_is_built(workspace, write, tmp_path):
    write("steps/a.py", "print('a')\n")
    config = RunConfiguration()
    config.environment.docker.base_image = DEFAULT_GPU_IMAGE
    step = PythonScriptStep("a.py", name="train", source_directory=str(tmp_path / "steps"),
                            runconfig=config)
    with pytest.raises(UserErrorException) as refused:
        Pipeline(workspace, [step])
    assert str(refused.value) == (
        f"Step [train]: environment default-environment uses Azure's GPU image {DEFAULT_GPU_IMAGE}; "
        "amlocal runs steps without GPUs: use DEFAULT_CPU_IMAGE (or an image of your own) with "
        "the CPU build of your framework")
    config.environment.docker.base_image = DEFAULT_CPU_IMAGE
    (spec,) = Pipeline(workspace, [step]).graph.to_json()["steps"]
    assert spec["runconfig"]["environment"]["base_image"] is None  # Azure's CPU image: ours


@pytest.mark.docker
def test_build_local_builds_the_image_a_step_would_run_in(docker_workspace, capsys):
    env = Environment("built-locally")
    env.python.user_managed_dependencies = True
    env.build_local(docker_workspace)
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("Image ") and out[-1].endswith(" for environment built-locally is ready")
