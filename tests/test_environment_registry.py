"""The environment registry: `Environment.register`, `get`, `list`, `label` and
`workspace.environments`, as the SDK's; a registered environment runs in the same image, with
the same step fingerprint, as the environment it was registered from."""
from __future__ import annotations

import pytest

from runner.executors.images import ImageRecipe
from runner.sdk import Experiment, Pipeline, PythonScriptStep, RunConfiguration
from runner.sdk.conda_dependencies import CondaDependencies
from runner.sdk.environment import DEFAULT_CPU_IMAGE, Environment
from runner.step_runtime.exceptions import UserErrorException
from store import registry

CONDA = """\
name: project_environment
channels:
  - pytorch
  - conda-forge
dependencies:
  - python=3.10.4
  - numpy=1.26
  - pip:
    - --extra-index-url https://example.org/simple
    - scikit-learn==1.4.2
"""


def _environments(tmp_path) -> list[Environment]:
    """Environments of every shape a script builds."""
    (tmp_path / "env.yml").write_text(CONDA)
    (tmp_path / "requirements.txt").write_text("pandas==2.2.2\n--pre\nrequests\n")
    conda = Environment.from_conda_specification("conda", str(tmp_path / "env.yml"))
    conda.environment_variables = {"MODE": "fast", "LEVEL": "3"}
    conda.docker.arguments = ["--ipc=host"]
    conda.docker.shm_size = "4g"
    pip = Environment.from_pip_requirements("pip", str(tmp_path / "requirements.txt"), "23.0")
    image = Environment.from_docker_image("image", "python:3.11-slim")
    dockerfile = Environment.from_dockerfile("dockerfile", "FROM python:3.11-slim\nRUN true\n",
                                             pip_requirements=str(tmp_path / "requirements.txt"))
    plain = Environment("plain")
    plain.python.conda_dependencies = CondaDependencies.create(pip_packages=["numpy"])
    plain.python.interpreter_path = "/opt/python/bin/python"
    plain.docker.enabled = True
    plain._framework = {"name": "PyTorch", "version": "1.13", "pins": ["torch==1.13.1"]}
    return [conda, pip, image, dockerfile, plain]


def test_register_returns_the_registered_environment_with_the_sdks_string_version(workspace):
    env = Environment.from_docker_image("train-env", "python:3.11-slim")
    registered = env.register(workspace)
    assert isinstance(registered, Environment) and registered is not env
    assert registered.version == "1" and type(registered.version) is str
    assert registered.name == "train-env"
    assert env.version is None  # the SDK returns a new object and leaves this one alone
    record = registry.get_version(workspace._local.conn, "environment", "train-env")
    assert record.version == 1
    assert registered.asset_id == record.id and env.asset_id is None
    assert record.definition["spec"] == env._to_spec().to_json()
    assert record.definition["sdk"] == {"baseImage": "python:3.11-slim", "enabled": False,
                                        "sharedVolumes": True, "interpreterPath": "python"}
    assert record.definition["channels"] == ["conda-forge"]
    assert (record.made_by_step_run_id, record.made_by_pipeline_run_id) == (None, None)


def test_an_unchanged_definition_returns_its_version_and_a_changed_one_adds_one(workspace):
    env = Environment("e")
    env.python.conda_dependencies.add_pip_package("numpy==1.26.4")
    assert env.register(workspace).version == "1"
    assert env.register(workspace).version == "1"
    assert Environment.get(workspace, "e").register(workspace).version == "1"
    env.python.conda_dependencies.add_pip_package("pandas")
    assert env.register(workspace).version == "2"
    assert env.register(workspace).version == "2"
    env.environment_variables["X"] = "1"
    assert env.register(workspace).version == "3"
    versions = registry.list_versions(workspace._local.conn, "environment", "e")
    assert [r.version for r in versions] == [3, 2, 1]
    # back to version 1's definition: a new version, as only the latest is compared
    first = Environment("e")
    first.python.conda_dependencies.add_pip_package("numpy==1.26.4")
    assert first.register(workspace).version == "4"


