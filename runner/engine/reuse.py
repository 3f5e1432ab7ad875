"""Deciding, for one step, whether an earlier step run can stand in for it, and saying why.

Planning is kept apart from executing (as DVC does): `ReusePlanner.decide` only reads the
store and the data; the step execution acts on the decision. Content mode (the default)
hashes every input's data; Azure mode (workspace setting `reuse azure`) identifies datastore
inputs by path and upstream outputs by the step run that wrote them, as the service does.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from runner.engine.fingerprint import describe_changes, fingerprint, reuse_fields
from runner.engine.ingest import replay_parent_metrics
from runner.engine.step_launch import RunFacts, input_host_path
from runner.executors.base import Executor, ResolvedEnvironment
from store import status as st
from store.artifacts import copy_artifacts
from store.content import ContentIndex, changed_files
from store.errors import StoreError
from store.metrics import copy_metrics
from store.runs import update_step_run
from store.snapshots import SnapshotStore

CONTENT_MODE, AZURE_MODE = "content", "azure"


@dataclass(frozen=True)
class ReuseDecision:
    """Reuse `reused` (a finished step run) or run; `reason` says which and why, in words."""

    reused: sqlite3.Row | None
    reason: str
    fingerprint: str
    fields: dict
    about: dict


def spec_identity(environment: dict | None) -> str:
    """An environment as Azure identifies it: its definition, not the image it builds."""
    return "spec:" + fingerprint(environment or {})


def step_label(step_run: sqlite3.Row) -> str:
    return f"{step_run['pipeline_run_id'][:8]}/{step_run['name']}"


class ReusePlanner:
    """Fingerprints steps of one workspace and finds step runs they may reuse."""

    def __init__(self, conn: sqlite3.Connection, facts: RunFacts, mode: str = CONTENT_MODE) -> None:
        self.conn = conn
        self.facts = facts
        self.mode = mode
        self.content = ContentIndex(conn, facts.layout.root / "manifests")
        self.snapshots = SnapshotStore(facts.layout.snapshots_dir, conn)

    def _inputs(self, step: dict) -> tuple[dict[str, str], dict]:
        """Each input port's content id, and where it comes from (for the reasons)."""
        ids: dict[str, str] = {}
        about: dict[str, dict] = {}
        for inp in step.get("inputs", []):
            port, source = inp["port"], inp["source"]
            if source["type"] == "step_output":
                produced = self.facts.producer_outputs.get(source["node"], {}).get(source["output"], {})
                about[port] = {"from": f"step {produced.get('step_name', source['node'])}"}
                ids[port] = (f"run:{produced.get('producer')}/{source['output']}"
                             if self.mode == AZURE_MODE else f"sha256:{produced.get('content_hash')}")
                continue
            path = input_host_path(self.facts, step, inp)
            where = f"{source.get('datastore') or 'datapath'}:{source.get('path') or ''}"
            if self.mode == AZURE_MODE:
                ids[port] = f"path:{where}"
                about[port] = {"from": f"datastore {where}"}
            else:
                tree = self.content.tree(path)
                ids[port] = f"sha256:{tree.hash}"
                about[port] = {"from": f"datastore {where}", "files": tree.files}
        return ids, {"inputs": about}

    def decide(self, step: dict, step_run_id: str, snapshot_id: str | None, environment: str,
               allow_reuse: bool, regenerate: bool, environment_label: str = "") -> ReuseDecision:
        """Reuse or run `step` (whose step run is `step_run_id`), with the reason."""
        inputs, about = self._inputs(step)
        if environment_label:
            about["environment"] = environment_label
        fields = reuse_fields(step, parameters=self.facts.parameters, snapshot_id=snapshot_id,
                              environment=environment, inputs=inputs)
        digest = fingerprint(fields)

        def run(reason: str) -> ReuseDecision:
            return ReuseDecision(None, "rerun: " + reason, digest, fields, about)

        if not allow_reuse:
            return run("allow_reuse=False")
        if regenerate:
            return run("regenerate_outputs=True")
        not_valid: list[str] = []
        for candidate in self.conn.execute(
                "SELECT * FROM step_run WHERE fingerprint = ? AND status = 'Finished' "
                "AND reused_step_run_id IS NULL AND pipeline_run_id != ? ORDER BY end_time DESC",
                (digest, self.facts.pipeline_run_id)):
            problem = self._outputs_problem(candidate)
            if problem is None:
                return ReuseDecision(candidate, f"reused from {step_label(candidate)}",
                                     digest, fields, about)
            not_valid.append(problem)
        if not_valid:
            return run(not_valid[0])
        return run(self._what_changed(step, fields, about, step_run_id))

    def _outputs_problem(self, candidate: sqlite3.Row) -> str | None:
        """Why `candidate`'s outputs cannot be handed on (gone or modified), or None."""
        for port, out in json.loads(candidate["outputs_json"]).items():
            path = Path(out["local_path"])
            who = step_label(candidate)
            if not path.exists():
                return f"output {port} of {who} is gone"
            if out.get("content_hash") and self.content.tree(path).hash != out["content_hash"]:
                return f"output {port} of {who} was modified after it finished"
        return None

    def _what_changed(self, step: dict, fields: dict, about: dict, step_run_id: str) -> str:
        earlier = self.closest_earlier(step["name"], step_run_id)
        if earlier is None:
            return f"no earlier run of step {step['name']}"
        old = json.loads(earlier["fingerprint_json"])
        changes = self.describe(old["fields"], fields, old.get("about", {}), about)
        return "; ".join(changes[:3]) if changes else "its fingerprint changed"

    def describe(self, old: dict, new: dict, about_old: dict, about_new: dict,
                 detail: bool = False) -> list[str]:
        """What differs between two fingerprints, in words (see fingerprint.describe_changes)."""
        return describe_changes(old, new, about_old, about_new, self._source_changes,
                                self._input_changes, detail)

    def closest_earlier(self, name: str, step_run_id: str) -> sqlite3.Row | None:
        """The newest earlier run of a step called `name` (this experiment's first)."""
        return self.conn.execute(
            "SELECT s.* FROM step_run s JOIN pipeline_run p ON p.id = s.pipeline_run_id "
            "JOIN experiment e ON e.id = p.experiment_id "
            "WHERE s.name = ? AND s.fingerprint_json IS NOT NULL AND s.id != ? "
            "AND s.created_at <= (SELECT created_at FROM step_run WHERE id = ?) "
            "ORDER BY (e.name = ?) DESC, s.created_at DESC LIMIT 1",
            (name, step_run_id, step_run_id, self.facts.experiment_name)).fetchone()

    def _source_changes(self, old: str | None, new: str | None) -> list[str]:
        try:
            before = {e.path: e.sha256 for e in self.snapshots.load(old).entries} if old else {}
            after = {e.path: e.sha256 for e in self.snapshots.load(new).entries} if new else {}
        except StoreError:
            return []
        return changed_files(before, after)

    def _input_changes(self, old: str, new: str) -> list[str] | None:
        if not (old.startswith("sha256:") and new.startswith("sha256:")):
            return None
        return changed_files(self.content.manifest(old[7:]), self.content.manifest(new[7:]))

    def output_hashes(self, outputs: dict[str, dict], step_run_id: str, step_name: str) -> dict[str, dict]:
        """`outputs` with each one's content hash and producer, recorded when a step finishes."""
        return {port: {**out, "content_hash": self.content.tree(Path(out["local_path"])).hash,
                       "producer": step_run_id, "step_name": step_name}
                for port, out in outputs.items()}


