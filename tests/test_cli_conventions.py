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