def test_a_round_trip_keeps_the_spec_the_image_and_the_fingerprint(workspace, tmp_path):
    for env in _environments(tmp_path):
        env.register(workspace)
        got = Environment.get(workspace, env.name)
        assert got._to_spec() == env._to_spec(), env.name
        assert got._to_spec().identity() == env._to_spec().identity()
        if not env.docker.base_dockerfile:
            assert (ImageRecipe.from_environment(got._to_spec(), "base:1")
                    == ImageRecipe.from_environment(env._to_spec(), "base:1"))
        # and what the spec leaves out, the SDK's fields
        assert got.docker.base_image == env.docker.base_image
        assert got.docker.base_dockerfile == env.docker.base_dockerfile
        assert got.docker.enabled is env.docker.enabled
        assert got.python.interpreter_path == env.python.interpreter_path
        assert got.python.conda_dependencies.conda_channels == env.python.conda_dependencies.conda_channels
        assert got.python.conda_dependencies.pip_options == env.python.conda_dependencies.pip_options
        assert got.version == "1"
    conda = Environment.get(workspace, "conda")
    assert conda.python.conda_dependencies.conda_channels == ["conda-forge", "pytorch"]
    assert conda.python.conda_dependencies.get_python_version() == "3.10.4"
    assert conda.environment_variables == {"MODE": "fast", "LEVEL": "3"}
    default = Environment("default-image")
    assert default.docker.base_image == DEFAULT_CPU_IMAGE
    default.register(workspace)
    assert Environment.get(workspace, "default-image").docker.base_image == DEFAULT_CPU_IMAGE
    assert Environment.get(workspace, "default-image")._to_spec().base_image is None


def test_get_gives_the_latest_or_the_version_asked(workspace):
    env = Environment("e")
    env.register(workspace)
    env.environment_variables["A"] = "1"
    env.register(workspace)
    latest = Environment.get(workspace, "e")
    assert latest.version == "2" and latest.environment_variables == {"A": "1"}
    first = Environment.get(workspace, "e", version="1")
    assert first.version == "1" and first.environment_variables == {}
    assert Environment.get(workspace, "e", version=1).version == "1"  # an int works too


def test_get_of_what_is_not_registered_names_what_is(workspace):
    with pytest.raises(UserErrorException) as unknown:
        Environment.get(workspace, "nope")
    assert str(unknown.value) == ("Error retrieving the environment definition. Code: 404: no "
                                  "environment named nope is registered in this workspace")
    Environment("e").register(workspace)
    with pytest.raises(UserErrorException) as missing:
        Environment.get(workspace, "e", version="7")
    assert str(missing.value) == ("Error retrieving the environment definition. Code: 404: "
                                  "environment e has no version 7 (versions: 1)")
    with pytest.raises(UserErrorException, match="Only one of version or label can be specified"):
        Environment.get(workspace, "e", version="1", label="prod")


def test_curated_names_keep_their_message_and_cannot_be_registered(workspace):
    with pytest.raises(UserErrorException) as curated:
        Environment.get(workspace, "AzureML-Minimal")
    assert str(curated.value).startswith("Environment AzureML-Minimal is a curated Azure ML "
                                         "environment, which exists only in Azure: ")
    with pytest.raises(UserErrorException) as reserved:
        Environment("AzureML-Mine").register(workspace)
    assert str(reserved.value) == ("Environment names starting with AzureML- are reserved for "
                                   "Azure ML's curated environments: register AzureML-Mine under "
                                   "another name")


def test_list_and_workspace_environments_give_each_name_at_its_latest_version(workspace):
    assert Environment.list(workspace) == {} and workspace.environments == {}
    Environment("b").register(workspace)
    a = Environment("a")
    a.register(workspace)
    a.environment_variables["X"] = "y"
    a.register(workspace)
    listed = Environment.list(workspace)
    assert type(listed) is dict and list(listed) == ["a", "b"]
    assert {name: env.version for name, env in listed.items()} == {"a": "2", "b": "1"}
    assert all(type(env) is Environment for env in listed.values())
    assert listed["a"].environment_variables == {"X": "y"}
    assert {n: e.version for n, e in workspace.environments.items()} == {"a": "2", "b": "1"}


