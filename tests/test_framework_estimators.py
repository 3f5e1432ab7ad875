"""Framework estimators (SKLearn, TensorFlow, PyTorch, Chainer): the SDK's constructors, their
framework packages in the step's environment, and in Docker an image that has them."""
from __future__ import annotations

import inspect
import io
import os

import pytest

from runner.executors import framework_pins
from runner.sdk import Chainer, Experiment, Pipeline, PyTorch, SKLearn, TensorFlow
from runner.sdk.steps import EstimatorStep
from runner.step_runtime.exceptions import TrainingException

COMMON = ["source_directory", "compute_target", "vm_size", "vm_priority", "entry_script",
          "script_params"]
TAIL = ["environment_variables", "environment_definition", "inputs"]


def test_constructors_take_the_sdks_parameters():
    sklearn = list(inspect.signature(SKLearn.__init__).parameters)[1:]
    assert sklearn[:7] == [*COMMON, "use_docker"]
    assert sklearn[-5:] == ["framework_version", "_enable_optimized_mode", "_disable_validation",
                            "_show_lint_warnings", "_show_package_warnings"]
    tf = list(inspect.signature(TensorFlow.__init__).parameters)[1:]
    assert tf[6:12] == ["node_count", "process_count_per_node", "worker_count",
                        "parameter_server_count", "distributed_backend", "distributed_training"]
    for cls in (TensorFlow, PyTorch, Chainer):
        params = inspect.signature(cls.__init__).parameters
        assert all(p.kind is p.KEYWORD_ONLY for name, p in params.items()
                   if name not in ("self", "source_directory"))
        assert "source_directory_data_store" in params and "custom_docker_base_image" in params
    with pytest.raises(TypeError):
        SKLearn(".", "cpu-cluster")  # keyword-only, as in the SDK


def test_each_estimator_adds_the_version_the_sdk_pins():
    cases = [(SKLearn(".", entry_script="t.py"), ["scikit-learn==0.20.3"], "0.20.3"),
             (TensorFlow(".", entry_script="t.py", framework_version="2.3"),
              ["tensorflow==2.3.0"], "2.3"),
             (PyTorch(".", entry_script="t.py"), ["torch==1.4.0", "torchvision==0.5.0"], "1.4"),
             (Chainer(".", entry_script="t.py", framework_version="7.0.0"), ["chainer==7.0.0"],
              "7.0.0")]
    for estimator, packages, version in cases:
        spec = estimator.run_config.environment._to_spec()
        assert list(spec.pip_packages) == packages
        assert spec.framework["version"] == version == estimator.framework_version
        assert spec.framework["pins"][0][0] == packages[0]
    assert PyTorch(".").run_config.environment_variables == {"NCCL_TREE_THRESHOLD": "0"}
    assert TensorFlow.get_supported_versions() == ["1.10", "1.12", "1.13", "2.0", "2.1", "2.2",
                                                   "2.3"]


def test_the_users_own_package_wins_and_a_conda_file_means_no_framework_packages(tmp_path):
    mine = SKLearn(".", pip_packages=["scikit-learn==1.5.2", "pandas"])
    spec = mine.run_config.environment._to_spec()
    assert list(spec.pip_packages) == ["scikit-learn==1.5.2", "pandas"]
    assert spec.framework["pins"] == []
    conda = tmp_path / "env.yml"
    conda.write_text("dependencies:\n  - python=3.11\n  - pip:\n    - numpy\n")
    spec = SKLearn(".", conda_dependencies_file=str(conda)).run_config.environment._to_spec()
    assert list(spec.pip_packages) == ["numpy"] and spec.framework is None


def test_an_unsupported_version_is_the_sdks_training_exception():
    with pytest.raises(TrainingException, match=r"^SKLearn 1\.0 is not currently supported by "
                                                r"the SKLearn estimator\."):
        SKLearn(".", framework_version="1.0")


def test_a_pin_pip_cannot_get_gives_way_to_the_newest(monkeypatch):
    tried = []

    def dry_run(requirement, *args):
        tried.append(requirement)
        return requirement != "torch==1.4.0", "ERROR: No matching distribution found for torch==1.4.0"
    monkeypatch.setattr(framework_pins, "_dry_run", dry_run)
    log = io.StringIO()
    framework = PyTorch(".").run_config.environment._to_spec().framework
    chosen, options, said = framework_pins.choose_framework_requirements(
        ("torch==1.4.0", "torchvision==0.5.0", "pandas"), framework, "3.11", "x86_64", True, (),
        log)
    assert chosen == ("torch", "torchvision==0.5.0", "pandas")
    assert options == ("--only-binary=torch", "--only-binary=torchvision")
    assert tried == ["torch==1.4.0", "torchvision==0.5.0"]
    assert log.getvalue() == "".join(line + "\n" for line in said)
    assert log.getvalue() == (
        "PyTorch 1.4 estimator: the SDK pins torch==1.4.0, which pip cannot get for Python 3.11 "
        "(x86_64): ERROR: No matching distribution found for torch==1.4.0; using the newest torch "
        "instead\nPyTorch 1.4 estimator: torchvision==0.5.0, the version the SDK pins\n")


def _estimator_pipeline(workspace, write, tmp_path):
    write("train/train.py", "import sklearn\nprint('scikit-learn', sklearn.__version__)\n")
    estimator = SKLearn(str(tmp_path / "train"), entry_script="train.py")
    step = EstimatorStep(name="fit", estimator=estimator, estimator_entry_script_arguments=[],
                         compute_target="local")
    run = Experiment(workspace, "sklearn").submit(Pipeline(workspace, [step]))
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.find_step_run("fit")
    build_log = tmp_path / "build_log.txt"
    step_run.download_file("azureml-logs/20_image_build_log.txt", str(build_log))
    return status, step_run, build_log.read_text()


def test_an_sklearn_estimator_step_runs_locally_and_says_what_is_not_installed(workspace, write,
                                                                               tmp_path):
    status, step_run, log = _estimator_pipeline(workspace, write, tmp_path)
    try:
        import sklearn  # noqa: F401  (the runner's own Python may have it)
        assert status == "Finished"
    except ImportError:
        assert status == "Failed"
    assert "local executor: environment packages scikit-learn==0.20.3 are not installed" in log


@pytest.mark.docker
def test_an_sklearn_estimator_step_in_docker_gets_scikit_learn(docker_workspace, write, tmp_path):
    status, step_run, log = _estimator_pipeline(docker_workspace, write, tmp_path)
    assert status == "Finished", log + step_run.get_stderr_log()
    installed = step_run.get_stdout_log().split()
    assert installed[0] == "scikit-learn" and int(installed[1].split(".")[0]) >= 1
    assert ("SKLearn 0.20.3 estimator: the SDK pins scikit-learn==0.20.3, which pip cannot get "
            "for Python 3.") in log
    assert f"SKLearn 0.20.3 estimator: installs scikit-learn {installed[1]}" in log
    assert os.path.getsize(tmp_path / "build_log.txt") > 0
