"""Deciding, for one step, whether an earlier step run can stand in for it, and saying why.

Planning is kept apart from executing (as DVC does): `decide` is pure over the step's facts
(gathered beforehand by `runner.engine.step_facts`) and a read-only view of the run history;
what is decided is recorded by `runner.engine.run_plan` and acted on by the step execution.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from runner.engine.fingerprint import fingerprint, reuse_fields
from runner.executors.base import ResolvedEnvironment
from runner.spec import StepSpec
from store.records import StepRunRecord


@dataclass(frozen=True)
class StepFacts:
    """What one step's fingerprint is made of: its source snapshot, its environment's
    identity, each input's content id, and what the hash leaves out but reasons need
    (`about`: each input's origin and file count, the environment in words)."""

    snapshot_id: str | None
    environment: ResolvedEnvironment
    environment_identity: str
    inputs: Mapping[str, str]
    about: Mapping[str, Any]


@dataclass(frozen=True)
class ReuseDecision:
    """Reuse `reused` (a finished step run) or run; `reason` says which and why, in words."""

    reused: StepRunRecord | None
    reason: str
    fingerprint: str
    fields: Mapping[str, Any]
    about: Mapping[str, Any]

    @property
    def word(self) -> str:
        """"reused" or "run", as step runs record it."""
        return "reused" if self.reused is not None else "run"


class History(Protocol):
    """What `decide` may read of earlier runs."""

    def candidates(self, fingerprint: str) -> list[StepRunRecord]:
        """Finished step runs with this fingerprint that ran themselves, newest first."""

    def outputs_problem(self, candidate: StepRunRecord) -> str | None:
        """Why `candidate`'s outputs cannot be handed on (gone, modified), or None."""

    def closest_earlier(self, name: str, step_run_id: str) -> StepRunRecord | None:
        """The step run `why` compares a step with: the newest earlier one of that name."""

    def describe(self, old: Mapping, new: Mapping, about_old: Mapping, about_new: Mapping,
                 detail: bool = False) -> list[str]:
        """What differs between two fingerprints' fields, in words."""


def decide(step: StepSpec, facts: StepFacts, parameters: Mapping[str, Any], history: History, *,
           step_run_id: str, regenerate: bool, forced: str | None = None) -> ReuseDecision:
    """Reuse or run `step` (whose step run is `step_run_id`), with the reason; `forced`: it
    runs, for that reason (a rerun asked for it)."""
    fields = reuse_fields(step, parameters=parameters, snapshot_id=facts.snapshot_id,
                          environment=facts.environment_identity, inputs=facts.inputs)
    digest = fingerprint(fields)

    def run(reason: str) -> ReuseDecision:
        return ReuseDecision(None, "rerun: " + reason, digest, fields, facts.about)

    if not step.allow_reuse:
        return run("allow_reuse=False")
    if regenerate:
        return run("regenerate_outputs=True")
    if forced:
        return run(forced)
    not_valid: list[str] = []
    for candidate in history.candidates(digest):
        problem = history.outputs_problem(candidate)
        if problem is None:
            return ReuseDecision(candidate, f"reused from {candidate.label}", digest, fields,
                                 facts.about)
        not_valid.append(problem)
    if not_valid:
        return run(not_valid[0])
    earlier = history.closest_earlier(step.name, step_run_id)
    if earlier is None or earlier.fingerprint_fields is None:
        return run(f"no earlier run of step {step.name}")
    changes = history.describe(earlier.fingerprint_fields, fields, earlier.fingerprint_about or {},
                               facts.about)
    return run("; ".join(changes[:3]) if changes else "its fingerprint changed")
