"""Key Vault, locally: `ws.get_default_keyvault()`, `amlocal secret`, and `run.get_secret` in a
step; the value stays in one owner-only file and is found nowhere else."""
from __future__ import annotations

import os
import stat
import subprocess

import pytest

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.http_errors import HttpOperationError
from tests.conftest import AMLOCAL, REPO, amlocal

SECRET = "kv-V4lue-9d2e71b0"

READER = """
    import hashlib, os, sys
    from azureml.core import Run
    run = Run.get_context()
    value = run.get_secret("db-password")
    both = run.get_secrets(["db-password", "not-there"])
    in_env = any(value in v for v in os.environ.values())
    print("sha256:", hashlib.sha256(value.encode()).hexdigest())
    print("batch:", sorted(both), both["not-there"] is None, both["db-password"] == value)
    print("in environment:", in_env)
    try:
        run.get_secret("not-there")
    except Exception as exc:
        print("missing:", type(exc).__name__, exc.response.status_code)
    try:
        open(os.environ["AMLOCAL_SECRETS_FILE"], "a").close()
        print("secrets file writable: True")
    except OSError:
        print("secrets file writable: False")
"""


def _holders(folder, needle: bytes) -> list[str]:
    found = []
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path) and needle in open(path, "rb").read():
                found.append(os.path.relpath(path, folder))
    return sorted(found)


def _set_secret(tmp_path, env):
    done = subprocess.run([*AMLOCAL, "secret", "set", "db-password"], input=SECRET + "\n",
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    return done


def _run_reader(workspace, tmp_path, write):
    write("steps/reader.py", READER)
    step = PythonScriptStep("reader.py", name="reader", source_directory=str(tmp_path / "steps"))
    run = Experiment(workspace, "secrets").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    (step_run,) = run.find_step_run("reader")
    return step_run.get_stdout_log()


def _expected_log() -> str:
    import hashlib
    return (f"sha256: {hashlib.sha256(SECRET.encode()).hexdigest()}\n"
            "batch: ['db-password', 'not-there'] True True\n"
            "in environment: False\n"
            "missing: ErrorResponseException 404\n")


def test_a_secret_set_on_the_command_line_is_read_by_a_step_and_nowhere_else(workspace, tmp_path,
                                                                              write):
    done = _set_secret(tmp_path, {"AMLOCAL_HOME": str(workspace._local.layout.root)})
    path = workspace._local.layout.root / "secrets" / "secrets.json"
    assert done.stdout == f"secret db-password set (kept in {path}, readable by you only)\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    log = _run_reader(workspace, tmp_path, write)
    assert log.startswith(_expected_log())
    assert _holders(tmp_path, SECRET.encode()) == [".amlocal/secrets/secrets.json"]
    assert SECRET not in "\n".join(workspace._local.conn.iterdump())
    listed = amlocal("secret", "list", cwd=tmp_path,
                     env={"AMLOCAL_HOME": str(workspace._local.layout.root)})
    assert listed.stdout.splitlines()[1].split()[:2] == ["db-password", "application/NotProvided"]
    assert SECRET not in listed.stdout


@pytest.mark.docker
def test_a_step_in_a_container_reads_a_secret_it_cannot_write(docker_workspace, tmp_path, write):
    _set_secret(tmp_path, {"AMLOCAL_HOME": str(docker_workspace._local.layout.root)})
    log = _run_reader(docker_workspace, tmp_path, write)
    assert log == _expected_log() + "secrets file writable: False\n"
    assert _holders(tmp_path, SECRET.encode()) == [".amlocal/secrets/secrets.json"]


def test_the_keyvault_api(workspace):
    kv = workspace.get_default_keyvault()
    kv.set_secret("api-key", "k1")
    kv.set_secrets({"a": "1", "b": "2"})
    kv.set_secret(name="token", value="t", content_type="application/vnd.ms-password")
    assert kv.get_secret("api-key") == "k1" and type(kv.get_secret("a")) is str
    assert kv.get_secrets(["a", "zzz"]) == {"a": "1", "zzz": None}
    assert kv.get_secret_content_type("token") == "application/vnd.ms-password"
    assert kv.list_secrets() == [{"name": "a"}, {"name": "api-key"}, {"name": "b"},
                                 {"name": "token"}]
    kv.delete_secret("a")
    with pytest.raises(HttpOperationError) as missing:
        kv.get_secret("a")
    assert isinstance(missing.value, UserErrorException)
    assert missing.value.response.status_code == 404
    assert str(missing.value) == ("(UserError) Secret a was not found in the workspace's key "
                                  "vault (amlocal: set it with `amlocal secret set a`, which "
                                  "reads the value from stdin)")
    with pytest.raises(HttpOperationError):
        kv.delete_secrets(["b", "gone"])
    assert kv.get_secret("b") == "2"  # nothing was deleted
    with pytest.raises(HttpOperationError, match="secret name 'bad_name' is not valid"):
        kv.set_secret("bad_name", "x")


def test_secret_commands_read_stdin_and_say_what_went_wrong(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    empty = subprocess.run([*AMLOCAL, "secret", "set", "x"], input="", cwd=tmp_path,
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(REPO), **env})
    assert (empty.returncode, empty.stderr) == (
        1, "amlocal: error: no value for secret x: pipe it in, e.g. "
           "`printf %s \"$VALUE\" | amlocal secret set x`\n")
    assert not (tmp_path / ".amlocal").exists()  # nothing was made for a refused command
    _set_secret(tmp_path, env)
    removed = amlocal("secret", "rm", "db-password", cwd=tmp_path, env=env)
    assert (removed.returncode, removed.stdout) == (0, "secret db-password removed\n")
    again = amlocal("secret", "rm", "db-password", cwd=tmp_path, env=env)
    assert (again.returncode, again.stderr) == (
        1, "amlocal: error: no secret named db-password (see `amlocal secret list`)\n")
    bad = amlocal("secret", "set", "no_underscores", cwd=tmp_path, env=env)
    assert bad.returncode == 1 and bad.stderr.startswith(
        "amlocal: error: secret name 'no_underscores' is not valid")
