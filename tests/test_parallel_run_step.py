"""ParallelRunStep over a FileDataset, run for real: mini-batches in worker processes, the
append_row file, Azure's logs, retries, timeouts, thresholds, and what a user sees when the
entry script or the step is wrong."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.sdk import Dataset, Environment, Experiment, Pipeline, PipelineData, PipelineParameter
from runner.sdk.steps import ParallelRunConfig, ParallelRunStep

SCORE = """
    import argparse, os
    from azureml_user.parallel_run import EntryScript

    def init():
        global scale
        parser = argparse.ArgumentParser()
        parser.add_argument("--scale", type=int, default=1)
        args, _ = parser.parse_known_args()
        scale = args.scale
        EntryScript().logger.info("init with scale %s", scale)
        print("worker started")

    def run(mini_batch):
        rows = []
        for path in mini_batch:
            value = int(open(path).read())
            if value in FAIL_ON:
                raise ValueError(f"cannot score {value}")
            rows.append([os.path.basename(path), value * scale])
        return rows
"""


def _files(workspace, tmp_path, count: int, folder: str = "numbers") -> object:
    """A FileDataset of `count` files f00.txt … holding 0, 1, …"""
    data = tmp_path / "data" / folder
    data.mkdir(parents=True)
    for i in range(count):
        (data / f"f{i:02d}.txt").write_text(str(i))
    datastore = workspace.get_default_datastore()
    datastore.upload(str(data), target_path=folder, overwrite=True, show_progress=False)
    return Dataset.File.from_files(path=(datastore, folder))


def _config(tmp_path, **overrides) -> ParallelRunConfig:
    values = dict(environment=Environment("prs"), entry_script="score.py", error_threshold=-1,
                  output_action="append_row", compute_target="local", node_count=1,
                  process_count_per_node=2, mini_batch_size="3",
                  source_directory=str(tmp_path / "src"), run_invocation_timeout=30,
                  run_max_try=2)
    values.update(overrides)
    return ParallelRunConfig(**values)


def _script(write, fail_on=(), body: str = SCORE) -> None:
    write("src/score.py", f"FAIL_ON = {set(fail_on) or 'set()'}\n" + textwrap.dedent(body))


def _submit(workspace, step, **kwargs):
    run = Experiment(workspace, "prs").submit(Pipeline(workspace, [step]), **kwargs)
    status = run.wait_for_completion(show_output=False, raise_on_error=False)
    (step_run,) = run.get_steps()
    return status, step_run


def _artifacts(tmp_path, step_run) -> Path:
    (found,) = (tmp_path / ".amlocal" / "runs").glob(f"*/{step_run.id}/artifacts")
    return found


def _rows(workspace, step_run, port: str, name: str = "parallel_run_step.txt") -> list[str]:
    ref = step_run.get_output_data(port)
    path = workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore / name
    return path.read_text().splitlines()


def test_files_are_scored_in_mini_batches_by_two_workers_into_append_row_rows(workspace, write,
                                                                              tmp_path):
    _script(write)
    ds = _files(workspace, tmp_path, 10)
    out = PipelineData("scores")
    step = ParallelRunStep("score", _config(tmp_path), inputs=[ds.as_named_input("numbers")],
                           output=out, arguments=["--scale", 3])
    status, step_run = _submit(workspace, step)
    assert status == "Finished"
    assert _rows(workspace, step_run, "scores") == [f"f{i:02d}.txt {i * 3}" for i in range(10)]
    logs = _artifacts(tmp_path, step_run) / "logs"
    assert (logs / "job_result.txt").read_text().startswith(
        "Succeeded: 4 of 4 mini-batches succeeded, 0 failed; 10 items succeeded, 0 failed;")
    for n in (0, 1):
        entry_log = (logs / f"user/entry_script_log/node_0/process00{n}.log.txt").read_text()
        assert "init with scale 3" in entry_log
        assert (logs / f"user/stdout/node_0/process00{n}.stdout.txt").read_text() == \
            "worker started\n"
        assert "init() done" in (logs / f"sys/node/node_0/process00{n}.txt").read_text()
    overview = (logs / "job_progress_overview.txt").read_text().splitlines()
    assert overview[-1].split(" ", 2)[2].startswith("4/4 mini-batches done, 0 failed, ")
    assert overview[-1].endswith(" items/s")
    master = (logs / "sys/master_role.txt").read_text()
    assert "4 mini-batches of up to 3 files (10 files) for 2 worker process(es) on 1 node(s)" \
        in master
    metrics = step_run.get_metrics()
    assert metrics["Total MiniBatches"] == 4 and type(metrics["Total MiniBatches"]) is int
    assert metrics["Succeeded Items"] == 10 and metrics["Failed Items"] == 0
    assert metrics["Completed MiniBatches"][-1] == 4  # logged with each progress line


def test_a_failing_mini_batch_is_retried_then_counted_and_summarised(workspace, write, tmp_path):
    _script(write, fail_on={4})
    ds = _files(workspace, tmp_path, 9)
    out = PipelineData("scores")
    step = ParallelRunStep("score", _config(tmp_path, run_max_try=3, error_threshold=3),
                           inputs=[ds.as_named_input("numbers")], output=out)
    status, step_run = _submit(workspace, step)
    assert status == "Finished"  # 3 failed items: not above error_threshold 3
    assert _rows(workspace, step_run, "scores") == [f"f{i:02d}.txt {i}" for i in (0, 1, 2, 6, 7, 8)]
    logs = _artifacts(tmp_path, step_run) / "logs"
    errors = (logs / "job_error.txt").read_text()
    for attempt in (1, 2, 3):
        assert f"mini-batch 1 (3 files, try {attempt}): ValueError: cannot score 4" in errors
    assert "score.py" in errors  # the traceback names the entry script's line
    assert step_run.get_metrics()["Failed MiniBatches"] == 1


def test_error_threshold_exceeded_fails_the_step_with_the_counts(workspace, write, tmp_path):
    _script(write, fail_on={0, 5})
    ds = _files(workspace, tmp_path, 9)
    step = ParallelRunStep("score", _config(tmp_path, error_threshold=2, run_max_try=1),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Failed"
    error = step_run.get_details()["error"]
    assert "ParallelRunStep failed: error_threshold 2 exceeded (" in error
    assert "failed items" in error and "see logs/job_error.txt" in error


def test_allowed_failed_count_and_percent_fail_the_step(workspace, write, tmp_path):
    _script(write, fail_on={0, 3})
    ds = _files(workspace, tmp_path, 9)
    step = ParallelRunStep("score", _config(tmp_path, allowed_failed_count=1, run_max_try=1),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Failed"
    assert "allowed_failed_count 1 exceeded (6 failed items, 2 of 3 mini-batches failed" in \
        step_run.get_details()["error"]
    failed_metrics = step_run.get_metrics()  # a failed job still tells its counts
    assert (failed_metrics["Failed MiniBatches"], failed_metrics["Failed Items"]) == (2, 6)
    step = ParallelRunStep("score2", _config(tmp_path, allowed_failed_percent=50, run_max_try=1),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("s2"))
    status, step_run = _submit(workspace, step)
    assert status == "Failed"
    assert "allowed_failed_percent 50 exceeded (6 failed items, 2 of 3 mini-batches failed" in \
        step_run.get_details()["error"]


def test_a_run_past_run_invocation_timeout_is_killed_and_retried(workspace, write, tmp_path):
    write("src/score.py", """
        import os, time
        def run(mini_batch):
            marker = os.path.join(os.environ["MARKS"], "slow")
            if any(p.endswith("f00.txt") for p in mini_batch) and not os.path.exists(marker):
                open(marker, "w").close()
                time.sleep(30)
            return list(mini_batch)
    """)
    ds = _files(workspace, tmp_path, 4)
    marks = tmp_path / "marks"
    marks.mkdir()
    config = _config(tmp_path, run_invocation_timeout=1, run_max_try=2, process_count_per_node=1,
                     environment_variables={"MARKS": str(marks)})
    step = ParallelRunStep("score", config, inputs=[ds.as_named_input("numbers")],
                           output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Finished"
    assert len(_rows(workspace, step_run, "scores")) == 4
    errors = (_artifacts(tmp_path, step_run) / "logs" / "job_error.txt").read_text()
    assert "mini-batch 0 (3 files, try 1): run() did not return within run_invocation_timeout 1 s" \
        in errors


def test_run_with_a_context_summary_only_side_inputs_and_a_parameter(workspace, write, tmp_path):
    write("src/score.py", """
        import argparse, os
        def run(mini_batch, mini_batch_context):
            parser = argparse.ArgumentParser()
            parser.add_argument("--lookup")
            args, _ = parser.parse_known_args()
            extra = open(os.path.join(args.lookup, "extra.txt")).read().strip()
            out = os.environ["AZUREML_DATAREFERENCE_written"]
            with open(os.path.join(out, f"batch{mini_batch_context.minibatch_index}.txt"), "w") as f:
                f.write(extra + " " + str(len(mini_batch)))
            return [1] * len(mini_batch)
    """)
    ds = _files(workspace, tmp_path, 5)
    (tmp_path / "side_src").mkdir()
    (tmp_path / "side_src" / "extra.txt").write_text("hello")
    datastore = workspace.get_default_datastore()
    datastore.upload(str(tmp_path / "side_src"), target_path="side", overwrite=True,
                     show_progress=False)
    side = Dataset.File.from_files(path=(datastore, "side"))
    lookup = side.as_named_input("lookup").as_mount()
    written = PipelineData("written")
    per_node = PipelineParameter("per_node", default_value=1)
    config = _config(tmp_path, output_action="summary_only", process_count_per_node=per_node,
                     mini_batch_size=2)
    step = ParallelRunStep("score", config, inputs=[ds.as_named_input("numbers")],
                           side_inputs=[lookup], output=written, arguments=["--lookup", lookup])
    status, step_run = _submit(workspace, step, pipeline_parameters={"per_node": 2})
    assert status == "Finished"
    ref = step_run.get_output_data("written")
    folder = workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore
    assert sorted(p.name for p in folder.iterdir()) == ["batch0.txt", "batch1.txt", "batch2.txt"]
    assert (folder / "batch2.txt").read_text() == "hello 1"
    master = (_artifacts(tmp_path, step_run) / "logs/sys/master_role.txt").read_text()
    assert "for 2 worker process(es) on 1 node(s)" in master  # the parameter's submitted value


def test_an_entry_script_without_run_fails_the_step_saying_so(workspace, write, tmp_path):
    write("src/score.py", "def init():\n    pass\n")
    ds = _files(workspace, tmp_path, 3)
    step = ParallelRunStep("score", _config(tmp_path), inputs=[ds.as_named_input("numbers")],
                           output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: the entry script score.py has no run() function "
        "(ParallelRunStep calls init() once, then run(mini_batch) per mini-batch)")


def test_init_raising_fails_the_step_at_once_not_per_mini_batch(workspace, write, tmp_path):
    write("src/score.py", """
        def init():
            raise RuntimeError("model file missing")
        def run(mini_batch):
            return mini_batch
    """)
    ds = _files(workspace, tmp_path, 30)
    step = ParallelRunStep("score", _config(tmp_path, mini_batch_size=1),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: init() of the entry script score.py raised RuntimeError: "
        "model file missing")
    sys_logs = _artifacts(tmp_path, step_run) / "logs/sys/node/node_0"
    assert not any("mini-batch" in p.read_text() for p in sys_logs.iterdir())


def test_run_returning_the_wrong_type_fails_its_mini_batch_with_that_message(workspace, write,
                                                                             tmp_path):
    write("src/score.py", "def run(mini_batch):\n    return {'n': len(mini_batch)}\n")
    ds = _files(workspace, tmp_path, 3)
    step = ParallelRunStep("score", _config(tmp_path, error_threshold=0, run_max_try=1),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Failed"
    assert "error_threshold 0 exceeded (3 failed items, 1 of 1 mini-batches failed" in \
        step_run.get_details()["error"]
    errors = (_artifacts(tmp_path, step_run) / "logs/job_error.txt").read_text()
    assert ("mini-batch 0 (3 files, try 1): TypeError: run() returned dict; it must return a "
            "list (or a pandas DataFrame) with one element per item of the mini-batch it "
            "processed") in errors


def test_a_mini_batch_size_parameter_that_is_not_a_number_of_files_fails_the_step(workspace,
                                                                                  write, tmp_path):
    _script(write)
    ds = _files(workspace, tmp_path, 3)
    size = PipelineParameter("size", default_value="2")
    step = ParallelRunStep("score", _config(tmp_path, mini_batch_size=size),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step, pipeline_parameters={"size": "two"})
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: mini_batch_size 'two' is not a number of files (a FileDataset "
        "input is split into mini-batches of that many files)")


def test_inputs_that_are_not_a_file_dataset_are_refused_when_the_step_is_built(workspace, write,
                                                                               tmp_path):
    _script(write)
    config = _config(tmp_path)
    with pytest.raises(Exception, match=r"^Step input must be of any type: DatasetConsumptionConfig "
                                        r"\(of a FileDataset or a TabularDataset\), "
                                        r"OutputFileDatasetConfig, found "
                                        r"<class '.*PipelineData'>$"):
        ParallelRunStep("score", config, inputs=[PipelineData("raw")], output=PipelineData("o"))
    with pytest.raises(AssertionError, match="The parameter 'inputs' must be a list and have at "
                                             "least one element"):
        ParallelRunStep("score", config, inputs=[], output=PipelineData("o"))


def test_the_sdks_step_checks_and_messages(workspace, write, tmp_path):
    _script(write)
    ds = _files(workspace, tmp_path, 3)
    inputs = [ds.as_named_input("numbers")]
    config = _config(tmp_path)
    with pytest.raises(Exception, match="^Please specify output parameter.$"):
        ParallelRunStep("score", config, inputs=inputs)
    with pytest.raises(ValueError, match="^Found invalid argument 'x'. As your arguments will be "
                                         "merged with reserved argument, you can only use keyword "
                                         "argument.$"):
        ParallelRunStep("score", config, inputs=inputs, output=PipelineData("o"), arguments=["x"])
    with pytest.raises(ValueError, match="^'mini_batch_size' is a reserved argument in "
                                         "ParallelRunStep, please use another argument name "
                                         "instead.$"):
        ParallelRunStep("score", config, inputs=inputs, output=PipelineData("o"),
                        arguments=["--mini_batch_size=3"])
    with pytest.raises(Exception, match="^Param parallel_run_config must be a azureml.pipeline."
                                        "steps.ParallelRunConfig$"):
        ParallelRunStep("score", object(), inputs=inputs, output=PipelineData("o"))
    missing = _config(tmp_path, entry_script="nope.py")
    with pytest.raises(ValueError, match="^The value 'nope.py' specified in entry_script doesn't "
                                         "exist.$"):
        ParallelRunStep("score", missing, inputs=inputs, output=PipelineData("o"))


def test_the_step_compiles_to_a_parallel_spec_that_round_trips(workspace, write, tmp_path):
    from runner.spec import PipelineSpec, Token
    _script(write)
    ds = _files(workspace, tmp_path, 3)
    step = ParallelRunStep("score", _config(tmp_path, mini_batch_size="1KB",
                                            allowed_failed_percent=10),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("o"))
    spec = Pipeline(workspace, [step])._spec
    (compiled,) = spec.steps
    assert compiled.kind == "parallel" and compiled.type == "ParallelRunStep"
    assert compiled.parallel.mini_batch_size == Token("literal", "1024")
    assert compiled.parallel.allowed_failed_percent == 10.0
    assert type(compiled.parallel.allowed_failed_percent) is float
    assert compiled.parallel.inputs == ("numbers",) and compiled.parallel.output == "o"
    assert step.running_on_windows is False
    assert step.create_module_def("esCloud", [], [])["module_type"] == "BatchInferencing"
    assert PipelineSpec.loads(spec.dumps()) == spec


def test_a_rerun_processes_only_the_failed_and_changed_mini_batches(workspace, write, tmp_path):
    write("src/score.py", """
        import os
        def run(mini_batch):
            with open(os.path.join(os.environ["MARKS"], "calls.txt"), "a") as fh:
                fh.write(" ".join(os.path.basename(p) for p in mini_batch) + "\\n")
            rows = []
            for path in mini_batch:
                value = int(open(path).read())
                if value == 4 and not os.path.exists(os.path.join(os.environ["MARKS"], "fixed")):
                    raise ValueError("not yet")
                rows.append([os.path.basename(path), value])
            return rows
    """)
    ds = _files(workspace, tmp_path, 9)
    marks = tmp_path / "marks"
    marks.mkdir()
    config = _config(tmp_path, run_max_try=1, environment_variables={"MARKS": str(marks)})

    def submit():
        step = ParallelRunStep("score", config, inputs=[ds.as_named_input("numbers")],
                               output=PipelineData("scores"))
        return _submit(workspace, step)

    status, first = submit()
    assert status == "Finished" and first.get_metrics()["Failed MiniBatches"] == 1
    (marks / "fixed").touch()
    (marks / "calls.txt").unlink()
    datastore_numbers = workspace._local.layout.datastore_dir("workspaceblobstore") / "numbers"
    (datastore_numbers / "f08.txt").write_text("80")  # the last mini-batch changes
    status, second = submit()
    assert status == "Finished"
    assert sorted((marks / "calls.txt").read_text().splitlines()) == ["f03.txt f04.txt f05.txt",
                                                                      "f06.txt f07.txt f08.txt"]
    assert _rows(workspace, second, "scores") == [f"f{i:02d}.txt {i}" for i in range(8)] + \
        ["f08.txt 80"]
    master = (_artifacts(tmp_path, second) / "logs/sys/master_role.txt").read_text()
    assert "reused 1 of 3 mini-batches (unchanged files, entry script, environment and " \
           "settings)" in master
    metrics = second.get_metrics()
    assert (metrics["Reused MiniBatches"], metrics["Succeeded MiniBatches"]) == (1, 3)
    status, third = submit()  # nothing changed: the whole step is reused, as any step
    assert status == "Finished"
    assert third.get_details()["properties"].get("azureml.reusedrunid") == second.id


def test_an_earlier_steps_output_file_dataset_is_split_into_mini_batches(workspace, write,
                                                                         tmp_path):
    from runner.sdk import OutputFileDatasetConfig, PythonScriptStep
    write("prep/make.py", """
        import os, sys
        out = sys.argv[1]
        os.makedirs(out, exist_ok=True)
        for i in range(5):
            open(os.path.join(out, f"f{i:02d}.txt"), "w").write(str(i * 10))
    """)
    _script(write)
    prepared = OutputFileDatasetConfig(name="prepared")
    prep = PythonScriptStep("make.py", name="prep", arguments=[prepared],
                            source_directory=str(tmp_path / "prep"))
    scores = OutputFileDatasetConfig(name="scores")
    score = ParallelRunStep("score", _config(tmp_path, mini_batch_size=2,
                                             append_row_file_name="scores.txt"),
                            inputs=[prepared.as_input("prepared")], output=scores)
    run = Experiment(workspace, "prs").submit(Pipeline(workspace, [prep, score]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("score")
    assert _rows(workspace, step_run, "scores", "scores.txt") == \
        [f"f{i:02d}.txt {i * 10}" for i in range(5)]


@pytest.mark.docker
def test_workers_retries_and_init_failures_behave_the_same_in_docker(docker_workspace, write,
                                                                     tmp_path):
    _script(write, fail_on={1})
    ds = _files(docker_workspace, tmp_path, 6)
    step = ParallelRunStep("score", _config(tmp_path, run_max_try=2),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(docker_workspace, step)
    assert status == "Finished"
    assert _rows(docker_workspace, step_run, "scores") == [f"f{i:02d}.txt {i}" for i in (3, 4, 5)]
    errors = (_artifacts(tmp_path, step_run) / "logs/job_error.txt").read_text()
    assert "mini-batch 0 (3 files, try 2): ValueError: cannot score 1" in errors
    write("src/score.py", "def init():\n    raise OSError('no model')\ndef run(b):\n    return b\n")
    status, step_run = _submit(docker_workspace, ParallelRunStep(
        "score2", _config(tmp_path), inputs=[ds.as_named_input("numbers")],
        output=PipelineData("s2")))
    assert status == "Failed"
    assert step_run.get_details()["error"].endswith(
        "ParallelRunStep failed: init() of the entry script score.py raised OSError: no model")


def test_amlocal_logs_of_a_parallel_step_summarises_its_azure_layout_logs(workspace, write, tmp_path):
    from tests.conftest import amlocal
    _script(write, fail_on={4})
    ds = _files(workspace, tmp_path, 9)
    step = ParallelRunStep("score", _config(tmp_path, run_max_try=1, error_threshold=3),
                           inputs=[ds.as_named_input("numbers")], output=PipelineData("scores"))
    status, step_run = _submit(workspace, step)
    assert status == "Finished"
    done = amlocal("logs", step_run._pipeline_run_id[:8], "score", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tail = done.stdout.split("----- ParallelRunStep logs (kept with the step run, in Azure's layout) -----\n")[1]
    lines = tail.splitlines()
    assert lines[0].split(" ", 2)[2].startswith("2/3 mini-batches done, 1 failed, ")
    assert lines[1] == "failed mini-batches (logs/job_error.txt):"
    assert "mini-batch 1 (3 files, try 1): ValueError: cannot score 4" in tail
    assert lines[-1].startswith("worker logs (") and "logs/user/stdout/" in lines[-1]
