"""Workspace settings: a few user choices kept in `settings.json` beside the database.

They are plain files so that `amlocal config` and a text editor agree, and so that reading
them costs nothing for commands that never touch the database.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from store.errors import StoreError
from store.layout import WorkspaceLayout

SETTINGS_NAME = "settings.json"

# name → (allowed values or None for free text, what it means)
KNOWN_SETTINGS: dict[str, tuple[tuple[str, ...] | None, str]] = {
    "executor": (("auto", "docker", "local"),
                 "where steps run: auto (Docker when an engine answers), docker or local"),
    "base_image": (None, "the Docker image steps run in when their environment names none"),
    "reuse": (("content", "azure"),
              "content: reuse only when input data is unchanged (default); azure: as Azure, "
              "datastore inputs by path only"),
}


class SettingsError(StoreError):
    """An unknown setting or a value it does not take."""


def settings_path(layout: WorkspaceLayout) -> Path:
    """The settings file of the workspace (it may not exist yet)."""
    return layout.root / SETTINGS_NAME


_path = settings_path


def read_settings(layout: WorkspaceLayout) -> dict[str, str]:
    """The workspace's settings (empty when none were set)."""
    try:
        data = json.loads(_path(layout).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{_path(layout)} is not readable JSON ({exc}); fix or delete it")
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def check_setting(name: str, value: str | None) -> None:
    """Raise SettingsError unless `name` is a setting and `value` (None: removing it) one of
    the values it takes."""
    if name not in KNOWN_SETTINGS:
        raise SettingsError(f"unknown setting {name!r}; settings: {', '.join(sorted(KNOWN_SETTINGS))}")
    allowed = KNOWN_SETTINGS[name][0]
    if value is not None and allowed is not None and value not in allowed:
        raise SettingsError(f"setting {name} takes one of {', '.join(allowed)}, not {value!r}")


def write_setting(layout: WorkspaceLayout, name: str, value: str | None) -> None:
    """Set (or with None, remove) one setting, checking name and value."""
    check_setting(name, value)
    settings = read_settings(layout)
    if value is None:
        settings.pop(name, None)
    else:
        settings[name] = value
    tmp = _path(layout).with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, _path(layout))
