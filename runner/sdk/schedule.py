"""`Schedule`: run a published pipeline (or a pipeline endpoint's default version) on a
recurrence, or when files directly in a datastore folder are added or modified. Stored in
the workspace database and fired by the workspace service, which `Schedule.create` starts
when none runs.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from runner.schedule_time import schedule_next_fire
from runner.sdk.data import parameter_values
from runner.sdk.schedule_options import (check_create, check_data_path_parameter, checked_path,
                                         datastore_name_of, datastore_trigger, files_now,
                                         load_schedule_yaml, polling_minutes, recurrence_json,
                                         recurrence_of)
from runner.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone
from runner.service_control import SCHEDULE_TAG, ensure_service
from runner.step_runtime.exceptions import UserErrorException
from store import catalog
from store import schedules as store_schedules
from store.errors import NotFoundError
from store.records import ScheduleRecord

__all__ = ["Schedule", "ScheduleRecurrence", "TimeZone"]


class Schedule:
    """A schedule of a published pipeline or endpoint: on a recurrence, or on changes to the
    files directly under `path_on_datastore` of a datastore; the workspace service fires it."""

    def __init__(self, workspace: Any, id: str, name: str, description: str | None,
                 pipeline_id: str | None, status: str, recurrence: ScheduleRecurrence | None,
                 datastore_name: str | None = None, polling_interval: int | None = None,
                 data_path_parameter_name: str | None = None,
                 continue_on_step_failure: bool | None = None,
                 path_on_datastore: str | None = None, _schedule_provider: Any = None,
                 pipeline_endpoint_id: str | None = None) -> None:
        self._workspace = workspace
        self._id, self._name, self._description = id, name, description
        self._pipeline_id, self._pipeline_endpoint_id = pipeline_id, pipeline_endpoint_id
        self._status, self._recurrence = status, recurrence
        self._datastore_name, self._polling_interval = datastore_name, polling_interval
        self._data_path_parameter_name = data_path_parameter_name
        self._continue_on_step_failure = continue_on_step_failure
        self._path_on_datastore = path_on_datastore
        self._schedule_type = "Recurrence" if recurrence is not None else "DataStore"

    @staticmethod
    def _of(workspace: Any, record: ScheduleRecord) -> "Schedule":
        trigger = record.datastore_trigger or {}
        schedule = Schedule(workspace, record.id, record.name, record.description,
                            record.pipeline_id, record.status, recurrence_of(record.recurrence),
                            datastore_name=trigger.get("datastore"),
                            polling_interval=trigger.get("polling_interval"),
                            data_path_parameter_name=trigger.get("data_path_parameter_name"),
                            continue_on_step_failure=record.continue_on_step_failure,
                            path_on_datastore=trigger.get("path_on_datastore"),
                            pipeline_endpoint_id=record.pipeline_endpoint_id)
        schedule._record = record
        return schedule

    @staticmethod
    def _create(workspace: Any, name: str, experiment_name: str, recurrence: Any,
                description: str | None, pipeline_parameters: dict | None, datastore: Any,
                polling_interval: Any, data_path_parameter_name: str | None,
                continue_on_step_failure: bool | None, path_on_datastore: str | None,
                pipeline_id: str | None, endpoint_id: str | None,
                published_id: str) -> "Schedule":
        check_create(recurrence, datastore, data_path_parameter_name, path_on_datastore)
        local = workspace._local
        trigger, files, when = None, None, None
        if recurrence is not None:
            when = recurrence_json(recurrence)
        else:
            trigger = datastore_trigger(datastore_name_of(datastore), checked_path(path_on_datastore),
                                        polling_minutes(polling_interval), data_path_parameter_name)
            check_data_path_parameter(local.conn, published_id, data_path_parameter_name)
            files = files_now(local.layout, trigger)
        schedule_id = store_schedules.create_schedule(
            local.conn, name, description, pipeline_id, endpoint_id, experiment_name,
            parameter_values(pipeline_parameters or {}), when, continue_on_step_failure,
            datastore_trigger=trigger, watched_files=files)
        ensure_service(local.layout)
        return Schedule.get(workspace, schedule_id)

    @staticmethod
    def create(workspace: Any, name: str, pipeline_id: str, experiment_name: str,
               recurrence: ScheduleRecurrence | None = None, description: str | None = None,
               pipeline_parameters: dict | None = None, wait_for_provisioning: bool = False,
               wait_timeout: int = 3600, datastore: Any = None, polling_interval: int = 5,
               data_path_parameter_name: str | None = None,
               continue_on_step_failure: bool | None = None, path_on_datastore: str | None = None,
               _workflow_provider: Any = None, _service_endpoint: Any = None) -> "Schedule":
        """Schedule the published pipeline `pipeline_id` to run in `experiment_name`."""
        try:
            catalog.get_published_pipeline(workspace._local.conn, pipeline_id)
        except NotFoundError as exc:
            raise UserErrorException(str(exc)) from None
        return Schedule._create(workspace, name, experiment_name, recurrence, description,
                                pipeline_parameters, datastore, polling_interval,
                                data_path_parameter_name, continue_on_step_failure,
                                path_on_datastore, pipeline_id, None, pipeline_id)

    @staticmethod
    def create_for_pipeline_endpoint(workspace: Any, name: str, pipeline_endpoint_id: str,
                                     experiment_name: str, recurrence: ScheduleRecurrence | None = None,
                                     description: str | None = None,
                                     pipeline_parameters: dict | None = None,
                                     wait_for_provisioning: bool = False, wait_timeout: int = 3600,
                                     datastore: Any = None, polling_interval: int = 5,
                                     data_path_parameter_name: str | None = None,
                                     continue_on_step_failure: bool | None = None,
                                     path_on_datastore: str | None = None,
                                     _workflow_provider: Any = None,
                                     _service_endpoint: Any = None) -> "Schedule":
        """Schedule the default version of the endpoint `pipeline_endpoint_id`."""
        from store.pipeline_endpoints import get_endpoint
        try:
            endpoint = get_endpoint(workspace._local.conn, endpoint_id=pipeline_endpoint_id)
        except NotFoundError as exc:
            raise UserErrorException(str(exc)) from None
        return Schedule._create(workspace, name, experiment_name, recurrence, description,
                                pipeline_parameters, datastore, polling_interval,
                                data_path_parameter_name, continue_on_step_failure,
                                path_on_datastore, None, pipeline_endpoint_id,
                                dict(endpoint.versions)[endpoint.default_version])

    @staticmethod
    def get(workspace: Any, id: str, _workflow_provider: Any = None,
            _service_endpoint: Any = None) -> "Schedule":
        """The schedule `id`."""
        try:
            return Schedule._of(workspace, store_schedules.get_schedule(workspace._local.conn, id))
        except NotFoundError as exc:
            raise UserErrorException(str(exc)) from None

    @staticmethod
    def list(workspace: Any, active_only: bool = True, pipeline_id: str | None = None,
             pipeline_endpoint_id: str | None = None, _workflow_provider: Any = None,
             _service_endpoint: Any = None) -> list["Schedule"]:
        """The workspace's schedules (of one pipeline or endpoint when named)."""
        return [Schedule._of(workspace, r)
                for r in store_schedules.list_schedules(workspace._local.conn, active_only)
                if (pipeline_id is None or r.pipeline_id == pipeline_id)
                and (pipeline_endpoint_id is None or r.pipeline_endpoint_id == pipeline_endpoint_id)]

    @staticmethod
    def get_all(workspace: Any, active_only: bool = True, pipeline_id: str | None = None,
                pipeline_endpoint_id: str | None = None, _workflow_provider: Any = None,
                _service_endpoint: Any = None) -> list["Schedule"]:
        """Deprecated alias of `list`."""
        return Schedule.list(workspace, active_only, pipeline_id, pipeline_endpoint_id)

    @staticmethod
    def get_schedules_for_pipeline_id(workspace: Any, pipeline_id: str) -> list["Schedule"]:
        """Every schedule of the published pipeline `pipeline_id`."""
        return Schedule.list(workspace, active_only=False, pipeline_id=pipeline_id)

    @staticmethod
    def get_schedules_for_pipeline_endpoint_id(workspace: Any, pipeline_endpoint_id: str) -> list["Schedule"]:
        """Every schedule of the endpoint `pipeline_endpoint_id`."""
        return Schedule.list(workspace, active_only=False, pipeline_endpoint_id=pipeline_endpoint_id)

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def pipeline_id(self) -> str | None:
        return self._pipeline_id

    @property
    def pipeline_endpoint_id(self) -> str | None:
        return self._pipeline_endpoint_id

    @property
    def status(self) -> str:
        return self._status

    @property
    def recurrence(self) -> ScheduleRecurrence | None:
        return self._recurrence

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._continue_on_step_failure

    @property
    def datastore_name(self) -> str | None:
        """The datastore a datastore schedule watches (None for a recurrence schedule)."""
        return self._datastore_name

    @property
    def polling_interval(self) -> int | None:
        """Minutes between polls in Azure (recorded; amlocal sees changes as they happen)."""
        return self._polling_interval

    @property
    def data_path_parameter_name(self) -> str | None:
        """The DataPath parameter set to the changed file's path."""
        return self._data_path_parameter_name

    @property
    def path_on_datastore(self) -> str | None:
        """The folder watched (None: the datastore's root); its sub-folders are not watched."""
        return self._path_on_datastore

    @property
    def next_fire_time(self) -> dt.datetime | None:
        """When the service fires this schedule next (aware UTC; amlocal's own property);
        None for a datastore schedule, which fires on a change."""
        record = store_schedules.get_schedule(self._workspace._local.conn, self._id)
        if record.recurrence is None:
            return None
        return schedule_next_fire(record.recurrence, record.last_fired_at, record.created_at)

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Fire again (the service is started when none runs). A datastore schedule fires on
        changes from now on: what changed while it was disabled does not fire it."""
        self.update(status="Active")

    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Stop firing until enabled."""
        self.update(status="Disabled")

    def update(self, name: str | None = None, description: str | None = None,
               recurrence: Any = None, pipeline_parameters: dict | None = None,
               status: str | None = None, wait_for_provisioning: bool = False,
               wait_timeout: int = 3600, datastore: Any = None, polling_interval: int | None = None,
               data_path_parameter_name: str | None = None,
               continue_on_step_failure: bool | None = None,
               path_on_datastore: str | None = None) -> None:
        """Change what is given (None keeps a field; `pipeline_parameters` replaces them all).
        A recurrence only for a recurrence schedule, a datastore only for a datastore one."""
        if recurrence is not None:
            if self._schedule_type != "Recurrence":
                raise ValueError("Can not specify a recurrence for a Datastore schedule.")
            recurrence.validate()
        if datastore is not None:
            if self._schedule_type != "DataStore":
                raise ValueError("Can not specify a Datastore for a Recurrence schedule.")
        if status is not None and status not in ("Active", "Disabled"):
            raise ValueError("Status must be either Active or Disabled")
        local = self._workspace._local
        try:
            record = store_schedules.get_schedule(local.conn, self._id)
        except NotFoundError as exc:
            raise UserErrorException(str(exc)) from None
        fields: dict[str, Any] = {key: value for key, value in (
            ("name", name), ("description", description), ("status", status),
            ("continue_on_step_failure", continue_on_step_failure)) if value is not None}
        if pipeline_parameters is not None:
            fields["parameters"] = parameter_values(pipeline_parameters)
        if recurrence is not None:
            fields["recurrence"] = recurrence_json(recurrence)
        if record.datastore_trigger is not None:
            old = dict(record.datastore_trigger)
            trigger = datastore_trigger(
                datastore_name_of(datastore) if datastore is not None else old["datastore"],
                checked_path(path_on_datastore) if path_on_datastore is not None
                else old["path_on_datastore"],
                polling_minutes(polling_interval) if polling_interval is not None
                else old["polling_interval"],
                data_path_parameter_name if data_path_parameter_name is not None
                else old["data_path_parameter_name"])
            if trigger["data_path_parameter_name"] != old["data_path_parameter_name"] \
                    and record.pipeline_id is not None:
                check_data_path_parameter(local.conn, record.pipeline_id,
                                          trigger["data_path_parameter_name"])
            watch_anew = (trigger["datastore"], trigger["path_on_datastore"]) != \
                (old["datastore"], old["path_on_datastore"]) or (
                    status == "Active" and record.status != "Active")
            if watch_anew:  # what is there now never fires it
                fields["watched_files"] = files_now(local.layout, trigger)
            fields["datastore_trigger"] = trigger
        updated = store_schedules.update_schedule(local.conn, self._id, **fields)
        fresh = Schedule._of(self._workspace, updated)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_workspace"})
        if updated.status == "Active":
            ensure_service(local.layout)

    @staticmethod
    def load_yaml(workspace: Any, filename: str, _workflow_provider: Any = None,
                  _service_endpoint: Any = None) -> dict:
        """The `Schedule:` section of a YAML file as Schedule.create's arguments (the SDK's
        keys: description, recurrence, pipeline_parameters, datastore_name, polling_interval,
        data_path_parameter_name, continue_on_step_failure, path_on_datastore, …)."""
        return load_schedule_yaml(workspace, filename)

    def get_pipeline_runs(self) -> list[Any]:
        """The runs this schedule started, newest first."""
        from runner.sdk.experiment import Experiment
        from runner.sdk.runs import PipelineRun
        record = store_schedules.get_schedule(self._workspace._local.conn, self._id)
        experiment = Experiment(self._workspace, record.experiment_name)
        return [run for run in experiment.get_runs(tags={SCHEDULE_TAG: self._id})
                if isinstance(run, PipelineRun)]

    def get_last_pipeline_run(self) -> Any:
        """The latest run this schedule started, or None."""
        runs = self.get_pipeline_runs()
        return runs[0] if runs else None

    def __repr__(self) -> str:
        return f"Schedule(Name: {self._name}, Id: {self._id}, Status: {self._status})"
