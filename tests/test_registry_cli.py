"""`amlocal datasets`, `amlocal models`, `amlocal environments`: every registered name, one
name's versions with their lineage, and one line (no traceback) for what is not there."""
from __future__ import annotations

import pytest

from runner.sdk import Environment, Experiment, Pipeline, PythonScriptStep
from store import registry
from tests.conftest import amlocal
from tui.formatting import when


@pytest.fixture
def populated(workspace, write, tmp_path):
    """A finished two-step run; a dataset read by its train step; a model that step registered;
    an environment registered from a script."""
    write("steps/prep.py", "print('prep')\n")
    write("steps/train.py", "print('train')\n")
    prep = PythonScriptStep("prep.py", name="prep", source_directory=str(tmp_path / "steps"))
    train = PythonScriptStep("train.py", name="train", source_directory=str(tmp_path / "steps"))
    train.run_after(prep)
    run = Experiment(workspace, "churn").submit(Pipeline(workspace, [prep, train]))
    assert run.wait_for_completion(show_output=False) == "Finished"
    train_run = run.find_step_run("train")[0]
    conn = workspace._local.conn
    first = registry.add_version(conn, "dataset", "customers", {"paths": ["raw/a.csv"]},
                                 description="raw customers", tags={"source": "crm"})
    second = registry.add_version(conn, "dataset", "customers", {"paths": ["raw/b.csv"]},
                                  description="customers, cleaned", tags={"source": "crm",
                                                                          "stage": "clean"})
    registry.record_use(conn, second.id, train_run.id, run.id)
    registry.record_use(conn, second.id, run.find_step_run("prep")[0].id, run.id)
    model = registry.add_version(conn, "model", "churn", {"path": "outputs/model.pkl"},
                                 content={"model.pkl": "ab" * 32}, description="churn model",
                                 tags={"stage": "prod"}, properties={"accuracy": 0.91},
                                 made_by_step_run_id=train_run.id, made_by_pipeline_run_id=run.id)
    env = Environment("train-env")
    env.docker.base_image = "python:3.11-slim"
    env.python.conda_dependencies.add_pip_package("scikit-learn==1.4.2")
    env.register(workspace)
    return {"run": run.id, "train": train_run.id, "first": first, "second": second,
            "model": model, "tmp": tmp_path}


def test_the_lists_show_every_name_with_its_versions_maker_and_readers(populated):
    tmp, run = populated["tmp"], populated["run"]
    datasets = amlocal("datasets", cwd=tmp)
    assert (datasets.returncode, datasets.stderr) == (0, "")
    assert datasets.stdout == (
        "NAME       VERSIONS  DESCRIPTION         TAGS                     MADE BY  USED BY\n"
        "customers  2, 1      customers, cleaned  source=crm, stage=clean  script   2\n")
    models = amlocal("models", cwd=tmp)
    assert models.stdout == (
        "NAME   VERSIONS  DESCRIPTION  TAGS        MADE BY         USED BY\n"
        f"churn  1         churn model  stage=prod  {run[:8]}/train  0\n")
    environments = amlocal("environments", cwd=tmp)
    assert environments.stdout == (
        "NAME       VERSIONS  DESCRIPTION  TAGS  MADE BY  USED BY\n"
        "train-env  1         -            -     script   0\n")


def test_a_models_detail_shows_its_lineage_back_to_the_datasets_its_run_read(populated):
    tmp, run, model = populated["tmp"], populated["run"], populated["model"]
    shown = amlocal("models", "churn", cwd=tmp)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout == (
        "model churn: 1 version\n"
        "\n"
        f"Version 1  registered {when(model.created_at)}  id {model.id}\n"
        "  Description  churn model\n"
        "  Tags         stage=prod\n"
        "  Properties   accuracy=0.91\n"
        f"  Made by      {run}/train (experiment churn)\n"
        "  Files        1: model.pkl\n"
        "  Made from    dataset customers:2\n"
        "  Used by      no step run yet\n")