def test_a_label_names_one_version(workspace):
    env = Environment("e")
    env.register(workspace)
    env.environment_variables["A"] = "1"
    env.register(workspace)
    with pytest.raises(UserErrorException) as none:
        Environment.get(workspace, "e", label="prod")
    assert str(none.value) == ("Error retrieving the environment definition e with label prod. "
                               "Code: 404: no version of environment e has a label")
    Environment.label(workspace, "e", "1", ["prod", "stable"])
    assert Environment.get(workspace, "e", label="prod").version == "1"
    Environment.label(workspace, "e", "2", ["prod"])
    assert Environment.get(workspace, "e", label="prod").version == "2"
    assert Environment.get(workspace, "e", label="stable").version == "1"
    with pytest.raises(UserErrorException) as other:
        Environment.get(workspace, "e", label="beta")
    assert str(other.value) == ("Error retrieving the environment definition e with label beta. "
                                "Code: 404: environment e has labels 1: stable; 2: prod")
    with pytest.raises(UserErrorException) as bad:
        Environment.label(workspace, "e", "9", ["x"])
    assert str(bad.value) == ("Error retrieving the environment definition. Code: 404: "
                              "environment e has no version 9 (versions: 1, 2)")


def test_clone_is_unregistered(workspace):
    registered = Environment("e").register(workspace)
    copy = registered.clone("f")
    assert (copy.name, copy.version, copy.asset_id) == ("f", None, None)
    with pytest.raises(UserErrorException, match="Name is required"):
        registered.clone("")


def test_a_step_with_the_registered_environment_reuses_the_step_of_the_original(workspace, write,
                                                                                  tmp_path):
    write("step/hello.py", "print('hello')\n")
    env = Environment("steps")
    env.python.user_managed_dependencies = True
    env.environment_variables = {"GREETING": "hi"}

    def submit(environment: Environment):
        config = RunConfiguration()
        config.environment = environment
        step = PythonScriptStep("hello.py", name="hello", source_directory=str(tmp_path / "step"),
                                runconfig=config)
        run = Experiment(workspace, "envs").submit(Pipeline(workspace, [step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        return run.find_step_run("hello")[0]._record()

    first = submit(env)
    env.register(workspace)
    second = submit(Environment.get(workspace, "steps"))
    assert first.decision == "run"
    assert (second.decision, second.reason) == ("reused", f"reused from {first.pipeline_run_id[:8]}/hello")


def test_a_parallel_run_config_yaml_names_a_registered_environment(workspace, tmp_path):
    from runner.sdk.steps.parallel_run_config import ParallelRunConfig
    env = Environment.from_docker_image("batch-env", "python:3.11-slim")
    env.register(workspace)
    (tmp_path / "prc.yml").write_text(
        "parallel_run_config:\n  environment_name: batch-env\n  entry_script: score.py\n"
        "  mini_batch_size: 2\n  error_threshold: 1\n  output_action: append_row\n"
        "  node_count: 1\n  compute_target_name: local\n")
    config = ParallelRunConfig.load_yaml(workspace, str(tmp_path / "prc.yml"))
    assert config.environment.version == "1"
    assert config.environment._to_spec() == env._to_spec()


def test_a_step_that_runs_in_a_registered_environment_is_recorded_as_its_user(workspace, write,
                                                                                tmp_path):
    write("step/hello.py", "print('hello')\n")
    env = Environment("lineage")
    env.python.user_managed_dependencies = True
    registered = env.register(workspace)
    config = RunConfiguration()
    config.environment = Environment.get(workspace, "lineage")
    step = PythonScriptStep("hello.py", name="hello", source_directory=str(tmp_path / "step"),
                            runconfig=config, allow_reuse=False)
    run = Experiment(workspace, "envs").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("hello")
    used = registry.used_by_step_run(workspace._local.conn, step_run.id)
    assert [(a.kind, a.name, a.version, a.id) for a in used] == [
        ("environment", "lineage", 1, registered.asset_id)]
