"""Errors and logs through the real CLI: `amlocal logs` of a reused step, of a step that
failed while being prepared, its exit status; a failed `amlocal run` says its error once with
the failed step's last log lines; tracebacks name source paths, not the working copy."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import amlocal

PIPELINE = """
    from azureml.core import Experiment, Workspace
    from azureml.pipeline.core import Pipeline
    from azureml.pipeline.steps import PythonScriptStep
    ws = Workspace.from_config()
    step = PythonScriptStep("STEP.py", name="STEP", source_directory="steps")
    Experiment(ws, "logs").submit(Pipeline(ws, [step])).wait_for_completion(show_output=True)
"""

FAILING = """
    print("loading data")
    def load():
        raise ValueError("no rows in input")
    load()
"""

TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "p/steps/bad.py", line 5, in <module>',
    "    load()",
    '  File "p/steps/bad.py", line 4, in load',
    '    raise ValueError("no rows in input")',
    "ValueError: no rows in input",
]
# `amlocal run` evaluates the script in its folder: paths there are relative to pipeline.py's
FROM_SCRIPT = [line.replace('"p/steps/', '"steps/') for line in TRACEBACK]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), **extra}


def _project(write, step: str, code: str) -> None:
    write(f"p/steps/{step}.py", code)
    write("p/pipeline.py", PIPELINE.replace("STEP", step))


def _show(tmp_path: Path, run: str = "latest") -> dict:
    done = amlocal("show", run, "--json", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_logs_of_a_reused_step_print_the_originals_log_after_a_note(tmp_path, write):
    _project(write, "ok", 'print("ok ran")\n')
    for _ in range(2):
        done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
        assert done.returncode == 0, done.stderr
    second = _show(tmp_path)
    [step] = second["steps"]
    assert step["decision"] == "reused"
    original = step["reused_step_run_id"]
    first_run = [r["id"] for r in json.loads(amlocal("runs", "--json", cwd=tmp_path,
                                                     env=_env(tmp_path)).stdout)][1]
    note = f"(reused: the log of step run {original} of run {first_run})"
    logs = amlocal("logs", second["id"], "ok", cwd=tmp_path, env=_env(tmp_path))
    assert (logs.returncode, logs.stdout, logs.stderr) == (0, f"{note}\nok ran\n", "")
    every = amlocal("logs", second["id"], cwd=tmp_path, env=_env(tmp_path))
    assert (every.returncode, every.stdout) == (0, f"===== ok (Finished) =====\n{note}\nok ran\n")
    followed = amlocal("logs", "-f", second["id"], "ok", cwd=tmp_path, env=_env(tmp_path))
    assert (followed.returncode, followed.stdout) == (0, f"{note}\nok ran\n")


def test_logs_of_a_failed_step_show_source_paths_and_exit_1(tmp_path, write):
    _project(write, "bad", FAILING)
    amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
    logs = amlocal("logs", "latest", "bad", cwd=tmp_path, env=_env(tmp_path))
    assert logs.returncode == 1
    assert logs.stdout == "loading data\n"
    assert logs.stderr.splitlines() == [
        *TRACEBACK, "amlocal: step bad failed: exit code 1: ValueError: no rows in input"]
    followed = amlocal("logs", "-f", "latest", "bad", cwd=tmp_path, env=_env(tmp_path))
    assert (followed.returncode, followed.stdout) == (1, "loading data\n")
    assert followed.stderr.splitlines() == logs.stderr.splitlines()
    # display only: the stored log still names the working copy the step ran in
    [step] = _show(tmp_path)["steps"]
    stored = next((tmp_path / ".amlocal" / "runs").glob(f"*/{step['step_run_id']}/stderr.txt")).read_text()
    assert re.search(r'File ".*/\.amlocal/runs/[0-9a-f-]{36}/[0-9a-f-]{36}/wd/bad\.py", line 5', stored)


def test_a_failed_run_says_its_error_once_with_the_steps_last_log_lines(tmp_path, write):
    _project(write, "bad", FAILING)
    done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 1
    run_id = _show(tmp_path)["id"]
    error = "exit code 1: ValueError: no rows in input"
    assert (done.stdout + done.stderr).count(error) == 1
    out = done.stdout.splitlines()
    assert [line for line in out if line.startswith("[bad] ")] == \
        ["[bad] loading data"] + [f"[bad] {line}" for line in FROM_SCRIPT]
    assert "StepRun( bad ) Status: Failed" in out
    assert re.fullmatch(r"  bad +Failed +\d+\.\d\ds", out[-1])
    err = done.stderr.splitlines()
    start = err.index(f"amlocal: step bad failed; the last lines of its log (`amlocal logs "
                      f"{run_id[:8]} bad` prints all):")
    assert err[start + 1:] == [
        *(f"  {line}" for line in FROM_SCRIPT),
        f"amlocal: error: pipeline.py:7: ActivityFailedException: Activity Failed: pipeline run "
        f"{run_id} failed: step bad: {error}"]


def test_a_failed_run_the_script_does_not_wait_for_is_reported_once(tmp_path, write):
    write("p/steps/bad.py", FAILING)
    write("p/pipeline.py", PIPELINE.replace("STEP", "bad").replace(
        ".wait_for_completion(show_output=True)", ""))
    done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 1
    run_id = _show(tmp_path)["id"]
    assert (done.stdout + done.stderr).count("exit code 1: ValueError: no rows in input") == 1
    assert f"amlocal: run {run_id} Failed; see `amlocal show {run_id[:8]}`" in done.stdout.splitlines()
    err = done.stderr.splitlines()
    start = err.index(f"amlocal: step bad failed: exit code 1: ValueError: no rows in input; the "
                      f"last lines of its log (`amlocal logs {run_id[:8]} bad` prints all):")
    assert err[start + 1:] == [f"  {line}" for line in FROM_SCRIPT]


def test_the_container_path_of_a_working_copy_is_rewritten_too(tmp_path, write):
    """What a Docker step's traceback names (`/amlocal/workspace/runs/…/wd/`), checked on the
    rewriter itself so it runs without an engine; the constant is the Docker executor's."""
    from runner.engine.source_paths import WORKSPACE_IN_CONTAINER, SourcePaths
    from runner.executors.docker import WORKSPACE_IN_CONTAINER as DOCKERS
    from store.runs import get_step_run
    from store.workspace import open_workspace_at
    assert WORKSPACE_IN_CONTAINER == DOCKERS
    _project(write, "bad", FAILING)
    amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
    [shown] = _show(tmp_path)["steps"]
    local = open_workspace_at(tmp_path / ".amlocal")
    step = get_step_run(local.conn, shown["step_run_id"])
    rewrite = SourcePaths(local.conn, base=tmp_path).rewriter(step)
    line = f'  File "/amlocal/workspace/runs/{step.pipeline_run_id}/{step.id}/wd/bad.py", line 5'
    assert rewrite(line) == '  File "p/steps/bad.py", line 5'
    assert rewrite(f'File "{step.run_dir}/wd/sub/x.py"') == 'File "p/steps/sub/x.py"'
    assert SourcePaths(local.conn, base=tmp_path / "p").rewriter(step)(line) == '  File "steps/bad.py", line 5'
    elsewhere = SourcePaths(local.conn, base=tmp_path / "other").rewriter(step)(line)
    assert elsewhere == f'  File "{tmp_path / "p" / "steps"}/bad.py", line 5'
    local.close()