def test_a_datasets_detail_lists_every_version_newest_first_with_the_runs_that_read_it(populated):
    tmp, run, first, second = (populated["tmp"], populated["run"], populated["first"],
                               populated["second"])
    shown = amlocal("datasets", "customers", cwd=tmp)
    assert shown.returncode == 0
    assert shown.stdout == (
        "dataset customers: 2 versions\n"
        "\n"
        f"Version 2  registered {when(second.created_at)}  id {second.id}\n"
        "  Description  customers, cleaned\n"
        "  Tags         source=crm, stage=clean\n"
        "  Made by      script\n"
        f"  Used by      2 step runs: {run}/train, {run}/prep\n"
        "\n"
        f"Version 1  registered {when(first.created_at)}  id {first.id}\n"
        "  Description  raw customers\n"
        "  Tags         source=crm\n"
        "  Made by      script\n"
        "  Used by      no step run yet\n")
    one = amlocal("datasets", "customers", "--version", "1", cwd=tmp)
    assert one.stdout.startswith("dataset customers: 2 versions\n\nVersion 1  registered ")
    assert "Version 2" not in one.stdout


def test_an_environments_detail_shows_its_image_and_packages(populated):
    shown = amlocal("environments", "train-env", cwd=populated["tmp"])
    assert shown.returncode == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == "environment train-env: 1 version"
    assert lines[3:] == ["  Description  -", "  Tags         -", "  Made by      script",
                         "  Image        python:3.11-slim", "  Python       3.10.18",
                         "  Packages     scikit-learn==1.4.2", "  Used by      no step run yet"]


def test_unknown_names_and_versions_are_one_line_and_a_non_zero_exit(populated):
    tmp = populated["tmp"]
    unknown = amlocal("models", "nope", cwd=tmp)
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        1, "", "amlocal: error: no model named 'nope' is registered in this workspace (see "
               "`amlocal models`)\n")
    version = amlocal("datasets", "customers", "--version", "9", cwd=tmp)
    assert (version.returncode, version.stderr) == (
        1, "amlocal: error: dataset 'customers' has no version 9 (versions: 1, 2)\n")
    alone = amlocal("models", "--version", "2", cwd=tmp)
    assert (alone.returncode, alone.stderr) == (
        1, "amlocal: error: --version needs a name: `amlocal models NAME --version 2`\n")


def test_empty_registries_say_how_to_register(workspace, tmp_path):
    listed = amlocal("models", cwd=tmp_path)
    assert (listed.returncode, listed.stdout) == (
        0, "no models registered: register one with `Model.register(ws, path, name)` or "
           "`run.register_model(name, path)` in a step\n")
    assert amlocal("environments", cwd=tmp_path).stdout == (
        "no environments registered: register one with `env.register(ws)` in a script\n")


def test_what_a_user_wrote_cannot_drive_the_terminal(workspace, tmp_path):
    registry.add_version(workspace._local.conn, "dataset", "d", {},
                         description="\x1b[31mred\x07", tags={"k": "\x1b]0;title"})
    listed = amlocal("datasets", cwd=tmp_path)
    assert "\x1b" not in listed.stdout and "\\x1b[31mred\\x07" in listed.stdout
    shown = amlocal("datasets", "d", cwd=tmp_path)
    assert "\x1b" not in shown.stdout and "  Tags         k=\\x1b]0;title\n" in shown.stdout


def test_without_a_workspace_the_reads_create_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("AMLOCAL_HOME", raising=False)
    for command in ("datasets", "models", "environments"):
        result = amlocal(command, cwd=tmp_path)
        assert result.returncode == 1
        assert result.stderr.startswith("amlocal: error: no amlocal workspace in ")
        assert "Traceback" not in result.stderr
    assert not (tmp_path / ".amlocal").exists()
