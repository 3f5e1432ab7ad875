"""A metric reads back as the type it was logged with, everywhere a user sees it: ints stay
ints (3, not 3.0), floats stay floats, bools stay bools; and a pipeline run logs from outside
its steps with every log call, as the SDK's run does."""
from __future__ import annotations

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from tests.conftest import amlocal

STEP = """
from azureml.core import Run
run = Run.get_context()
run.log("count", 3)
run.log("count", 4)
run.log("ratio", 0.5)
run.log("flag", True)
run.log("big", 2 ** 70)
run.parent.log("best", 7)
"""


def _run(workspace, write, tmp_path):
    write("steps/log.py", STEP)
    step = PythonScriptStep("log.py", name="log", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "types").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def test_logged_values_keep_their_types_in_get_metrics(workspace, write, tmp_path):
    run = _run(workspace, write, tmp_path)
    metrics = run.find_step_run("log")[0].get_metrics()
    assert metrics == {"count": [3, 4], "ratio": 0.5, "flag": True, "big": 2 ** 70}
    assert [type(v) for v in metrics["count"]] == [int, int]
    assert type(metrics["ratio"]) is float and type(metrics["flag"]) is bool
    assert type(metrics["big"]) is int
    assert run.get_metrics() == {"best": 7} and type(run.get_metrics()["best"]) is int


def test_the_cli_and_the_dashboard_show_ints_as_ints(workspace, write, tmp_path):
    run = _run(workspace, write, tmp_path)
    env = {"AMLOCAL_HOME": str(workspace._local.layout.root)}
    shown = amlocal("metrics", run.id[:8], cwd=tmp_path, env=env).stdout.splitlines()
    rows = {tuple(line.split()[:2]): line.split()[3] for line in shown[1:]}
    assert rows[("log", "count")] == "4" and rows[("(pipeline)", "best")] == "7"
    assert rows[("log", "big")] == str(2 ** 70)
    show = amlocal("show", run.id[:8], cwd=tmp_path, env=env).stdout
    assert "log.count=4," in show and "(pipeline).best=7" in show

    from tui.dashboard.queries import Store, compare_runs
    store = Store(workspace._local.layout)
    step_id = run.find_step_run("log")[0].id
    latest = {name: (value, history) for name, _, value, history, _ in store.step_metrics(step_id)}
    assert latest["count"] == ("4", [3.0, 4.0])  # the plot's series is numbers
    comparison = dict(compare_runs(store, [run.id]).rows)
    assert comparison["metric log.count"] == ("4",) and comparison["metric (pipeline).best"] == ("7",)


def test_a_pipeline_run_takes_every_log_call_from_outside_its_steps(workspace, write, tmp_path):
    run = _run(workspace, write, tmp_path)
    run.log("extra", 1)
    run.log_list("curve", [1, 2.5])
    run.log_row("table", epoch=1, loss=0.25)
    run.log_table("columns", {"a": [1, 2]})
    run.tag("reviewed", "yes")
    assert run.get_metrics() == {"best": 7, "extra": 1, "curve": [1, 2.5],
                                 "table": {"epoch": 1, "loss": 0.25}, "columns": {"a": [1, 2]}}
    assert run.get_tags() == {"reviewed": "yes"}