def test_logs_of_a_step_that_failed_while_prepared_print_its_preparation_log(tmp_path, write,
                                                                             docker_image):
    _project(write, "ok", 'print("never runs")\n')
    env = _env(tmp_path, AMLOCAL_EXECUTOR="docker", AMLOCAL_BASE_IMAGE="amlocal/no-such-image:none")
    done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=env)
    assert done.returncode == 1
    [step] = _show(tmp_path)["steps"]
    assert step["status"] == "Failed" and step["exit_code"] is None
    assert step["error"].startswith("image amlocal/no-such-image:none is not on this machine")
    logs = amlocal("logs", "latest", "ok", cwd=tmp_path, env=_env(tmp_path))
    assert (logs.returncode, logs.stdout) == (1, "pulling amlocal/no-such-image:none\n")
    assert logs.stderr == f"amlocal: step ok failed: {step['error']}\n"
    err = done.stderr.splitlines()
    assert err[-3:-1] == [f"amlocal: step ok failed; the last lines of its log (`amlocal logs "
                          f"{_show(tmp_path)['id'][:8]} ok` prints all):",
                          "  pulling amlocal/no-such-image:none"]


def test_a_docker_steps_traceback_names_source_paths(tmp_path, write, docker_image):
    _project(write, "bad", FAILING)
    env = _env(tmp_path, AMLOCAL_EXECUTOR="docker", AMLOCAL_BASE_IMAGE=docker_image)
    done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 1
    assert "/amlocal/workspace" not in done.stdout + done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("[bad] ")][-6:] == \
        [f"[bad] {line}" for line in FROM_SCRIPT]
    logs = amlocal("logs", "latest", "bad", cwd=tmp_path, env=_env(tmp_path))
    assert logs.returncode == 1
    assert logs.stderr.splitlines() == [
        *TRACEBACK, "amlocal: step bad failed: exit code 1: ValueError: no rows in input"]
    [step] = _show(tmp_path)["steps"]
    assert step["executor"] == "docker"
    stored = next((tmp_path / ".amlocal" / "runs").glob(f"*/{step['step_run_id']}/stderr.txt")).read_text()
    assert '"/amlocal/workspace/runs/' in stored  # the stored log is left as the step wrote it


def test_an_error_naming_the_working_copy_names_the_source_in_run_and_show(tmp_path, write):
    _project(write, "bad", 'import os\nopen(os.path.join(os.getcwd(), "missing.csv"))\n')
    done = amlocal("run", "p/pipeline.py", cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 1
    run_id = _show(tmp_path)["id"]
    missing = "exit code 1: FileNotFoundError: [Errno 2] No such file or directory: "
    assert done.stderr.splitlines()[-1] == (
        f"amlocal: error: pipeline.py:7: ActivityFailedException: Activity Failed: pipeline run "
        f"{run_id} failed: step bad: {missing}'steps/missing.csv'")
    shown = amlocal("show", run_id, cwd=tmp_path, env=_env(tmp_path)).stdout.splitlines()
    assert shown[-1].endswith(f"  {missing}'p/steps/missing.csv'")
    [step] = _show(tmp_path)["steps"]
    assert step["error"].startswith(missing + "'/") and step["error"].endswith("/wd/missing.csv'")
