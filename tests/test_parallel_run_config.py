"""ParallelRunConfig as the SDK defines it (parameters, defaults, checks and their messages,
YAML), where the SDK's names import from, and the driver's pure parts (mini-batches, worker
layout, append_row rows, failure limits)."""
from __future__ import annotations

import pytest

from runner.sdk import AmlCompute, ComputeTarget, Environment, PipelineParameter
from runner.sdk.steps import ParallelRunConfig
from runner.step_runtime.parallel_driver import parse_arguments, worker_layout
from runner.step_runtime.parallel_jobs import Job, JobFailed, MiniBatch, mini_batches
from runner.step_runtime.parallel_worker import result_rows


def _config(**overrides) -> ParallelRunConfig:
    values = dict(environment=Environment("prs"), entry_script=" score.py ", error_threshold=5,
                  output_action="append_row", compute_target="local", node_count=1)
    values.update(overrides)
    return ParallelRunConfig(**values)


def test_defaults_are_the_sdks():
    config = _config()
    assert config.entry_script == "score.py"
    assert config.logging_level == "INFO"
    assert config.run_invocation_timeout == 60 and type(config.run_invocation_timeout) is int
    assert config.run_max_try == 3 and type(config.run_max_try) is int
    assert config.mini_batch_size is None and config.process_count_per_node is None
    assert config.append_row_file_name is None and config.partition_keys is None
    assert config.environment_variables == {}


@pytest.mark.parametrize("text, size", [("5", 5), ("1KB", 1024), ("10mb", 10 * 1024 ** 2),
                                        ("1GB", 1024 ** 3)])
def test_mini_batch_size_text_becomes_an_int(text, size):
    config = _config(mini_batch_size=text)
    assert config.mini_batch_size == size and type(config.mini_batch_size) is int


@pytest.mark.parametrize("overrides, message", [
    ({"environment": None}, "Parameter environment is required. It should be instance of "
                            "azureml.core.Environment."),
    ({"environment": "env"}, "Parameter environment must be an instance of azureml.core."
                             "Environment. The actual value is env."),
    ({"output_action": "append"}, "Parameter output_action must be summary_only or append_row."),
    ({"error_threshold": -2}, "error_threshold '-2' is not an int value greater than or equal "
                              "to -1."),
    ({"error_threshold": 1.5}, "error_threshold '1.5' is not an int value greater than or equal "
                               "to -1."),
    ({"allowed_failed_count": -3}, "allowed_failed_count '-3' is not an int value greater than "
                                   "or equal to -1."),
    ({"allowed_failed_percent": "10"}, "allowed_failed_percent '10' is not an int or float."),
    ({"allowed_failed_percent": 101}, "allowed_failed_percent '101' is not between 0 and 100."),
    ({"mini_batch_size": 5, "partition_keys": ["a"]},
     "Parameters mini_batch_size and partition_keys are mutually exclusive, because they "
     "specify different ways to partition the input datasets into mini-batches."),
    ({"mini_batch_size": 2.5}, "Parameter mini_batch_size must be of type int or str."),
    ({"mini_batch_size": "5 files"},
     r"Parameter mini_batch_size must follow regex rule ^\d+([kKmMgG][bB])*$."),
    ({"partition_keys": "a"}, "Parameter partition_keys must be of type list."),
    ({"partition_keys": ["a", 1]}, "Element 1 in partition_keys is not a str."),
    ({"partition_keys": PipelineParameter("keys", "a,b")},
     "default_value of PipelineParameter partition_keys must be json dump result of a list of "
     "str, try json.loads the value to validate."),
    ({"process_count_per_node": 0},
     "Parameter process_count_per_node must be an integer greater than 0."),
    ({"run_invocation_timeout": 0},
     "Parameter run_invocation_timeout must be an integer greater than 0."),
    ({"run_max_try": 0}, "Parameter run_max_try must be an integer greater than 0."),
    ({"append_row_file_name": "out:1.txt"},
     "Parameter append_row_file_name must be a valid UNIX file name."),
])
def test_bad_settings_are_refused_with_the_sdks_message(overrides, message):
    with pytest.raises(ValueError) as raised:
        _config(**overrides)
    assert str(raised.value) == message


