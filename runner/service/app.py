"""The service's routes, in Azure ML's pipelines REST shape (FastAPI; OpenAPI at /docs).

Every route needs `Authorization: Bearer <workspace token>`; a missing or wrong token is a
401 and never starts a run. Errors are Azure's `ErrorResponse` JSON. A submit goes through
the client API (runner/client.py), like every other client, with the service's queue: it
records the run (Queued) and answers; the dispatcher (runner/service/dispatch.py) starts it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from runner.client import Client, SubmitOptions, WorkspaceIdentity
from runner.errors import RunnerError
from runner.service.assignments import AssignmentError, parameter_values
from runner.service.dispatch import RunDispatcher, runner_slots
from runner.service.scheduler import run_schedules
from runner.service.token_gate import TokenGate
from runner.service_control import API_PREFIX, SCHEDULE_TAG
from runner.spec import PipelineSpec
from store import catalog
from store.errors import NotFoundError, StoreError
from store.pipeline_endpoints import get_endpoint
from store.records import PipelineRunRecord, PublishedPipelineRecord
from store.runs import get_pipeline_run
from store.workspace import OpenWorkspace

MAX_BODY_BYTES = 1 << 20
WORKSPACE = (API_PREFIX + "/subscriptions/{sub}/resourceGroups/{rg}/providers/"
             "Microsoft.MachineLearningServices/workspaces/{ws}")
log = logging.getLogger("amlocal.service")


class ApiError(Exception):
    """An error answered as Azure's ErrorResponse with `status`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """Azure's ErrorResponse: `error` (code, message, details, innerError) and `correlation`."""
    top = "UserError" if 400 <= status < 500 else "SystemError"
    return {"error": {"code": top, "severity": None, "message": message, "messageFormat": None,
                      "messageParameters": None, "referenceCode": None,
                      "details": [], "innerError": {"code": code, "innerError": None}},
            "correlation": None, "environment": "local", "location": "local",
            "time": _iso(time.time()), "componentName": "amlocal"}


def published_entity(record: PublishedPipelineRecord, total_steps: int) -> dict[str, Any]:
    """A published pipeline as Azure's PublishedPipeline entity."""
    return {"Name": record.name, "Description": record.description, "Version": record.version,
            "GraphId": record.pipeline_id, "Id": record.id, "EntityStatus": record.status,
            "TotalRunSteps": total_steps, "ContinueRunOnStepFailure": record.continue_on_step_failure,
            "CreatedDate": _iso(record.created_at)}


def run_entity(run: PipelineRunRecord, total_steps: int, data_paths: dict[str, Any],
               run_source: str, run_type: str) -> dict[str, Any]:
    """A pipeline run as Azure's PipelineRun entity (what PipelineSubmit answers)."""
    params = {k: v for k, v in run.parameters.items() if not isinstance(v, dict)}
    return {"Id": run.id, "Description": None, "PipelineId": run.published_pipeline_id,
            "GraphId": run.pipeline_id, "RunHistoryExperimentName": run.experiment_name,
            "Status": {"StatusCode": run.status, "StatusDetail": run.error,
                       "CreationTime": _iso(run.created_at), "EndTime": _iso(run.end_time)},
            "ParameterAssignments": {k: str(v) for k, v in params.items()},
            "DataPathAssignments": data_paths, "DataSetDefinitionValueAssignments": {},
            "RunSource": run_source, "RunType": run_type, "TotalRunSteps": total_steps,
            "ContinueRunOnStepFailure": run.continue_on_step_failure,
            "ScheduleId": run.tags.get(SCHEDULE_TAG),
            "tags": dict(run.tags), "Properties": dict(run.properties),
            "EntityStatus": "Active", "CreatedDate": _iso(run.created_at),
            "RunUrl": f"amlocal show {run.id}"}


def _dataset_definition(conn: Any, asset_id: str) -> dict[str, Any] | None:
    """The definition of the registered dataset version `asset_id` (None: there is none)."""
    from store import registry
    try:
        record = registry.get_by_id(conn, asset_id)
    except NotFoundError:
        return None
    return dict(record.definition) if record.kind == "dataset" else None


async def _json_body(request: Request) -> dict[str, Any]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "RequestTooLarge", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object")
    return parsed


