"""CommandStep, OutputPortBinding, TrainingOutput, DataTransferStep.get_output, the SDK's
step-building methods, and ScheduleRecurrence/TimeZone, as the SDK defines them."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from runner.spec import Token

from runner.sdk import (AdlaCompute, ComputeTarget, DataTransferStep, Experiment, InputPortBinding,
                        Pipeline, PipelineData, PipelineParameter, PythonScriptStep)
from runner.sdk.port_bindings import OutputPortBinding, TrainingOutput
from runner.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone
from runner.sdk.steps import CommandStep
from runner.sdk.steps.base import BuildContext

WRITE_ARGS = """
    import json, os, sys
    out = sys.argv[sys.argv.index("--out") + 1]
    os.makedirs(out, exist_ok=True)
    open(os.path.join(out, "argv.json"), "w").write(json.dumps(sys.argv[1:]))
"""


def _output(workspace, step_run, port, name):
    ref = step_run.get_output_data(port)
    return (workspace._local.layout.datastore_dir(ref.datastore_name) / ref.path_on_datastore / name).read_text()


def test_command_step_runs_a_command_with_data_and_parameters(workspace, write, tmp_path):
    write("cmd/args.py", WRITE_ARGS)
    out = PipelineData("out")
    top = PipelineParameter("top", default_value=3)
    step = CommandStep(command=["python args.py --flag 'two words' --out", out, "--top", top],
                       outputs=[out], source_directory=str(tmp_path / "cmd"))
    assert step.name == "CommandStep_python"
    run = Experiment(workspace, "cmd").submit(Pipeline(workspace, [step]),
                                              pipeline_parameters={"top": 5})
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.get_steps()
    argv = json.loads(_output(workspace, step_run, "out", "argv.json"))
    assert argv[:2] == ["--flag", "two words"] and argv[-2:] == ["--top", "5"]
    assert argv[3].endswith(f"azureml/{step_run.id}/out")


def test_command_step_program_is_part_of_reuse_and_errors_are_the_sdks(workspace, write, tmp_path):
    write("cmd/ok.sh", "exit 0\n")
    first = CommandStep(name="shell", command="sh ok.sh", source_directory=str(tmp_path / "cmd"))
    again = CommandStep(name="shell", command="bash ok.sh", source_directory=str(tmp_path / "cmd"))
    reasons = []
    for step in (first, first, again):
        run = Experiment(workspace, "cmd").submit(Pipeline(workspace, [step]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        reasons.append(next(run.get_steps()).get_details()["properties"].get("azureml.reusedrunid"))
    assert reasons[0] is None and isinstance(reasons[1], str) and reasons[2] is None
    with pytest.raises(ValueError, match="command is required either from command directly or runconfig."):
        CommandStep(name="none")
    with pytest.raises(ValueError, match="source_directory should be an existing directory"):
        CommandStep(command="ls", source_directory=str(tmp_path / "nope"))


def test_output_port_binding_feeds_a_later_step_through_an_input_port_binding(workspace, write, tmp_path):
    write("steps/produce.py", "import os, sys\nos.makedirs(sys.argv[1], exist_ok=True)\n"
                              "open(os.path.join(sys.argv[1], 'v.txt'), 'w').write('42')\n")
    write("steps/consume.py", "import os, sys\nv = open(os.path.join(sys.argv[1], 'v.txt')).read()\n"
                              "os.makedirs(sys.argv[2], exist_ok=True)\n"
                              "open(os.path.join(sys.argv[2], 'v.txt'), 'w').write(v + '!')\n")
    produced = OutputPortBinding("produced", datastore=workspace.get_default_datastore(),
                                 pipeline_output_name="the_value")
    assert (produced.name, produced.bind_mode, produced.pipeline_output_name) == ("produced", "mount", "the_value")
    taken = InputPortBinding("taken", bind_object=produced)
    result = PipelineData("result")
    PythonScriptStep("produce.py", name="a", source_directory=str(tmp_path / "steps"),
                         arguments=[produced], outputs=[produced])
    b = PythonScriptStep("consume.py", name="b", source_directory=str(tmp_path / "steps"),
                         arguments=[taken, result], inputs=[taken], outputs=[result])
    run = Experiment(workspace, "ports").submit(Pipeline(workspace, [b]))  # a joins by closure
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _output(workspace, run.find_step_run("b")[0], "result", "v.txt") == "42!"
    ref = run.get_pipeline_output("the_value")
    assert ref.path_on_datastore.endswith("/produced")
    with pytest.raises(ValueError, match="bind_mode 'hdfs' needs Azure"):
        OutputPortBinding("x", bind_mode="hdfs")


def test_training_output_is_validated_as_in_the_sdk():
    model = TrainingOutput("Model", metric="AUC_weighted")
    assert (model.type, model.metric, model.iteration, model.model_file) == ("Model", "AUC_weighted", None, None)
    with pytest.raises(ValueError, match="Iteration and metric shouldn't be provided for output type: Metrics"):
        TrainingOutput("Metrics", iteration=3)
    with pytest.raises(ValueError, match="Both iteration and metric cannot be provided"):
        TrainingOutput("Model", iteration=1, metric="AUC")
    with pytest.raises(ValueError, match="Unknown training output type has been provided: Plot"):
        TrainingOutput("Plot")


def test_data_transfer_get_output_makes_a_later_step_read_the_copy(workspace, write, tmp_path):
    write("src/a.csv", "1,2\n")
    write("steps/count.py", "import os, sys\nos.makedirs(sys.argv[2], exist_ok=True)\n"
                            "open(os.path.join(sys.argv[2], 'n'), 'w').write(str(len(os.listdir(sys.argv[1]))))\n")
    blob = workspace.get_default_datastore()
    blob.upload(str(tmp_path / "src"), target_path="raw", show_progress=False)
    ComputeTarget.attach(workspace, "adf", AdlaCompute.attach_configuration(resource_id="x"))
    copy = DataTransferStep("copy", source_data_reference=blob.path("raw"),
                            destination_data_reference=blob.path("copied", data_reference_name="dst"),
                            compute_target="adf")
    copied = copy.get_output()
    assert copy.get_output() is copied and copied.name == "dst"
    counted = PipelineData("counted")
    count = PythonScriptStep("count.py", name="count", source_directory=str(tmp_path / "steps"),
                             arguments=[copied, counted], inputs=[copied], outputs=[counted])
    run = Experiment(workspace, "transfer").submit(Pipeline(workspace, [count]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    assert _output(workspace, run.find_step_run("count")[0], "counted", "n") == "1"


def test_the_sdks_step_building_methods(workspace, write, tmp_path):
    write("steps/a.py", "print('a')\n")
    data = workspace.get_default_datastore().path("raw", data_reference_name="data")
    out = PipelineData("out", output_name="result")
    rate = PipelineParameter("rate", 0.1)
    step = PythonScriptStep("a.py", name="a", source_directory=str(tmp_path / "steps"),
                            arguments=["--in", data, "--out", out, "--rate", rate],
                            inputs=[data], outputs=[out])
    resolved, annotated = PythonScriptStep.resolve_input_arguments(step._arguments, step._inputs,
                                                                   step._outputs, {})
    assert annotated == ["--in", "input:data", "--out", "output:result", "--rate", "parameter:rate"]
    assert resolved[3] is out and resolved[5] is rate
    with pytest.raises(ValueError, match="Input/Output data appears in arguments list but is not in "
                                         "the input/output lists"):
        PythonScriptStep.validate_arguments(["--in", data], [], [PipelineData("other")])
    ctx = BuildContext(workspace, "workspaceblobstore", str(tmp_path / "steps"), {id(step): "n1"})
    assert step.get_source_directory(ctx, None, "a.py") == (str(tmp_path / "steps"), [])
    with pytest.raises(ValueError, match=r"Step \[a\]: script not found at: "):
        step.get_source_directory(ctx, None, "b.py")
    ins, outs = step.create_input_output_bindings(step._inputs, step._outputs, workspace.get_default_datastore())
    assert [(b.name, b.bind_mode) for b in ins] == [("data", "mount")]
    assert [(b.name, b._output_name, b.datastore.name) for b in outs] == [("out", "result", "workspaceblobstore")]
    module = step.create_module_def("esCloud", ins, outs, [rate], allow_reuse=False, arguments=step._arguments)
    assert (module["inputs"], module["outputs"], module["params"], module["allow_reuse"]) == \
        (["data"], ["result"], {"rate": 0.1}, False)
    assert module["arguments"][-1] == "parameter:rate"
    node = step.create_node(None, "workspaceblobstore", ctx)
    assert (node.node_id, node.script_name, node.arguments[1]) == ("n1", "a.py", Token("input", "data"))


def test_schedule_recurrence_and_time_zone_follow_the_sdk():
    assert len(TimeZone) == 131 and TimeZone.PacificStandardTime.value == "Pacific Standard Time"
    weekly = ScheduleRecurrence("Week", 1, week_days=["Monday", "Friday"], time_of_day="17:30")
    weekly.validate()
    assert (weekly.hours, weekly.minutes, weekly.time_zone) == ([17], [30], None)
    started = ScheduleRecurrence("Hour", 2, start_time=dt.datetime(2025, 5, 20, 16, 0))
    assert (started.start_time, started.time_zone) == ("2025-05-20T16:00:00", TimeZone.UTC)
    with pytest.raises(ValueError, match="Can not specify tzinfo for start_time, use time_zone instead."):
        ScheduleRecurrence("Day", 1, start_time=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(ValueError, match="Can not specify time_of_day and hours or minutes."):
        ScheduleRecurrence("Day", 1, hours=[1], time_of_day="10:00")
    with pytest.raises(ValueError, match="Time of day hour value must be between 0 and 23."):
        ScheduleRecurrence("Day", 1, time_of_day="24:00")
    bad = [(ScheduleRecurrence("Second", 1), "Invalid value for frequency"),
           (ScheduleRecurrence("Day", 0), "Interval must be an integer greater than 0."),
           (ScheduleRecurrence("Minute", 5, hours=[3]), "Can only specify hours if frequency is Week or Day."),
           (ScheduleRecurrence("Day", 1, week_days=["Monday"]), "Can only specify week days if frequency is Week."),
           (ScheduleRecurrence("Week", 1, week_days=["Mon"]), "Week days must be a list of str"),
           (ScheduleRecurrence("Day", 1, minutes=[61]), "Minutes must be between 0 and 59."),
           (ScheduleRecurrence("Day", 1, time_zone="UTC"), "Time zone is not a valid TimeZone enum.")]
    for recurrence, message in bad:
        with pytest.raises(ValueError, match=message):
            recurrence.validate()
