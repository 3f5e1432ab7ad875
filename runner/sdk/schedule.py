"""`Schedule`: run a published pipeline (or a pipeline endpoint's default version) on a
recurrence. Stored in the workspace database and fired by the workspace service, which
`Schedule.create` starts when none runs. Datastore-change schedules are not provided yet.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from runner.schedule_time import schedule_next_fire, zone
from runner.sdk.data import parameter_values
from runner.sdk.schedule_recurrence import ScheduleRecurrence, TimeZone
from runner.service_control import SCHEDULE_TAG, ensure_service
from runner.step_runtime.exceptions import UserErrorException
from store import catalog
from store import schedules as store_schedules
from store.errors import NotFoundError
from store.records import ScheduleRecord

__all__ = ["Schedule", "ScheduleRecurrence", "TimeZone"]

_DATASTORE_HINT = ("amlocal does not provide datastore-triggered schedules yet: give a "
                   "recurrence=ScheduleRecurrence(...), or rerun on change with `amlocal watch`")


def _recurrence_json(recurrence: ScheduleRecurrence) -> dict[str, Any]:
    recurrence.validate()
    tz = recurrence.time_zone.value if isinstance(recurrence.time_zone, TimeZone) else None
    zone(tz)  # an unknown zone is refused now, not when the service fires
    return {"frequency": recurrence.frequency, "interval": recurrence.interval,
            "start_time": recurrence.start_time, "time_zone": tz,
            "hours": recurrence.hours, "minutes": recurrence.minutes,
            "week_days": recurrence.week_days}


class Schedule:
    """A recurrence schedule of a published pipeline; the workspace service fires it."""

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
        self._continue_on_step_failure = continue_on_step_failure

    @staticmethod
    def _of(workspace: Any, record: ScheduleRecord) -> "Schedule":
        raw = dict(record.recurrence)
        tz = TimeZone(raw["time_zone"]) if raw.get("time_zone") else None
        recurrence = ScheduleRecurrence(raw["frequency"], raw["interval"], raw.get("start_time"),
                                        tz, raw.get("hours"), raw.get("minutes"),
                                        raw.get("week_days"))
        schedule = Schedule(workspace, record.id, record.name, record.description,
                            record.pipeline_id, record.status, recurrence,
                            continue_on_step_failure=record.continue_on_step_failure,
                            pipeline_endpoint_id=record.pipeline_endpoint_id)
        schedule._record = record
        return schedule

    @staticmethod
    def _create(workspace: Any, name: str, experiment_name: str, recurrence: Any,
                description: str | None, pipeline_parameters: dict | None, datastore: Any,
                continue_on_step_failure: bool | None, pipeline_id: str | None,
                endpoint_id: str | None) -> "Schedule":
        if datastore is not None:
            raise UserErrorException(_DATASTORE_HINT)
        if recurrence is None:
            raise ValueError("Schedule requires a recurrence (ScheduleRecurrence) or a datastore.")
        conn = workspace._local.conn
        schedule_id = store_schedules.create_schedule(
            conn, name, description, pipeline_id, endpoint_id, experiment_name,
            parameter_values(pipeline_parameters or {}), _recurrence_json(recurrence),
            continue_on_step_failure)
        ensure_service(workspace._local.layout)
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
                                pipeline_parameters, datastore, continue_on_step_failure,
                                pipeline_id, None)

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
            get_endpoint(workspace._local.conn, endpoint_id=pipeline_endpoint_id)
        except NotFoundError as exc:
            raise UserErrorException(str(exc)) from None
        return Schedule._create(workspace, name, experiment_name, recurrence, description,
                                pipeline_parameters, datastore, continue_on_step_failure,
                                None, pipeline_endpoint_id)

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
    def next_fire_time(self) -> dt.datetime:
        """When the service fires this schedule next (aware UTC; amlocal's own property)."""
        record = store_schedules.get_schedule(self._workspace._local.conn, self._id)
        return schedule_next_fire(record.recurrence, record.last_fired_at, record.created_at)

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Fire again (the service is started when none runs)."""
        store_schedules.set_schedule_status(self._workspace._local.conn, self._id, "Active")
        self._status = "Active"
        ensure_service(self._workspace._local.layout)

    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Stop firing until enabled."""
        store_schedules.set_schedule_status(self._workspace._local.conn, self._id, "Disabled")
        self._status = "Disabled"

    def update(self, name: str | None = None, description: str | None = None,
               recurrence: Any = None, pipeline_parameters: dict | None = None, **kwargs: Any) -> None:
        """Not provided yet: disable this schedule and create a new one."""
        raise UserErrorException("amlocal does not provide Schedule.update yet: disable() this "
                                 "schedule and Schedule.create(...) a new one")

    @staticmethod
    def load_yaml(workspace: Any, filename: str, _workflow_provider: Any = None,
                  _service_endpoint: Any = None) -> dict:
        """Not provided yet: give the recurrence to Schedule.create in code."""
        raise UserErrorException("amlocal does not provide Schedule.load_yaml yet: build a "
                                 "ScheduleRecurrence in code and pass it to Schedule.create")

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