def create_app(local: OpenWorkspace, slots: int | None = None) -> FastAPI:
    """The service's ASGI app for the open workspace `local`; its queue runs at most `slots`
    runs at once (None: the `service_runs` setting, else one per CPU)."""
    dispatcher = RunDispatcher(local.layout, slots or runner_slots(local.layout))
    client = Client(local, queue=dispatcher)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        dispatcher.start()
        task = asyncio.create_task(run_schedules(local, client=client))
        try:
            yield
        finally:
            task.cancel()
            dispatcher.stop()

    app = FastAPI(title="amlocal workspace service", lifespan=lifespan,
                  description="Azure ML pipelines REST (v1.0) for a local workspace. Every call "
                              "needs `Authorization: Bearer <token>` (`amlocal service token`).")

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        log.info("%d %s %s: %s", exc.status, request.method, request.url.path, exc.message)
        return JSONResponse(error_body(exc.status, exc.code, exc.message), status_code=exc.status)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
        # a failing request never takes the service down: it is answered 500 and logged
        log.error("500 %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse(error_body(500, "InternalError", f"{type(exc).__name__}: {exc}"),
                            status_code=500)

    app.add_middleware(TokenGate, layout=local.layout, error_body=error_body)

    def _published(pipeline_id: str) -> tuple[PublishedPipelineRecord, PipelineSpec]:
        try:
            record = catalog.get_published_pipeline(local.conn, pipeline_id)
        except NotFoundError:
            raise ApiError(404, "NotFound", f"Published pipeline {pipeline_id} not found") from None
        spec = PipelineSpec.from_json(catalog.get_pipeline(local.conn, record.pipeline_id).spec)
        return record, spec

    async def _submit(record: PublishedPipelineRecord, spec: PipelineSpec, body: dict[str, Any],
                      identity: WorkspaceIdentity) -> JSONResponse:
        if record.status != "Active":
            raise ApiError(400, "PipelineDisabled",
                           f"Published pipeline {record.id} is {record.status}; enable it first")
        experiment = body.get("ExperimentName")
        if not isinstance(experiment, str) or not experiment.strip():
            raise ApiError(400, "BadRequest", "ExperimentName is required (a non-empty string)")
        try:
            values = parameter_values(spec.parameters, body.get("ParameterAssignments"),
                                      body.get("DataPathAssignments"),
                                      body.get("DataSetDefinitionValueAssignments"),
                                      lambda asset_id: _dataset_definition(local.conn, asset_id))
        except AssignmentError as exc:
            raise ApiError(400, "BadArgument", str(exc)) from None
        tags = body.get("tags") or {}
        if not isinstance(tags, dict):
            raise ApiError(400, "BadRequest", "tags must be a JSON object")
        continue_on_failure = body.get("ContinueRunOnStepFailure")
        if continue_on_failure is None:
            continue_on_failure = record.continue_on_step_failure
        options = SubmitOptions(
            experiment_name=experiment, pipeline_name=record.name, parameters=values,
            tags={str(k): str(v) for k, v in tags.items()},
            continue_on_step_failure=bool(continue_on_failure),
            identity=identity, published_pipeline_id=record.id)
        try:
            submitted = client.submit(spec, options)
        except (RunnerError, StoreError, ValueError) as exc:
            raise ApiError(400, "SubmitFailed", str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - check_parameters raises the SDK's bare Exception
            raise ApiError(400, "BadArgument", str(exc)) from None
        log.info("submitted run %s of published pipeline %s", submitted.run_id, record.id)
        run = get_pipeline_run(local.conn, submitted.run_id)
        return JSONResponse(run_entity(run, len(spec.steps), body.get("DataPathAssignments") or {},
                                       str(body.get("RunSource") or "SDK"),
                                       str(body.get("RunType") or "HTTP")))

    @app.post(WORKSPACE + "/PipelineRuns/PipelineSubmit/{pipeline_id}",
              summary="Submit a run of a published pipeline")
    async def pipeline_submit(sub: str, rg: str, ws: str, pipeline_id: str,
                              request: Request) -> JSONResponse:
        body = await _json_body(request)
        record, spec = _published(pipeline_id)
        return await _submit(record, spec, body, WorkspaceIdentity(sub, rg, ws))

    @app.post(WORKSPACE + "/PipelineRuns/PipelineEndpointSubmit/Id/{endpoint_id}",
              summary="Submit a run of a pipeline endpoint's default (or named) version")
    async def endpoint_submit(sub: str, rg: str, ws: str, endpoint_id: str, request: Request,
                              pipelineVersion: str | None = None) -> JSONResponse:
        body = await _json_body(request)
        try:
            endpoint = get_endpoint(local.conn, endpoint_id=endpoint_id)
        except NotFoundError:
            raise ApiError(404, "NotFound", f"Pipeline endpoint {endpoint_id} not found") from None
        if endpoint.status != "Active":
            raise ApiError(400, "PipelineEndpointDisabled",
                           f"Pipeline endpoint {endpoint.name} is {endpoint.status}; enable it first")
        version = pipelineVersion if pipelineVersion is not None else endpoint.default_version
        pipeline_id = dict(endpoint.versions).get(version)
        if pipeline_id is None:
            raise ApiError(404, "NotFound", f"Pipeline endpoint {endpoint.name} has no version "
                                            f"{version} (its versions: "
                                            f"{', '.join(v for v, _ in endpoint.versions)})")
        record, spec = _published(pipeline_id)
        return await _submit(record, spec, body, WorkspaceIdentity(sub, rg, ws))

    @app.get(WORKSPACE + "/PublishedPipelines/Id/{pipeline_id}", summary="A published pipeline")
    async def get_published(sub: str, rg: str, ws: str, pipeline_id: str) -> JSONResponse:
        record, spec = _published(pipeline_id)
        return JSONResponse(published_entity(record, len(spec.steps)))

    @app.get(WORKSPACE + "/PublishedPipelines", summary="The published pipelines")
    async def list_published(sub: str, rg: str, ws: str, activeOnly: bool = True) -> JSONResponse:
        out = []
        for record in catalog.list_published_pipelines(local.conn, activeOnly):
            steps = catalog.get_pipeline(local.conn, record.pipeline_id).spec["steps"]
            out.append(published_entity(record, len(steps)))
        return JSONResponse(out)

    @app.get(WORKSPACE + "/PipelineRuns/{run_id}", summary="A pipeline run")
    async def get_run(sub: str, rg: str, ws: str, run_id: str) -> JSONResponse:
        try:
            run = get_pipeline_run(local.conn, run_id)
        except NotFoundError:
            raise ApiError(404, "NotFound", f"Pipeline run {run_id} not found") from None
        steps = catalog.get_pipeline(local.conn, run.pipeline_id).spec["steps"]
        return JSONResponse(run_entity(run, len(steps), {}, "SDK", "HTTP"))

    return app
