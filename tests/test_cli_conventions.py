"""Command-line conventions, through the real CLI: amlocal's options before or after the
script, the script's arguments after `--`, one-line usage errors, `--version`, `--no-wait`,
`--json`, `runs --status/--since`, and reading settings without creating a workspace."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, amlocal

ARGS_SCRIPT = """
    import sys
    print("script args:", sys.argv[1:])
"""

PIPELINE = """
    from azureml.core import Experiment, Workspace
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep
    ws = Workspace.from_config()
    step = PythonScriptStep("ok.py", name="ok", source_directory="steps")
    run = Experiment(ws, "conventions").submit(Pipeline(ws, [step]))
    status = run.wait_for_completion(show_output=False)
    print("wait_for_completion returned", status)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}


def _pipeline(write) -> None:
    write("p/steps/ok.py", 'print("ok ran")\n')
    write("p/pipeline.py", PIPELINE)


def test_an_option_after_the_script_is_amlocals(tmp_path, write):
    _pipeline(write)
    env = {**_env(tmp_path), "AMLOCAL_EXECUTOR": "docker"}  # what --executor must override
    done = amlocal("run", "p/pipeline.py", "--executor", "local", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "amlocal: steps run as local processes (--executor)" in lines
    assert "wait_for_completion returned Finished" in lines


def test_the_scripts_arguments_follow_the_double_dash_untouched(tmp_path, write):
    write("args.py", ARGS_SCRIPT)
    done = amlocal("run", "args.py", "--executor", "local", "--", "--executor", "docker", "x",
                   "--", "-n", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "script args: ['--executor', 'docker', 'x', '--', '-n']\n"
    before = amlocal("run", "--executor", "local", "args.py", cwd=tmp_path, env=_env(tmp_path))
    assert (before.returncode, before.stdout) == (0, "script args: []\n")


def test_an_unknown_option_is_one_line_and_exit_2(tmp_path, write):
    write("args.py", ARGS_SCRIPT)
    done = amlocal("run", "args.py", "--epochs", "3", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == ("amlocal: error: unknown option --epochs for `amlocal run`; put the "
                           "script's own arguments after --: amlocal run args.py -- --epochs 3\n")
    assert not (tmp_path / ".amlocal").exists()  # refused before anything ran


def test_a_stray_argument_and_a_bad_choice_are_one_line_errors(tmp_path, write):
    write("args.py", ARGS_SCRIPT)
    stray = amlocal("run", "args.py", "extra", cwd=tmp_path, env=_env(tmp_path))
    assert (stray.returncode, stray.stdout) == (2, "")
    assert stray.stderr == ("amlocal: error: unexpected argument 'extra' for `amlocal run`; put "
                            "the script's own arguments after --: amlocal run args.py -- extra\n")
    choice = amlocal("run", "args.py", "--executor", "nope", cwd=tmp_path, env=_env(tmp_path))
    assert choice.returncode == 2
    assert choice.stderr == ("amlocal: error: argument --executor: invalid choice: 'nope' (choose "
                             "from 'auto', 'docker', 'local') (see `amlocal run --help`)\n")
    other = amlocal("runs", "--bogus", cwd=tmp_path, env=_env(tmp_path))
    assert (other.returncode, other.stdout) == (2, "")
    assert other.stderr == "amlocal: error: unknown option --bogus for `amlocal runs` (see `amlocal runs --help`)\n"


def test_watch_takes_options_after_the_script_and_refuses_unknown_ones(tmp_path, write):
    write("args.py", ARGS_SCRIPT)
    done = amlocal("watch", "args.py", "--manual", "--verbose", cwd=tmp_path, env=_env(tmp_path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("amlocal: error: unknown option --verbose for `amlocal watch`; put the "
                           "script's own arguments after --: amlocal watch args.py -- --verbose\n")


def test_watch_evaluates_the_script_again_with_its_arguments(tmp_path, write):
    """The watcher evaluates a changed script in `python -m runner.pipeline_script`, which
    passes what follows `--` to the script."""
    write("args.py", ARGS_SCRIPT)
    env = {**os.environ, **_env(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "runner.pipeline_script", str(tmp_path / "args.py"),
                           "--record", str(tmp_path / "ids"), "--", "--lr", "0.1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "script args: ['--lr', '0.1']\n"
    assert (tmp_path / "ids").read_text() == ""


GATED_STEP = """
    import os, time
    deadline = time.monotonic() + 60
    while not os.path.exists(GATE) and time.monotonic() < deadline:
        time.sleep(0.05)
    print("gate passed")
"""


def test_no_wait_makes_the_scripts_own_wait_return_at_once(workspace, tmp_path, write):
    from runner.sdk import PipelineRun
    gate = tmp_path / "gate"
    write("p/steps/ok.py", GATED_STEP.replace("GATE", repr(str(gate))))
    write("p/pipeline.py", PIPELINE + """
    print("step wait returned", next(run.get_steps()).wait_for_completion(show_output=False))
    """)
    done = amlocal("run", "p/pipeline.py", "--no-wait", cwd=tmp_path, env=_env(tmp_path), timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    waited = [line.split()[-1] for line in lines if line.startswith("wait_for_completion returned")]
    assert len(waited) == 1 and waited[0] in ("NotStarted", "Queued", "Running")
    step_waited = [line.split()[-1] for line in lines if line.startswith("step wait returned")]
    assert len(step_waited) == 1 and step_waited[0] in ("NotStarted", "Queued", "Running")
    run_id = lines[0].split()[-1]
    assert re.fullmatch(rf"amlocal: run {run_id} (NotStarted|Queued|Running); "
                        rf"see `amlocal show {run_id[:8]}`", lines[-1])
    assert not gate.exists()  # nothing waited: the step is still at its gate
    gate.touch()
    status = PipelineRun.get(workspace, run_id).wait_for_completion(show_output=False)
    assert status == "Finished"


def test_version_names_amlocal_and_the_sdk_it_emulates(tmp_path):
    from runner.step_runtime.versions import PIPELINE_SDK_VERSION, SDK_VERSION
    done = amlocal("--version", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 0
    assert done.stdout == (f"amlocal 0.1.0\nemulates azureml-core {SDK_VERSION}, "
                           f"azureml-pipeline-core/-steps {PIPELINE_SDK_VERSION}\n")
    assert not (tmp_path / ".amlocal").exists()


METRIC_STEP = """
    from azureml.core import Run
    Run.get_context().log("accuracy", ACCURACY)
    print("scored")
"""
ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


def _two_runs(tmp_path, write) -> tuple[list, str, str]:
    """Two runs of one pipeline, the second after its step changed; ids oldest first."""
    import json
    write("p/pipeline.py", PIPELINE)
    ids = []
    for accuracy in ("0.5", "0.75"):
        write("p/steps/ok.py", METRIC_STEP.replace("ACCURACY", accuracy))
        done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
        assert done.returncode == 0, done.stderr
        ids.append(done.stdout.splitlines()[0].split()[-1])
    runs = amlocal("runs", "--json", cwd=tmp_path, env=_env(tmp_path))
    assert runs.returncode == 0 and runs.stderr == ""
    return json.loads(runs.stdout), ids[0], ids[1]


def test_runs_json_has_the_documented_fields_and_filters(tmp_path, write):
    import json
    listed, first, second = _two_runs(tmp_path, write)
    assert [r["id"] for r in listed] == [second, first]
    row = listed[0]
    assert list(row) == ["id", "experiment", "pipeline", "status", "error", "created", "started",
                         "ended", "duration_seconds", "git_commit", "git_dirty"]
    assert (row["experiment"], row["status"], row["error"]) == ("conventions", "Finished", None)
    assert all(re.fullmatch(ISO_UTC, row[k]) for k in ("created", "started", "ended"))
    assert type(row["duration_seconds"]) is float and row["duration_seconds"] >= 0.0
    env = _env(tmp_path)
    recent = amlocal("runs", "--json", "--status", "finished", "--since", "1h", cwd=tmp_path, env=env)
    assert [r["id"] for r in json.loads(recent.stdout)] == [second, first]
    failed = amlocal("runs", "--status", "Failed,Canceled", cwd=tmp_path, env=env)
    assert (failed.returncode, failed.stdout) == (0, "no runs match\n")
    future = amlocal("runs", "--json", "--since", "2099-01-01", cwd=tmp_path, env=env)
    assert (future.returncode, future.stdout) == (0, "[]\n")
    bad = amlocal("runs", "--since", "yesterday", cwd=tmp_path, env=env)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == ("amlocal: error: argument --since: 'yesterday' is neither a date "
                          "(2026-12-01, 2026-12-01T09:30) nor a duration (90s, 15m, 2h, 3d, 1w) "
                          "(see `amlocal runs --help`)\n")
    status = amlocal("runs", "--status", "done", cwd=tmp_path, env=env)
    assert status.returncode == 2
    assert status.stderr == ("amlocal: error: argument --status: 'done' is not a run status "
                             "(statuses: NotStarted, Preparing, Queued, Running, Canceled, Failed, "
                             "Finished) (see `amlocal runs --help`)\n")


def test_show_metrics_and_why_json(tmp_path, write):
    import json
    _, first, second = _two_runs(tmp_path, write)
    env = _env(tmp_path)
    shown = json.loads(amlocal("show", second[:8], "--json", cwd=tmp_path, env=env).stdout)
    assert list(shown) == ["id", "experiment", "pipeline", "status", "error", "created", "started",
                           "ended", "duration_seconds", "git_commit", "git_dirty", "git",
                           "parameters", "steps", "metrics"]
    assert (shown["id"], shown["git"], shown["parameters"]) == (second, None, {})
    [step] = shown["steps"]
    assert list(step) == ["name", "step_run_id", "status", "decision", "reason",
                          "reused_step_run_id", "error", "exit_code", "executor", "started",
                          "ended", "duration_seconds"]
    assert (step["name"], step["status"], step["decision"], step["exit_code"], step["executor"]) == \
        ("ok", "Finished", "run", 0, "local")
    assert shown["metrics"] == [{"step": "ok", "run_id": step["step_run_id"], "name": "accuracy",
                                 "kind": "scalar", "latest": 0.75, "count": 1}]
    metrics = json.loads(amlocal("metrics", second, "--json", cwd=tmp_path, env=env).stdout)
    assert metrics == shown["metrics"]
    why = json.loads(amlocal("why", second, "ok", "--json", cwd=tmp_path, env=env).stdout)
    assert len(why) == 1
    assert list(why[0]) == ["step", "step_run_id", "status", "decision", "reason",
                            "reused_step_run_id", "compared_with", "differences"]
    assert (why[0]["step"], why[0]["decision"], why[0]["reused_step_run_id"]) == ("ok", "run", None)
    assert why[0]["compared_with"]["run_id"] == first
    assert re.fullmatch(ISO_UTC, why[0]["compared_with"]["created"])
    assert (why[0]["reason"], why[0]["differences"]) == \
        ("rerun: ok.py changed", ["the source directory: 1 file changed: ok.py"])
    text = amlocal("why", second, "ok", cwd=tmp_path, env=env).stdout.splitlines()
    assert (text[0], text[2]) == ("ok: rerun: ok.py changed",
                                  "    the source directory: 1 file changed: ok.py")
    earliest = json.loads(amlocal("why", first, "--json", cwd=tmp_path, env=env).stdout)
    assert (earliest[0]["decision"], earliest[0]["compared_with"], earliest[0]["differences"]) == \
        ("run", None, [])  # the first run of the step: nothing earlier to compare with


SETTING_LINES = [
    "base_image   (not set; default python:3.11-slim) default   the Docker image steps run in "
    "when their environment names none",
    "executor     (not set; default auto)  default   where steps run: auto (Docker when an engine "
    "answers), docker or local",
    "image_map    (not set; default none)  default   NAME=LOCAL[,NAME=LOCAL]: run a step whose "
    "environment names image NAME on the local image LOCAL",
    "reuse        (not set; default content) default   content: reuse only when input data is "
    "unchanged (default); azure: as Azure, datastore inputs by path only",
    "service_runs (not set; default one per CPU) default   how many runs the workspace service "
    "runs at once (the others wait as Queued)",
]


def test_reading_settings_creates_no_workspace(tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    env = {"AMLOCAL_HOME": ""}  # found like git: here or in a parent, and there is none
    done = amlocal("config", cwd=folder, env=env)
    assert done.returncode == 0
    assert done.stdout.splitlines() == SETTING_LINES
    assert done.stderr == ("amlocal: no workspace here or in a parent folder (and AMLOCAL_HOME is "
                           "not set): these are the defaults and user-wide settings\n")
    one = amlocal("config", "executor", cwd=folder, env=env)
    assert (one.returncode, one.stdout.splitlines()) == (0, [SETTING_LINES[1]])
    bad = amlocal("config", "executor", "podman", cwd=folder, env=env)
    assert bad.returncode == 1
    assert bad.stderr == "amlocal: error: setting executor takes one of auto, docker, local, not 'podman'\n"
    assert list(folder.iterdir()) == []  # nothing was created by reading, nor by a refused write


def test_writing_a_setting_says_where_it_writes(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    env = {"AMLOCAL_HOME": ""}
    settings = folder / ".amlocal" / "settings.json"
    done = amlocal("config", "executor", "local", cwd=folder, env=env)
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        f"amlocal: set executor=local in {settings}",
        "executor     local                    workspace where steps run: auto (Docker when an "
        "engine answers), docker or local"]
    assert done.stderr == f"amlocal: created a workspace in {folder / '.amlocal'}\n"
    assert (folder / ".amlocal" / "amlocal.db").is_file()
    again = amlocal("config", "--unset", "executor", cwd=folder / ".amlocal" / "..", env=env)
    assert again.returncode == 0 and again.stderr == ""  # the workspace exists now
    assert again.stdout.splitlines() == [f"amlocal: removed executor from {settings}", SETTING_LINES[1]]
    runs = amlocal("runs", cwd=folder, env=env)
    assert (runs.returncode, runs.stdout) == (0, "no runs yet: start one with `amlocal run PIPELINE.py`\n")


def test_no_wait_applies_to_a_notebooks_cells_too(workspace, tmp_path, write):
    from runner.sdk import PipelineRun
    from tests.test_notebooks import _notebook
    gate = tmp_path / "gate"
    write("nb/steps/ok.py", GATED_STEP.replace("GATE", repr(str(gate))))
    cells = [line[4:] for line in PIPELINE.strip("\n").splitlines()]
    notebook = _notebook(tmp_path / "nb" / "pipeline.ipynb", "\n".join(cells))
    done = amlocal("run", "--no-wait", str(notebook), cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    waited = [line.split()[-1] for line in lines if line.startswith("wait_for_completion returned")]
    assert len(waited) == 1 and waited[0] in ("NotStarted", "Queued", "Running")
    assert not gate.exists()
    run_id = lines[-1].split()[2]
    gate.touch()
    assert PipelineRun.get(workspace, run_id).wait_for_completion(show_output=False) == "Finished"
