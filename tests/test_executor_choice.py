"""Which executor runs a run, what limits a step gets, and the errors that name the fix."""
from __future__ import annotations

import pytest

from runner.engine.compute_limits import ComputeLimitError, host_capacity, step_limits
from runner.engine.executor_choice import ExecutorChoiceError, choose_executor
from runner.executors.docker_engine import explain
from runner.executors.images import ImageRecipe, UnbuildableEnvironment, conda_to_pip
from runner.sdk import (AmlCompute, ComputeTarget, Environment, Experiment, Pipeline,
                        PythonScriptStep, RunConfiguration)
from runner.spec import StepSpec
from runner.step_runtime.exceptions import ActivityFailedException
from store.settings import SettingsError, write_setting
from tests.conftest import amlocal

NOWHERE = "unix:///nonexistent/docker.sock"


def _step(fields: dict) -> StepSpec:
    """A StepSpec with just `fields` (as the spec's JSON has them) set."""
    return StepSpec.from_json({"node_id": "n1", "name": "s", **fields})


def test_no_engine_means_local_processes_and_the_reason_is_given(workspace, monkeypatch):
    monkeypatch.delenv("AMLOCAL_EXECUTOR")
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setattr("runner.executors.docker_engine._client", None)
    choice = choose_executor(workspace._local.layout)
    assert choice.name == "local"
    assert choice.why == "steps run as local processes: no Docker engine answered (auto)"


def test_docker_asked_for_without_an_engine_is_one_error_naming_the_fix(workspace, monkeypatch):
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "docker")
    monkeypatch.setenv("DOCKER_HOST", NOWHERE)
    monkeypatch.setattr("runner.executors.docker_engine._client", None)
    with pytest.raises(ExecutorChoiceError) as err:
        choose_executor(workspace._local.layout)
    assert str(err.value).startswith("executor docker was asked for ($AMLOCAL_EXECUTOR), "
                                     f"but no Docker engine answered at {NOWHERE}")
    assert "scripts/ensure-docker.sh" in str(err.value) and "--executor local" in str(err.value)


def test_the_workspace_setting_chooses_unless_the_command_line_does(workspace, monkeypatch):
    layout = workspace._local.layout
    monkeypatch.delenv("AMLOCAL_EXECUTOR")
    write_setting(layout, "executor", "local")
    assert choose_executor(layout).why == "steps run as local processes (workspace setting)"
    with pytest.raises(SettingsError, match="setting executor takes one of auto, docker, local, not 'podman'"):
        write_setting(layout, "executor", "podman")
    monkeypatch.setenv("AMLOCAL_EXECUTOR", "bogus")
    with pytest.raises(ExecutorChoiceError, match="executor 'bogus' .* is not one of auto, docker, local"):
        choose_executor(layout)


def test_amlocal_config_sets_shows_and_unsets(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    assert amlocal("config", "executor", "local", cwd=tmp_path, env=env).returncode == 0
    shown = amlocal("config", cwd=tmp_path, env=env).stdout.splitlines()
    assert shown[0].split()[:2] == ["base_image", "(not"] and shown[1].split()[:2] == ["executor", "local"]
    bad = amlocal("config", "colour", "red", cwd=tmp_path, env=env)
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("amlocal: error: unknown setting 'colour'; "
                                  "settings: base_image, executor, image_map, reuse, service_runs")
    amlocal("config", "--unset", "executor", cwd=tmp_path, env=env)
    assert amlocal("config", "executor", cwd=tmp_path, env=env).stdout.split()[1] == "(not"


def test_vm_size_becomes_limits_clamped_to_this_machine(workspace):
    ComputeTarget.create(workspace, "small", AmlCompute.provisioning_configuration(
        vm_size="Standard_D1_v2", max_nodes=2))
    ComputeTarget.create(workspace, "huge", AmlCompute.provisioning_configuration(
        vm_size="STANDARD_NC24", max_nodes=1, tags={"amlocal.network": "none"}))
    ComputeTarget.create(workspace, "odd", AmlCompute.provisioning_configuration(
        vm_size="Standard_Z9", max_nodes=1))
    conn = workspace._local.conn
    small, notes = step_limits(conn, _step({"compute_target": "small"}))
    assert (small.cpus, small.memory_mb, small.network, notes) == (1, 3584, None, [])
    cpus, memory = host_capacity()
    huge, notes = step_limits(conn, _step({"compute_target": "huge"}))
    assert (huge.cpus, huge.memory_mb, huge.network) == (min(24, cpus), min(229376, memory), "none")
    assert any(n.startswith("24 CPUs asked for, this machine has") for n in notes) == (cpus < 24)
    odd, notes = step_limits(conn, _step({"compute_target": "odd"}))
    assert (odd.cpus, odd.memory_mb) == (None, None)
    assert notes == ["vm_size Standard_Z9 is not in amlocal's table of VM sizes; no CPU or memory limit"]
    # Docker arguments of the run configuration override the compute target.
    spec = {"compute_target": "small", "runconfig": {"max_run_duration_seconds": 5, "environment": {
        "docker_arguments": ["--cpus=0.5", "-m", "1g", "--network", "none"]}}}
    override, _ = step_limits(conn, _step(spec))
    assert (override.cpus, override.memory_mb, override.network, override.timeout_seconds) == \
        (0.5, 1024, "none", 5)
    with pytest.raises(ComputeLimitError, match="--memory 'lots': use a size such as 512m or 2g"):
        step_limits(conn, _step({"runconfig": {"environment": {"docker_arguments": ["--memory", "lots"]}}}))


def test_conda_packages_become_pip_requirements_or_a_clear_error():
    assert conda_to_pip("numpy=1.26.4") == "numpy==1.26.4"
    assert conda_to_pip("scikit-learn=1.3") == "scikit-learn==1.3.*"
    assert conda_to_pip("conda-forge::pandas>=2") == "pandas>=2"
    assert conda_to_pip("python=3.11") is None and conda_to_pip("pip") is None
    env = Environment("e")
    env.python.conda_dependencies.add_conda_package("numpy=1.26.4")
    env.python.conda_dependencies.add_pip_package("six")
    recipe = ImageRecipe.from_environment(env._to_spec(), "base:1")
    assert (recipe.base_image, recipe.requirements) == ("base:1", ("numpy==1.26.4", "six"))
    env.docker.base_dockerfile = "FROM scratch"
    with pytest.raises(UnbuildableEnvironment, match="docker.base_dockerfile is not built by amlocal"):
        ImageRecipe.from_environment(env._to_spec(), "base:1")
    # The SDK's default image is Azure's; locally the configured base image stands in for it.
    assert ImageRecipe.from_environment(Environment("d")._to_spec(), "base:1").base_image == "base:1"


def test_engine_errors_name_the_fix():
    class APIError(Exception):
        explanation = "write /var/lib/docker/tmp/x: no space left on device"
    message = str(explain(APIError(), "creating the container of step run s1"))
    assert message.startswith("creating the container of step run s1: Docker ran out of disk space")
    assert "docker system prune" in message


def test_a_limit_that_cannot_be_read_fails_the_step_and_says_why(workspace, write, tmp_path):
    write("steps/a.py", "print('a')\n")
    config = RunConfiguration()
    config.environment.docker.arguments = ["--cpus", "many"]
    step = PythonScriptStep("a.py", name="a", source_directory=str(tmp_path / "steps"), runconfig=config)
    run = Experiment(workspace, "limits").submit(Pipeline(workspace, [step]))
    with pytest.raises(ActivityFailedException, match="step a: --cpus 'many': use a number such as 1.5"):
        run.wait_for_completion(show_output=False)
