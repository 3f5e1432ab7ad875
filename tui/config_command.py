"""`amlocal config`: show the settings in effect and where each comes from, or change one in
the workspace's settings file or (with --user) the user-wide one.

Reading never creates a workspace. `image_map` takes a whole map (`NAME=LOCAL,…`) or one
entry at a time: `amlocal config image_map add NAME=LOCAL`, `… image_map remove NAME`.
"""
from __future__ import annotations

import sys
from pathlib import Path

from store.settings import (IMAGE_MAP, IMAGE_MAP_EXAMPLE, KNOWN_SETTINGS, SERVICE_RUNS, WORKSPACE,
                            SettingsError,
                            check_setting, effective_settings, format_image_map, parse_image_map,
                            read_settings, read_user_settings, settings_path, write_setting,
                            write_user_setting)

MAP_ACTIONS = ("add", "remove")


def defaults() -> dict[str, str]:
    """Each setting's value when neither settings file sets it."""
    from runner.executors.docker_engine import DEFAULT_BASE_IMAGE
    return {"executor": "auto", "base_image": DEFAULT_BASE_IMAGE, "reuse": "content",
            IMAGE_MAP: "none", SERVICE_RUNS: "one per CPU"}


def setting_line(name: str, value: str | None, source: str) -> str:
    """One line of `amlocal config`: name, value (or the default), source, meaning."""
    shown = value if value is not None else f"(not set; default {defaults()[name]})"
    return f"{name:<12} {shown:<24} {source:<9} {KNOWN_SETTINGS[name][1]}"


def _new_value(name: str, value: str | None, entry: str | None, unset: bool,
               current: dict[str, str]) -> str | None:
    """The value to write (None: remove the setting), from the command line and the file's
    current settings (`add`/`remove` edit its image map)."""
    if unset:
        if value is not None:
            raise SettingsError(f"--unset takes only the setting's name, not {value!r}")
        return None
    if name == IMAGE_MAP and value in MAP_ACTIONS:
        mapping = parse_image_map(current.get(IMAGE_MAP, ""))
        if entry is None:
            example = IMAGE_MAP_EXAMPLE if value == "add" else IMAGE_MAP_EXAMPLE.split("=")[0]
            raise SettingsError(f"`amlocal config image_map {value}` takes "
                                f"{'NAME=LOCAL' if value == 'add' else 'NAME'}, e.g. "
                                f"`amlocal config image_map {value} {example}`")
        if value == "add":
            mapping.update(parse_image_map(entry))
        elif mapping.pop(entry, None) is None:
            raise SettingsError(f"image_map has no entry for {entry!r}")
        return format_image_map(mapping) or None
    if entry is not None:
        raise SettingsError(f"unexpected argument {entry!r} (only image_map takes add/remove)")
    return value


def cmd_config(name: str | None, value: str | None, unset: bool, entry: str | None = None,
               user: bool = False) -> int:
    """Show every setting, show one, set one, or (with --unset) remove one; with `user`, in
    the user-wide file. Writing a workspace setting creates a workspace if needed."""
    from store.layout import find_or_create_workspace, find_workspace
    from store.workspace import open_workspace
    if name is not None and name not in KNOWN_SETTINGS:
        check_setting(name, None)  # the one-line error naming the settings
    if unset or value is not None:
        if name is None:
            raise SettingsError("name the setting to change")
        if user:
            new = _new_value(name, value, entry, unset, read_user_settings())
            check_setting(name, new)
            written = write_user_setting(name, new)
            layout = find_workspace()
            layout = layout if layout is not None and layout.root.is_dir() else None
        else:
            layout = find_workspace()
            current = read_settings(layout) if layout is not None and layout.root.is_dir() else {}
            new = _new_value(name, value, entry, unset, current)
            check_setting(name, new)  # before anything is made
            layout, created = find_or_create_workspace()
            write_setting(layout, name, new)
            written = settings_path(layout)
            if created:
                open_workspace(layout).conn.close()  # a whole workspace, its database made
                print(f"amlocal: created a workspace in {layout.root}", file=sys.stderr)
        _say_written(name, new, written)
    else:
        layout = find_workspace()
        if layout is None or not layout.root.is_dir():
            print("amlocal: no workspace here or in a parent folder (and AMLOCAL_HOME is not "
                  "set): these are the defaults and user-wide settings", file=sys.stderr)
            layout = None
    settings = effective_settings(layout)
    if user and name is not None and settings[name].source == WORKSPACE:
        print(f"amlocal: note: this workspace's own {name} wins here "
              f"({settings_path(layout)})", file=sys.stderr)  # type: ignore[arg-type]
    for key in ([name] if name else sorted(KNOWN_SETTINGS)):
        print(setting_line(key, settings[key].value, settings[key].source))
    return 0


def _say_written(name: str, value: str | None, path: Path) -> None:
    if value is None:
        print(f"amlocal: removed {name} from {path}")
    else:
        print(f"amlocal: set {name}={value} in {path}")

