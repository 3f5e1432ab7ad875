"""The image_map setting: an Environment naming a registry image runs on a local image.

The unit tests need no engine; the tests marked `docker` run steps in real containers.
"""
from __future__ import annotations

import io
import json

import pytest

from runner.executors.images import ImageRecipe
from runner.sdk import Environment, Experiment, Pipeline, PythonScriptStep, RunConfiguration
from runner.spec import EnvironmentSpec
from runner.step_runtime.exceptions import ActivityFailedException
from store.settings import SettingsError, image_map, parse_image_map, write_setting
from tests.conftest import amlocal

REGISTRY_IMAGE = "myregistry.azurecr.io/team/train:3"
LOCAL_IMAGE = "amlocal/python-base:bookworm"
MAP_LINE = ("NAME=LOCAL[,NAME=LOCAL]: run a step whose environment names image NAME on the "
            "local image LOCAL")


def test_an_image_map_is_entries_name_equals_local_comma_separated():
    assert parse_image_map(f"{REGISTRY_IMAGE}={LOCAL_IMAGE}, b.io/y@sha256:ab=local/y:1") == {
        REGISTRY_IMAGE: LOCAL_IMAGE, "b.io/y@sha256:ab": "local/y:1"}
    assert parse_image_map("") == {}
    for bad in ("train:3", "=local/x:1", "a.io/x:1=", "a b=c", "a.io/x=local x"):
        with pytest.raises(SettingsError) as err:
            parse_image_map(bad)
        assert str(err.value) == (f"image_map entry {bad!r} is not NAME=LOCAL "
                                  f"(e.g. {REGISTRY_IMAGE}={LOCAL_IMAGE})")


def test_a_recipe_on_a_mapped_image_says_so_in_the_preparation_log():
    log = io.StringIO()
    named = ImageRecipe.from_environment(EnvironmentSpec("train-env", base_image=REGISTRY_IMAGE),
                                         "python:3.11-slim")
    assert (named.base_image, named.origin) == (REGISTRY_IMAGE, "environment")
    mapped = named.mapped({REGISTRY_IMAGE: LOCAL_IMAGE}, log)
    assert (mapped.base_image, mapped.origin, mapped.name) == \
        (LOCAL_IMAGE, f"image_map:{REGISTRY_IMAGE}", "train-env")
    assert log.getvalue() == f"image {REGISTRY_IMAGE} is mapped to {LOCAL_IMAGE} (image_map)\n"
    unmapped = ImageRecipe.from_environment(EnvironmentSpec(), "python:3.11-slim")
    assert unmapped.mapped({REGISTRY_IMAGE: LOCAL_IMAGE}, log) is unmapped
    # the configured base image is mapped too: one entry stands for the default everywhere
    assert unmapped.mapped({"python:3.11-slim": LOCAL_IMAGE}, io.StringIO()).base_image == LOCAL_IMAGE


def test_the_missing_image_advice_depends_on_where_the_image_came_from():
    own = ImageRecipe(REGISTRY_IMAGE, origin="environment")
    assert own.missing_advice() == (
        f"pull or build it, or run the environment on an image you have: `amlocal config "
        f"image_map add {REGISTRY_IMAGE}=LOCAL` (LOCAL e.g. amlocal/python-base:bookworm; --user "
        f"for every project)")
    assert ImageRecipe("python:3.11-slim").missing_advice() == (
        "pull or build it, or choose an image you have with AMLOCAL_BASE_IMAGE or "
        "`amlocal config base_image IMAGE`")
    assert ImageRecipe("local/x:1", origin=f"image_map:{REGISTRY_IMAGE}").missing_advice() == (
        f"it is image_map's image for {REGISTRY_IMAGE}: pull or build it, or change the entry "
        f"with `amlocal config image_map add NAME=LOCAL`")


