"""What a step script sees, and what the runner records about it (local executor)."""
from __future__ import annotations

import json
import os

import pytest

from runner.sdk import (Datastore, Experiment, OutputFileDatasetConfig, Pipeline, PipelineData,
                        PipelineParameter, PythonScriptStep)
from runner.step_runtime.exceptions import ActivityFailedException

PROBE = """
    import json, os, sys
    from azureml.core import Run
    run = Run.get_context()
    seen = {"argv": sys.argv[1:], "cwd": os.getcwd(),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("AZUREML_", "AML_PARAMETER_"))},
            "same_run": Run.get_context() is run, "run_id": run.id}
    out = os.environ["AZUREML_DATAREFERENCE_probe_out"]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "seen.json"), "w").write(json.dumps(seen))
    run.log("accuracy", 0.5); run.log("accuracy", 0.75); run.log_list("curve", [1, 2, 3])
    run.tag("stage", "probe"); run.parent.log("from_step", 1)
    os.makedirs("outputs", exist_ok=True); open("outputs/model.txt", "w").write("m")
"""


def test_step_sees_the_sdk_contract(workspace, write, tmp_path):
    write("steps/probe.py", PROBE)
    write("data/in/a.txt", "hello")
    ds = workspace.get_default_datastore()
    ref = ds.upload(str(tmp_path / "data" / "in"), target_path="raw", show_progress=False)
    ref = ref.path(None, "raw_in")
    lr = PipelineParameter("learning_rate", 0.1)
    out = PipelineData("probe_out", datastore=ds)
    step = PythonScriptStep("probe.py", name="probe", source_directory=str(tmp_path / "steps"),
                            arguments=["--lr", lr, "--in", ref, "--out", out, 3, True],
                            inputs=[ref], outputs=[out], params={"mode": "fast"})
    run = Experiment(workspace, "contract").submit(Pipeline(workspace, [step]),
                                                   pipeline_parameters={"learning_rate": 0.2})
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("probe")
    target = step_run.get_output_data("probe_out")
    assert target.path_on_datastore == f"azureml/{step_run.id}/probe_out"
    root = workspace._local.layout.datastore_dir("workspaceblobstore")
    seen = json.loads((root / target.path_on_datastore / "seen.json").read_text())
    assert seen["argv"] == ["--lr", "0.2", "--in", str(root / "raw"), "--out",
                            str(root / target.path_on_datastore), "3", "True"]
    assert seen["env"]["AZUREML_RUN_ID"] == step_run.id == seen["run_id"]
    assert seen["env"]["AML_PARAMETER_learning_rate"] == "0.2"
    assert seen["env"]["AML_PARAMETER_mode"] == "fast"
    assert seen["env"]["AZUREML_DATAREFERENCE_raw_in"] == str(root / "raw")
    assert seen["same_run"] is True
    assert os.path.basename(seen["cwd"]) == "wd"  # a private copy of the snapshot
    assert not os.path.exists(seen["cwd"])  # removed when the step ended; outputs/ and logs/ kept
    assert step_run.get_metrics() == {"accuracy": [0.5, 0.75], "curve": [1, 2, 3]}
    assert run.get_metrics() == {"from_step": 1}
    assert step_run.get_tags() == {"stage": "probe"}
    assert "outputs/model.txt" in step_run.get_file_names()
    step_run.download_file("outputs/model.txt", str(tmp_path / "model.txt"))
    assert (tmp_path / "model.txt").exists()
    details = step_run.get_details()
    assert {"status", "startTimeUtc", "endTimeUtc", "properties", "runId"} <= set(details)
    assert details["status"] == "Finished"


def test_git_properties_are_recorded(workspace, write, tmp_path):
    import subprocess
    write("steps/a.py", "print('a')\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "steps"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=a@b", "-c", "user.name=a",
                    "commit", "-q", "-m", "x"], check=True)
    write("steps/a.py", "print('edited, not committed')\n")
    step = PythonScriptStep("a.py", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "git").submit(Pipeline(workspace, [step]))
    run.wait_for_completion(show_output=False)
    props = next(run.get_steps()).get_properties()
    assert len(props["azureml.git.commit"]) == 40
    assert props["azureml.git.dirty"] == "True"  # a tracked file was edited after the commit
    assert props["azureml.git.branch"] in ("master", "main")


