"""User-wide settings under the workspace's: where the file is, which value wins, what
`amlocal config` shows and writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.engine.executor_choice import choose_executor
from store.layout import WorkspaceLayout
from store.settings import (Setting, SettingsError, effective_settings, setting_values,
                            user_settings_path, write_setting, write_user_setting)
from tests.conftest import amlocal

BASE_LINE = "the Docker image steps run in when their environment names none"
EXECUTOR_LINE = "where steps run: auto (Docker when an engine answers), docker or local"


def _user_file(folder: Path, **settings: str) -> Path:
    path = folder / "amlocal" / "settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))
    return path


def test_the_user_file_honours_xdg_config_home_else_dot_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_settings_path() == tmp_path / "xdg" / "amlocal" / "settings"
    monkeypatch.setenv("XDG_CONFIG_HOME", "")  # empty counts as unset, as the XDG spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_settings_path() == tmp_path / "home" / ".config" / "amlocal" / "settings"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert user_settings_path() == tmp_path / "home" / ".config" / "amlocal" / "settings"


def test_workspace_wins_over_user_which_wins_over_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    layout.root.mkdir()
    _user_file(tmp_path / "xdg", base_image="amlocal/python-base:bookworm", executor="local")
    write_setting(layout, "executor", "docker")
    found = effective_settings(layout)
    assert found["executor"] == Setting("docker", "workspace")
    assert found["base_image"] == Setting("amlocal/python-base:bookworm", "user")
    assert found["reuse"] == Setting(None, "default")
    assert setting_values(None) == {"base_image": "amlocal/python-base:bookworm", "executor": "local"}
    assert setting_values(layout) == {"base_image": "amlocal/python-base:bookworm", "executor": "docker"}


def test_image_map_entries_of_both_files_apply_the_workspaces_first(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    layout = WorkspaceLayout(tmp_path / ".amlocal")
    layout.root.mkdir()
    write_user_setting("image_map", "a.io/x:1=local/x:1,b.io/y:2=local/y:2")
    write_setting(layout, "image_map", "b.io/y:2=local/other:9")
    assert effective_settings(layout)["image_map"] == Setting(
        "a.io/x:1=local/x:1,b.io/y:2=local/other:9", "workspace+user")
    assert effective_settings(None)["image_map"] == Setting(
        "a.io/x:1=local/x:1,b.io/y:2=local/y:2", "user")


def test_a_user_setting_chooses_the_executor_and_says_so(workspace, tmp_path, monkeypatch):
    monkeypatch.delenv("AMLOCAL_EXECUTOR")
    write_user_setting("executor", "local")
    choice = choose_executor(workspace._local.layout)
    assert (choice.name, choice.base_image, choice.why) == \
        ("local", None, "steps run as local processes (user setting)")
    write_setting(workspace._local.layout, "executor", "local")
    assert choose_executor(workspace._local.layout).why == \
        "steps run as local processes (workspace setting)"


def test_an_unreadable_user_file_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "xdg" / "amlocal" / "settings"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(SettingsError) as err:
        effective_settings(None)
    assert str(err.value).startswith(f"{path} is not readable JSON (")
    assert str(err.value).endswith("); fix or delete it")
    with pytest.raises(SettingsError, match=r"^unknown setting 'colour'; settings: base_image, "
                                            r"executor, image_map, reuse, service_runs$"):
        write_user_setting("colour", "red")


def test_config_user_writes_the_user_file_and_creates_no_workspace(tmp_path):
    folder, xdg = tmp_path / "project", tmp_path / "xdg"
    folder.mkdir()
    env = {"AMLOCAL_HOME": "", "XDG_CONFIG_HOME": str(xdg)}
    done = amlocal("config", "--user", "base_image", "amlocal/python-base:bookworm", cwd=folder, env=env)
    path = xdg / "amlocal" / "settings"
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        f"amlocal: set base_image=amlocal/python-base:bookworm in {path}",
        f"base_image   amlocal/python-base:bookworm user      {BASE_LINE}"]
    assert json.loads(path.read_text()) == {"base_image": "amlocal/python-base:bookworm"}
    assert list(folder.iterdir()) == []
    shown = amlocal("config", "base_image", cwd=folder, env=env)
    assert (shown.returncode, shown.stdout.splitlines()) == \
        (0, [f"base_image   amlocal/python-base:bookworm user      {BASE_LINE}"])
    removed = amlocal("config", "--user", "--unset", "base_image", cwd=folder, env=env)
    assert removed.returncode == 0
    assert removed.stdout.splitlines() == [
        f"amlocal: removed base_image from {path}",
        f"base_image   (not set; default python:3.11-slim) default   {BASE_LINE}"]
    assert json.loads(path.read_text()) == {}


def test_config_shows_where_each_value_comes_from(tmp_path):
    xdg = tmp_path / "xdg"
    env = {"AMLOCAL_HOME": str(tmp_path / ".amlocal"), "XDG_CONFIG_HOME": str(xdg)}
    _user_file(xdg, base_image="amlocal/python-base:bookworm", executor="docker")
    assert amlocal("config", "executor", "local", cwd=tmp_path, env=env).returncode == 0
    shown = amlocal("config", cwd=tmp_path, env=env)
    assert shown.returncode == 0
    assert shown.stdout.splitlines()[:2] == [
        f"base_image   amlocal/python-base:bookworm user      {BASE_LINE}",
        f"executor     local                    workspace {EXECUTOR_LINE}"]
    assert shown.stdout.splitlines()[3] == (
        "reuse        (not set; default content) default   content: reuse only when input data "
        "is unchanged (default); azure: as Azure, datastore inputs by path only")
    note = amlocal("config", "--user", "executor", "auto", cwd=tmp_path, env=env)
    assert note.returncode == 0
    assert note.stderr == (f"amlocal: note: this workspace's own executor wins here "
                           f"({tmp_path / '.amlocal' / 'settings.json'})\n")
    assert note.stdout.splitlines()[-1] == f"executor     local                    workspace {EXECUTOR_LINE}"


def test_config_user_refuses_an_unknown_setting_in_one_line(tmp_path):
    xdg = tmp_path / "xdg"
    env = {"AMLOCAL_HOME": "", "XDG_CONFIG_HOME": str(xdg)}
    bad = amlocal("config", "--user", "colour", "red", cwd=tmp_path, env=env)
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == ("amlocal: error: unknown setting 'colour'; settings: base_image, "
                          "executor, image_map, reuse, service_runs\n")
    wrong = amlocal("config", "--user", "executor", "podman", cwd=tmp_path, env=env)
    assert (wrong.returncode, wrong.stderr) == \
        (1, "amlocal: error: setting executor takes one of auto, docker, local, not 'podman'\n")
    assert list(tmp_path.iterdir()) == []  # neither a settings folder nor a workspace