def test_config_image_map_add_and_remove_entries(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    settings = tmp_path / ".amlocal" / "settings.json"
    added = amlocal("config", "image_map", "add", f"{REGISTRY_IMAGE}={LOCAL_IMAGE}", cwd=tmp_path, env=env)
    assert added.returncode == 0
    assert added.stdout.splitlines() == [
        f"amlocal: set image_map={REGISTRY_IMAGE}={LOCAL_IMAGE} in {settings}",
        f"image_map    {REGISTRY_IMAGE}={LOCAL_IMAGE} workspace {MAP_LINE}"]
    again = amlocal("config", "image_map", "add", "a.io/x:1=local/x:1", cwd=tmp_path, env=env)
    assert again.returncode == 0
    assert json.loads(settings.read_text()) == {
        "image_map": f"a.io/x:1=local/x:1,{REGISTRY_IMAGE}={LOCAL_IMAGE}"}
    removed = amlocal("config", "image_map", "remove", "a.io/x:1", cwd=tmp_path, env=env)
    assert (removed.returncode, removed.stdout.splitlines()[0]) == \
        (0, f"amlocal: set image_map={REGISTRY_IMAGE}={LOCAL_IMAGE} in {settings}")
    last = amlocal("config", "image_map", "remove", REGISTRY_IMAGE, cwd=tmp_path, env=env)
    assert (last.returncode, last.stdout.splitlines()[0]) == (0, f"amlocal: removed image_map from {settings}")
    assert json.loads(settings.read_text()) == {}
    whole = amlocal("config", "image_map", "a.io/x:1=local/x:1,b.io/y:2=local/y:2", cwd=tmp_path, env=env)
    assert whole.returncode == 0
    from store.layout import WorkspaceLayout
    assert image_map(WorkspaceLayout(tmp_path / ".amlocal")) == \
        {"a.io/x:1": "local/x:1", "b.io/y:2": "local/y:2"}


def test_config_image_map_errors_are_one_line(tmp_path):
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal")}
    cases = [
        (("image_map", "add", "train:3"), "amlocal: error: image_map entry 'train:3' is not NAME=LOCAL "
                                          f"(e.g. {REGISTRY_IMAGE}={LOCAL_IMAGE})\n"),
        (("image_map", "oops"), "amlocal: error: image_map entry 'oops' is not NAME=LOCAL "
                                f"(e.g. {REGISTRY_IMAGE}={LOCAL_IMAGE})\n"),
        (("image_map", "add"), "amlocal: error: `amlocal config image_map add` takes NAME=LOCAL, e.g. "
                               f"`amlocal config image_map add {REGISTRY_IMAGE}={LOCAL_IMAGE}`\n"),
        (("image_map", "remove", "a.io/x:1"), "amlocal: error: image_map has no entry for 'a.io/x:1'\n"),
        (("executor", "local", "extra"), "amlocal: error: unexpected argument 'extra' (only image_map "
                                         "takes add/remove)\n"),
        (("colour", "red"), "amlocal: error: unknown setting 'colour'; settings: base_image, executor, "
                            "image_map, reuse, service_runs\n"),
    ]
    for args, stderr in cases:
        done = amlocal("config", *args, cwd=tmp_path, env=env)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", stderr), args
    assert not (tmp_path / ".amlocal").exists()  # a refused change creates nothing


def _registry_image_step(tmp_path, image: str) -> PythonScriptStep:
    env = Environment("train-env")
    env.docker.base_image = image
    env.python.user_managed_dependencies = True
    config = RunConfiguration()
    config.environment = env
    return PythonScriptStep("train.py", name="train", source_directory=str(tmp_path / "steps"),
                            runconfig=config)


def _preparation(workspace, run, step_run) -> str:
    return (workspace._local.layout.step_run_dir(run.id, step_run.id) / "preparation.txt").read_text()


@pytest.mark.docker
def test_an_environment_naming_a_registry_image_runs_on_the_mapped_local_image(
        docker_workspace, write, tmp_path):
    from runner.executors.docker_engine import docker_client
    write("steps/train.py", "import sys\nprint('python', sys.version_info[0])\n")
    layout = docker_workspace._local.layout
    write_setting(layout, "image_map", f"{REGISTRY_IMAGE}={LOCAL_IMAGE}")

    def submit():
        run = Experiment(docker_workspace, "mapped").submit(
            Pipeline(docker_workspace, [_registry_image_step(tmp_path, REGISTRY_IMAGE)]))
        assert run.wait_for_completion(show_output=False) == "Finished"
        return run, run.find_step_run("train")[0]

    first, step = submit()
    assert step.get_stdout_log() == "python 3\n"
    assert step.get_properties()["amlocal.image"] == LOCAL_IMAGE
    local_id = docker_client().images.get(LOCAL_IMAGE).id
    assert step.get_properties()["amlocal.image_id"] == local_id
    assert f"image {REGISTRY_IMAGE} is mapped to {LOCAL_IMAGE} (image_map)\n" in \
        _preparation(docker_workspace, first, step)
    second, reused = submit()
    assert (reused._record().decision, reused._record().reason) == \
        ("reused", f"reused from {first.id[:8]}/train")
    # Another mapping is another image, even one with the same id: the step runs again.
    write_setting(layout, "image_map", f"{REGISTRY_IMAGE}={local_id}")
    third, rerun = submit()
    assert rerun._record().decision == "run"
    assert rerun.get_properties()["amlocal.image_id"] == local_id
    assert f"image {REGISTRY_IMAGE} is mapped to {local_id} (image_map)\n" in \
        _preparation(docker_workspace, third, rerun)


@pytest.mark.docker
def test_a_missing_registry_image_advises_the_image_map(docker_workspace, write, tmp_path):
    write("steps/train.py", "print('never')\n")
    missing = "amlocal-test.invalid/team/train:3"
    run = Experiment(docker_workspace, "unmapped").submit(
        Pipeline(docker_workspace, [_registry_image_step(tmp_path, missing)]))
    with pytest.raises(ActivityFailedException, match=rf"step train: image {missing} is not on "
                                                      r"this machine and could not be pulled"):
        run.wait_for_completion(show_output=False)
    error = run.find_step_run("train")[0].get_details()["error"]
    assert error.endswith(f"`amlocal config image_map add {missing}=LOCAL` (LOCAL e.g. "
                          f"amlocal/python-base:bookworm; --user for every project)")
    assert "AMLOCAL_BASE_IMAGE" not in error