def test_failing_step_keeps_logs_and_metrics_and_stops_dependents(workspace, write, tmp_path):
    write("steps/bad.py", """
        from azureml.core import Run
        run = Run.get_context(); run.log("progress", 1); run.flush()
        print("about to fail")
        raise SystemExit("boom: the data is wrong")
    """)
    write("steps/after.py", "print('never')\n")
    data = PipelineData("d")
    bad = PythonScriptStep("bad.py", name="bad", source_directory=str(tmp_path / "steps"),
                           arguments=[data], outputs=[data])
    after = PythonScriptStep("after.py", name="after", source_directory=str(tmp_path / "steps"),
                             arguments=[data], inputs=[data])
    run = Experiment(workspace, "fails").submit(Pipeline(workspace, [after]))
    with pytest.raises(ActivityFailedException, match="step bad: exit code 1: boom: the data is wrong"):
        run.wait_for_completion(show_output=False)
    bad_run, after_run = run.find_step_run("bad")[0], run.find_step_run("after")[0]
    assert bad_run.get_status() == "Failed"
    assert bad_run.get_stdout_log() == "about to fail\n"
    assert bad_run.get_metrics() == {"progress": 1}
    assert after_run.get_status() == "Canceled"
    assert after_run.get_details()["error"] == "not run: step bad failed"
    assert run.get_status() == "Failed"


def test_a_step_killed_outright_keeps_the_metrics_it_logged(workspace, write, tmp_path):
    """SIGKILL (what the kernel's OOM killer sends) runs no atexit flush: a lone metric goes
    out at once, and a burst within a fraction of a second at most later."""
    write("steps/killed.py", """
        import os, signal, time
        from azureml.core import Run
        run = Run.get_context()
        run.log("alone", 1)
        os.kill(os.getpid(), signal.SIGKILL) if os.environ.get("KILL_AT") == "alone" else None
        run.log("burst", 1); run.log("burst", 2); run.log("burst", 3)
        time.sleep(1.0)  # longer than the flush period: the burst is on disk by now
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    from runner.sdk import Environment, RunConfiguration
    steps = []
    for kill_at in ("alone", "burst"):
        config = RunConfiguration()
        config.environment = Environment(f"kill-{kill_at}")
        config.environment.environment_variables = {"KILL_AT": kill_at}
        steps.append(PythonScriptStep("killed.py", name=f"killed_{kill_at}",
                                      source_directory=str(tmp_path / "steps"), runconfig=config))
    run = Experiment(workspace, "killed").submit(Pipeline(workspace, steps),
                                                 continue_on_step_failure=True)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    alone, burst = run.find_step_run("killed_alone")[0], run.find_step_run("killed_burst")[0]
    assert alone.get_status() == burst.get_status() == "Failed"
    assert alone.get_metrics() == {"alone": 1}
    assert burst.get_metrics() == {"alone": 1, "burst": [1, 2, 3]}


def test_continue_on_step_failure_runs_independent_steps(workspace, write, tmp_path):
    write("steps/bad.py", "raise SystemExit(3)\n")
    write("steps/ok.py", "print('ok')\n")
    bad = PythonScriptStep("bad.py", name="bad", source_directory=str(tmp_path / "steps"))
    ok = PythonScriptStep("ok.py", name="ok", source_directory=str(tmp_path / "steps"))
    after = PythonScriptStep("ok.py", name="after_bad", source_directory=str(tmp_path / "steps"))
    after.run_after(bad)
    run = Experiment(workspace, "cont").submit(Pipeline(workspace, [ok, after]),
                                               continue_on_step_failure=True)
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    status = {s.name: s.get_status() for s in run.get_steps()}
    assert status == {"bad": "Failed", "ok": "Finished", "after_bad": "Canceled"}
    assert run.find_step_run("after_bad")[0].get_details()["error"] == "not run: upstream step bad failed"


def test_output_file_dataset_config_lands_at_its_destination(workspace, write, tmp_path):
    write("steps/w.py", """
        import os, sys
        open(os.path.join(sys.argv[1], "x.txt"), "w").write("x")
    """)
    out = OutputFileDatasetConfig(name="result")
    step = PythonScriptStep("w.py", source_directory=str(tmp_path / "steps"), arguments=[out])
    run = Experiment(workspace, "ofdc").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    step_run = next(run.get_steps())
    root = workspace._local.layout.datastore_dir("workspaceblobstore")
    assert (root / "dataset" / step_run.id / "result" / "x.txt").read_text() == "x"


def test_compute_target_max_nodes_bounds_concurrency(workspace, write, tmp_path):
    from runner.sdk import AmlCompute, ComputeTarget
    write("steps/s.py", """
        import time, sys, os
        print(time.time()); time.sleep(0.3); print(time.time())
    """)
    ComputeTarget.create(workspace, "one-node", AmlCompute.provisioning_configuration(max_nodes=1))
    steps = [PythonScriptStep("s.py", name=f"s{i}", source_directory=str(tmp_path / "steps"),
                              compute_target="one-node") for i in range(3)]
    run = Experiment(workspace, "limits").submit(Pipeline(workspace, steps))
    assert run.wait_for_completion(show_output=False) == "Finished"
    spans = sorted(tuple(map(float, s.get_stdout_log().split())) for s in run.get_steps())
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end  # never two at once on a one-node target
