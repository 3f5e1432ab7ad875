"""What `Schedule.create`, `Schedule.update` and `Schedule.load_yaml` check and build: the
SDK's validation (with its messages), a datastore schedule's trigger, and the SDK's YAML shape.
"""
from __future__ import annotations

from typing import Any, Mapping

import yaml

from runner.schedule_time import zone
from runner.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone
from runner.spec import PipelineSpec
from runner.step_runtime.exceptions import UserErrorException
from store import catalog
from store.datastore_changes import folder_files, watched_folder
from store.datastore_paths import normalize_datastore_path
from store.errors import StoreError
from store.layout import WorkspaceLayout

DEFAULT_POLLING_MINUTES = 5
# The keys the SDK reads from a schedule YAML (azureml/pipeline/core/_yaml_keys.py).
SCHEDULE_YAML_KEYS = ("description", "pipeline_parameters", "wait_for_provisioning",
                      "wait_timeout", "datastore_name", "polling_interval",
                      "data_path_parameter_name", "continue_on_step_failure", "path_on_datastore",
                      "recurrence")
RECURRENCE_YAML_KEYS = ("frequency", "interval", "start_time", "time_zone", "hours", "minutes",
                        "time_of_day", "week_days")
_YAML_NONE = ("None", "none", "null", "Null", "~")


def recurrence_json(recurrence: ScheduleRecurrence) -> dict[str, Any]:
    """A validated recurrence as the store keeps it (an unknown time zone is refused now)."""
    recurrence.validate()
    tz = recurrence.time_zone.value if isinstance(recurrence.time_zone, TimeZone) else None
    zone(tz)
    return {"frequency": recurrence.frequency, "interval": recurrence.interval,
            "start_time": recurrence.start_time, "time_zone": tz,
            "hours": recurrence.hours, "minutes": recurrence.minutes,
            "week_days": recurrence.week_days}


def recurrence_of(raw: Mapping[str, Any] | None) -> ScheduleRecurrence | None:
    """The stored recurrence as a ScheduleRecurrence (None for a datastore schedule)."""
    if raw is None:
        return None
    tz = TimeZone(raw["time_zone"]) if raw.get("time_zone") else None
    return ScheduleRecurrence(raw["frequency"], raw["interval"], raw.get("start_time"), tz,
                              raw.get("hours"), raw.get("minutes"), raw.get("week_days"))


def check_create(recurrence: Any, datastore: Any, data_path_parameter_name: str | None,
                 path_on_datastore: str | None) -> None:
    """A schedule has a recurrence or a datastore, and datastore options only with a datastore."""
    if recurrence is not None:
        if datastore is not None:
            raise ValueError("Can not specify both a Recurrence and a Datastore")
        if data_path_parameter_name is not None:
            raise ValueError("Data Path parameter name can only be specified for Datastore schedules.")
        if path_on_datastore is not None:
            raise ValueError("Path on datastore parameter can only be specified for Datastore "
                             "schedules.")
    elif datastore is None:
        raise ValueError("Schedule requires a recurrence (ScheduleRecurrence) or a datastore.")


def datastore_name_of(datastore: Any) -> str:
    """The name of a blob datastore (what Azure can watch); ValueError for another kind."""
    if not hasattr(datastore, "datastore_type") or not hasattr(datastore, "name"):
        raise UserErrorException(f"datastore must be a Datastore (Datastore(ws, name)), got "
                                 f"{type(datastore).__name__} {datastore!r}")
    if datastore.datastore_type != "AzureBlob":
        raise ValueError("Datastore must be of type AzureBlobDatastore")
    return str(datastore.name)


def polling_minutes(polling_interval: Any) -> int:
    """The polling interval in minutes (recorded; amlocal sees changes as they happen)."""
    if polling_interval is None:
        return DEFAULT_POLLING_MINUTES
    if isinstance(polling_interval, bool) or not isinstance(polling_interval, int):
        raise ValueError(f"The polling interval must be an int (minutes), got "
                         f"{type(polling_interval).__name__} {polling_interval!r}")
    if polling_interval < 0:
        raise ValueError("The polling interval must be greater than or equal to 0 (minutes)")
    return polling_interval


def checked_path(path_on_datastore: str | None) -> str | None:
    """`path_on_datastore` as given, once it is known to stay inside the datastore."""
    if path_on_datastore is None:
        return None
    try:
        normalize_datastore_path(path_on_datastore)
    except StoreError as exc:
        raise UserErrorException(str(exc)) from None
    return str(path_on_datastore)


def check_data_path_parameter(conn: Any, published_id: str, name: str | None) -> None:
    """The parameter a datastore schedule assigns must be a DataPath parameter of the pipeline."""
    if name is None:
        return
    published = catalog.get_published_pipeline(conn, published_id)
    params = PipelineSpec.from_json(catalog.get_pipeline(conn, published.pipeline_id).spec).parameters
    if name not in params:
        raise UserErrorException(f"data_path_parameter_name {name!r} is no parameter of published "
                                 f"pipeline {published_id} (its parameters: "
                                 f"{', '.join(sorted(params)) or 'none'})")
    if params[name].type != "datapath":
        raise UserErrorException(f"data_path_parameter_name {name!r} is a {params[name].type} "
                                 "parameter; it must be a PipelineParameter whose default is a "
                                 "DataPath")


def datastore_trigger(datastore_name: str, path_on_datastore: str | None, polling_interval: int,
                      data_path_parameter_name: str | None) -> dict[str, Any]:
    """A datastore schedule's trigger, as the store keeps it."""
    return {"datastore": datastore_name, "path_on_datastore": path_on_datastore,
            "polling_interval": polling_interval,
            "data_path_parameter_name": data_path_parameter_name}


def files_now(layout: WorkspaceLayout, trigger: Mapping[str, Any]) -> dict[str, list]:
    """The files the trigger's folder holds now: they never fire the schedule."""
    try:
        return folder_files(watched_folder(layout, trigger))
    except StoreError as exc:
        raise UserErrorException(str(exc)) from None


def _none_if_yaml_none(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() in _YAML_NONE else value


def load_schedule_yaml(workspace: Any, filename: str) -> dict[str, Any]:
    """The `Schedule:` section of a schedule YAML as Schedule.create's arguments: a
    `recurrence` becomes a ScheduleRecurrence, a `datastore_name` a Datastore."""
    from runner.sdk.datastore import Datastore
    try:
        with open(filename, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except OSError as exc:
        raise UserErrorException(f"cannot read the schedule YAML {filename}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UserErrorException(f"{filename} is not valid YAML: {exc}") from None
    if not isinstance(loaded, dict) or "Schedule" not in loaded:
        raise ValueError('Schedule Yaml file must have a "Schedule:" section')
    section = loaded["Schedule"] or {}
    extract: dict[str, Any] = {}
    for key in SCHEDULE_YAML_KEYS:
        if key not in section:
            continue
        value = _none_if_yaml_none(section[key])
        if key == "datastore_name" and value is not None:
            value = Datastore(workspace, value)
        elif key == "recurrence" and value is not None:
            raw = {k: _none_if_yaml_none(value.get(k)) for k in RECURRENCE_YAML_KEYS}
            tz = TimeZone(raw["time_zone"]) if raw["time_zone"] is not None else None
            value = ScheduleRecurrence(frequency=raw["frequency"], interval=raw["interval"],
                                       start_time=raw["start_time"], time_zone=tz,
                                       hours=raw["hours"], minutes=raw["minutes"],
                                       time_of_day=raw["time_of_day"], week_days=raw["week_days"])
        extract[key] = value
    return extract
