"""Settings: a few user choices kept in plain JSON files, a workspace's over the user's.

Two files, one format (a JSON object of names to strings):
- the workspace's `settings.json` beside its database;
- the user-wide `$XDG_CONFIG_HOME/amlocal/settings` (`~/.config/amlocal/settings`), for the
  choices that hold in every project (a base image, an image map).
A workspace setting wins over the user-wide one, which wins over the default; `image_map`
entries of both files apply, the workspace's winning for the same image. They are plain
files so that `amlocal config` and a text editor agree, and so that reading them costs
nothing for commands that never touch the database.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from store.errors import StoreError
from store.layout import WorkspaceLayout

SETTINGS_NAME = "settings.json"
USER_SETTINGS_NAME = "settings"
IMAGE_MAP = "image_map"
SERVICE_RUNS = "service_runs"
WORKSPACE, USER, DEFAULT = "workspace", "user", "default"

# name → (allowed values or None for free text, what it means)
KNOWN_SETTINGS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "executor": (("auto", "docker", "local"),
                 "where steps run: auto (Docker when an engine answers), docker or local"),
    "base_image": (None, "the Docker image steps run in when their environment names none"),
    IMAGE_MAP: (None, "NAME=LOCAL[,NAME=LOCAL]: run a step whose environment names image NAME "
                      "on the local image LOCAL"),
    SERVICE_RUNS: (None, "how many runs the workspace service runs at once (the others wait "
                         "as Queued)"),
    "reuse": (("content", "azure"),
              "content: reuse only when input data is unchanged (default); azure: as Azure, "
              "datastore inputs by path only"),
}
_IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")
IMAGE_MAP_EXAMPLE = "myregistry.azurecr.io/team/train:3=amlocal/python-base:bookworm"


class SettingsError(StoreError):
    """An unknown setting or a value it does not take."""


@dataclass(frozen=True)
class Setting:
    """A setting's value in effect and where it comes from (workspace, user or default)."""

    value: str | None
    source: str


def settings_path(layout: WorkspaceLayout) -> Path:
    """The settings file of the workspace (it may not exist yet)."""
    return layout.root / SETTINGS_NAME


def user_settings_path() -> Path:
    """The user-wide settings file: `$XDG_CONFIG_HOME/amlocal/settings`, `~/.config/…` when
    XDG_CONFIG_HOME is unset or empty (it may not exist yet)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "amlocal" / USER_SETTINGS_NAME


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path} is not readable JSON ({exc}); fix or delete it")
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def read_settings(layout: WorkspaceLayout) -> dict[str, str]:
    """The workspace's own settings (empty when none were set); see `effective_settings` for
    the values in effect."""
    return _read(settings_path(layout))


def read_user_settings() -> dict[str, str]:
    """The user-wide settings (empty when there is no such file)."""
    return _read(user_settings_path())


def parse_image_map(text: str) -> dict[str, str]:
    """`NAME=LOCAL[,NAME=LOCAL…]` as {NAME: LOCAL}; raises SettingsError naming a malformed
    entry."""
    mapping: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        name, sep, local = (part.strip() for part in entry.partition("="))
        if not sep or not _IMAGE_NAME.fullmatch(name) or not _IMAGE_NAME.fullmatch(local):
            raise SettingsError(f"image_map entry {entry!r} is not NAME=LOCAL "
                                f"(e.g. {IMAGE_MAP_EXAMPLE})")
        mapping[name] = local
    return mapping


def format_image_map(mapping: dict[str, str]) -> str:
    """{NAME: LOCAL} as the setting's text, `NAME=LOCAL,…` sorted by NAME."""
    return ",".join(f"{name}={local}" for name, local in sorted(mapping.items()))


def effective_settings(layout: WorkspaceLayout | None) -> dict[str, Setting]:
    """Every known setting's value in effect and its source: the workspace's (when `layout`
    is given), else the user-wide file's, else none (the default). `image_map` merges both."""
    workspace = read_settings(layout) if layout is not None else {}
    user = read_user_settings()
    found: dict[str, Setting] = {}
    for name in KNOWN_SETTINGS:
        if name == IMAGE_MAP and name in workspace and name in user:
            merged = {**parse_image_map(user[name]), **parse_image_map(workspace[name])}
            found[name] = Setting(format_image_map(merged), f"{WORKSPACE}+{USER}")
        elif name in workspace:
            found[name] = Setting(workspace[name], WORKSPACE)
        elif name in user:
            found[name] = Setting(user[name], USER)
        else:
            found[name] = Setting(None, DEFAULT)
    return found


def setting_values(layout: WorkspaceLayout | None) -> dict[str, str]:
    """The settings in effect that are set somewhere (workspace or user-wide), by name."""
    return {k: s.value for k, s in effective_settings(layout).items() if s.value is not None}


def image_map(layout: WorkspaceLayout | None) -> dict[str, str]:
    """The image map in effect ({registry image: local image}); empty when none is set."""
    return parse_image_map(setting_values(layout).get(IMAGE_MAP, ""))


def check_setting(name: str, value: str | None) -> None:
    """Raise SettingsError unless `name` is a setting and `value` (None: removing it) one of
    the values it takes."""
    if name not in KNOWN_SETTINGS:
        raise SettingsError(f"unknown setting {name!r}; settings: {', '.join(sorted(KNOWN_SETTINGS))}")
    allowed = KNOWN_SETTINGS[name][0]
    if value is not None and allowed is not None and value not in allowed:
        raise SettingsError(f"setting {name} takes one of {', '.join(allowed)}, not {value!r}")
    if value is not None and name == IMAGE_MAP:
        parse_image_map(value)
    if value is not None and name == SERVICE_RUNS and not (value.isdigit() and int(value) >= 1):
        raise SettingsError(f"setting {SERVICE_RUNS} is a number of runs (1 or more), not {value!r}")


def _write(path: Path, name: str, value: str | None) -> None:
    check_setting(name, value)
    settings = _read(path)
    if value is None:
        settings.pop(name, None)
    else:
        settings[name] = value
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def write_setting(layout: WorkspaceLayout, name: str, value: str | None) -> None:
    """Set (or with None, remove) one workspace setting, checking name and value."""
    _write(settings_path(layout), name, value)


def write_user_setting(name: str, value: str | None) -> Path:
    """Set (or with None, remove) one user-wide setting, making its folder if needed;
    returns the file written."""
    path = user_settings_path()
    check_setting(name, value)  # before the folder is made
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, name, value)
    return path