def decide_step(planner: ReusePlanner, executor: Executor, step: dict, step_run_id: str,
                snapshot_id: str | None, log_path: Path) -> tuple[ReuseDecision, ResolvedEnvironment]:
    """Resolve a step's environment with `executor` (logging to `log_path`) and decide."""
    spec = (step.get("runconfig") or {}).get("environment")
    environment = (executor.resolve_environment(spec, log_path) if step.get("kind") == "python"
                   else ResolvedEnvironment("the runner copies the data", None, {}))
    identity = environment.identity if planner.mode == CONTENT_MODE else spec_identity(spec)
    facts = planner.facts
    decision = planner.decide(step, step_run_id, snapshot_id, identity,
                              allow_reuse=step.get("allow_reuse", True),
                              regenerate=facts.regenerate_outputs,
                              environment_label=environment.label)
    return decision, environment


def record_reuse(conn: sqlite3.Connection, step_run_id: str, pipeline_run_id: str,
                 reused: sqlite3.Row, facts: dict[str, str]) -> dict[str, dict]:
    """Finish `step_run_id` (of `pipeline_run_id`) as a stand-in for `reused`: the SDK's reuse
    properties, and `reused`'s metrics, artifacts and `run.parent` metrics, so a reused run
    reads and compares like the run it repeats. Returns the outputs it hands downstream,
    which are `reused`'s."""
    outputs = json.loads(reused["outputs_json"])
    now = time.time()
    properties = {**facts, "azureml.reusedrunid": reused["id"],
                  "azureml.reusedpipeline": reused["pipeline_run_id"],
                  "azureml.reusednodeid": reused["node_id"]}
    copy_metrics(conn, reused["id"], step_run_id)
    copy_artifacts(conn, reused["id"], step_run_id)
    replay_parent_metrics(conn, Path(reused["run_dir"]) / "events.jsonl", reused["pipeline_run_id"],
                          pipeline_run_id)
    update_step_run(conn, step_run_id, status=st.FINISHED, start_time=now, end_time=now,
                    reused_step_run_id=reused["id"], outputs_json=outputs,
                    arguments_json=json.loads(reused["arguments_json"]), properties_json=properties)
    return outputs