def test_node_count_is_checked_against_the_clusters_max_nodes(workspace):
    target = ComputeTarget.create(workspace, "cpu", AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D2_V2", max_nodes=2))
    assert _config(compute_target=target, node_count=2).node_count == 2
    with pytest.raises(ValueError) as raised:
        _config(compute_target=target, node_count=3)
    assert str(raised.value) == "node_count '3' is not between 1 and max_nodes 2."


def test_save_to_yaml_and_load_yaml_round_trip(workspace, tmp_path):
    ComputeTarget.create(workspace, "cpu", AmlCompute.provisioning_configuration(
        vm_size="STANDARD_D2_V2", max_nodes=4))
    env = Environment("scoring")
    env.environment_variables = {"MODE": "batch"}
    config = _config(environment=env, compute_target="cpu", node_count=2,
                     process_count_per_node=PipelineParameter("ppn", 3), mini_batch_size="2KB",
                     description="score", logging_level="DEBUG", run_invocation_timeout=30,
                     run_max_try=5, append_row_file_name="rows.txt", allowed_failed_count=4,
                     allowed_failed_percent=12.5, environment_variables={"A": "1"})
    path = tmp_path / "prs.yml"
    config.save_to_yaml(str(path))
    assert path.read_text().startswith("parallel_run_config:\n  mini_batch_size: 2048\n")
    loaded = ParallelRunConfig.load_yaml(workspace, str(path))
    assert isinstance(loaded, ParallelRunConfig)
    assert loaded.compute_target.name == "cpu" and loaded.compute_target.max_nodes == 4
    assert (loaded.mini_batch_size, loaded.node_count, loaded.process_count_per_node) == (2048, 2, 3)
    assert (loaded.run_invocation_timeout, loaded.run_max_try, loaded.logging_level) == \
        (30, 5, "DEBUG")
    assert (loaded.allowed_failed_count, loaded.allowed_failed_percent) == (4, 12.5)
    assert loaded.append_row_file_name == "rows.txt" and loaded.description == "score"
    assert loaded.environment.name == "scoring"
    assert loaded.environment.environment_variables == {"MODE": "batch"}
    assert loaded.environment_variables == {"A": "1"}
    (tmp_path / "bad.yml").write_text("other: 1\n")
    with pytest.raises(ValueError, match="holds a 'parallel_run_config:' mapping"):
        ParallelRunConfig.load_yaml(workspace, str(tmp_path / "bad.yml"))


def test_the_sdks_import_paths_give_amlocals_classes():
    import subprocess
    import sys
    from tests.conftest import REPO
    code = ("from azureml.pipeline.steps import ParallelRunStep, ParallelRunConfig\n"
            "from azureml.pipeline.steps.parallel_run_step import ParallelRunStep as S\n"
            "from azureml.pipeline.steps.parallel_run_config import ParallelRunConfig as C\n"
            "from azureml.pipeline.core._parallel_run_step_base import _ParallelRunStepBase\n"
            "from azureml.pipeline.core._parallel_run_config_base import _ParallelRunConfigBase\n"
            "from azureml_user.parallel_run import EntryScript\n"
            "assert S is ParallelRunStep is _ParallelRunStepBase\n"
            "assert C is ParallelRunConfig is _ParallelRunConfigBase\n"
            "print(ParallelRunStep.__module__, type(EntryScript().logger).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": f"{REPO / 'runner' / 'compat'}:{REPO}"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "runner.sdk.steps.parallel_run_step Logger\n"


def test_mini_batches_cut_each_inputs_files_in_order(tmp_path):
    for folder, count in (("a", 5), ("b", 2)):
        (tmp_path / folder / "sub").mkdir(parents=True)
        for i in range(count):
            (tmp_path / folder / ("sub" if i % 2 else "") / f"{i}.txt").write_text("x")
    batches = mini_batches([("a", str(tmp_path / "a")), ("b", str(tmp_path / "b"))], 2)
    names = [(b.index, b.dataset, [p[len(str(tmp_path)) + 1:] for p in b.files]) for b in batches]
    assert names == [(0, "a", ["a/0.txt", "a/2.txt"]), (1, "a", ["a/4.txt", "a/sub/1.txt"]),
                     (2, "a", ["a/sub/3.txt"]), (3, "b", ["b/0.txt", "b/sub/1.txt"])]


def test_workers_are_bounded_by_max_nodes_and_cores_and_it_is_said():
    assert worker_layout(1, 2, None, 2) == ([(0, 0), (0, 1)], [])
    layout, notes = worker_layout(3, 2, 2, 8)
    assert layout == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert notes == ["node_count 3 is more than the compute target's max_nodes 2: 2 node(s)"]
    layout, notes = worker_layout(2, 4, None, 2)
    assert layout == [(0, 0), (1, 0)]
    assert notes == ["2 node(s) x 4 process(es) = 8 workers asked; this machine has 2 cores: "
                     "2 workers"]
    layout, notes = worker_layout(1, None, None, 3)
    assert layout == [(0, 0), (0, 1), (0, 2)]
    assert notes == ["process_count_per_node not set: 3 (this machine's cores)"]


def test_append_row_rows_are_space_separated_values():
    assert result_rows(["a b", ("x", 1, 2.5), [3]]) == ["a b", "x 1 2.5", "3"]
    assert result_rows([]) == []
    with pytest.raises(TypeError, match="^run\\(\\) returned NoneType; it must return a list"):
        result_rows(None)


def test_the_driver_keeps_the_entry_scripts_own_options_out_of_its_way():
    options = parse_arguments(["--scoring_module_name", "s.py", "--mini_batch_size", "4",
                               "--error_threshold", "2", "--model", "m", "--input_fds_0", "data",
                               "--input_fds_1", "more"])
    assert (options.scoring_module_name, options.mini_batch_size) == ("s.py", "4")
    assert options.error_threshold == 2 and type(options.error_threshold) is int
    assert options.inputs == ["data", "more"]


def test_failure_limits_count_items_and_final_mini_batch_failures():
    batches = [MiniBatch(i, "d", ("f1", "f2")) for i in range(4)]
    job = Job(batches, error_threshold=-1, allowed_failed_count=None,
              allowed_failed_percent=None, run_max_try=2)
    first = job.next_batch()
    job.attempt_failed(first.index, "ValueError: x")
    assert (job.failed_items, len(job.failed), list(job.pending)) == (0, 0, [1, 2, 3, 0])
    for _ in range(3):
        batch = job.next_batch()
        job.succeeded(batch.index, ["r"], 1)  # one of two items returned: one failed item
    assert job.failed_items == 3 and job.succeeded_items == 3
    again = job.next_batch()
    job.attempt_failed(again.index, "ValueError: x")
    assert job.finished and job.failed == {0} and job.failed_items == 5
    strict = Job(batches, error_threshold=1, allowed_failed_count=None,
                 allowed_failed_percent=None, run_max_try=1)
    batch = strict.next_batch()
    with pytest.raises(JobFailed) as raised:
        strict.attempt_failed(batch.index, "ValueError: x")
    assert str(raised.value) == ("error_threshold 1 exceeded (2 failed items, 1 of 4 mini-batches "
                                 "failed; see logs/job_error.txt)")
