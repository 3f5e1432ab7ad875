"""Scheduling without processes: the pure scheduling state, and whole runs through the real
engine with a fake executor (max_nodes, warm slots, failures, continue_on_step_failure, cancel)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from runner.client import Client, SubmitOptions
from runner.engine.run_execution import PipelineRunExecution
from runner.engine.scheduler import Launch, NotRun, Release, SchedulerState
from runner.executors.base import (Capabilities, ResolvedEnvironment, StepInvocation, StepOutcome,
                                   Usage)
from runner.spec import DependencyGraph, PipelineSpec, StepSpec
from store import status as st
from store.catalog import save_compute_target
from store.runs import get_pipeline_run, get_step_runs


def _state(edges: dict[str, list[str]], limit: int = 4, **options) -> SchedulerState:
    targets = {node: "cluster" for node in edges}
    return SchedulerState(DependencyGraph(edges), targets, {"cluster": limit},
                          {node: node for node in edges}, **options)


def test_ready_steps_start_up_to_the_targets_node_limit_in_spec_order():
    state = _state({"a": [], "b": [], "c": [], "d": ["a"]}, limit=2)
    assert state.schedule() == [Launch("a"), Launch("b")]
    assert state.schedule() == []  # both nodes busy; nothing warm without warm_start
    assert state.step_ended("b", st.FINISHED) == []
    assert state.schedule() == [Launch("c")]  # d still waits for a
    state.step_ended("a", st.FINISHED)
    assert state.schedule() == [Launch("d")]
    state.step_ended("c", st.FINISHED)
    state.step_ended("d", st.FINISHED)
    assert state.done and state.outcome() == (st.FINISHED, None)


def test_warm_steps_start_once_the_running_ones_are_up_and_get_the_next_free_node():
    state = _state({"a": [], "b": [], "c": []}, limit=1, warm_start=True)
    assert state.schedule() == [Launch("a")]
    assert state.schedule() == []  # a is not up yet: b's start must not slow a's
    state.step_started("a")
    assert state.schedule() == [Launch("b", warm=True)]  # one warm step per node
    assert state.schedule() == []
    state.step_started("b")  # its container is up, its script held
    state.step_ended("a", st.FINISHED)
    assert state.schedule() == [Release("b"), Launch("c", warm=True)]  # c waits warm behind b


def test_a_failure_stops_the_pending_steps_each_saying_why():
    state = _state({"a": [], "b": ["a"], "c": ["b"]})
    assert state.schedule() == [Launch("a")]
    assert state.step_ended("a", st.FAILED) == [NotRun("b", "not run: step a failed"),
                                                NotRun("c", "not run: step a failed")]
    assert state.schedule() == [] and state.done
    assert state.outcome() == (st.FAILED, "step failed: a")


def test_continue_on_step_failure_drops_only_the_failed_steps_dependents():
    state = _state({"a": [], "b": ["a"], "c": ["b"], "d": []}, limit=1,
                   continue_on_step_failure=True)
    assert state.schedule() == [Launch("a")]
    assert state.step_ended("a", st.FAILED) == [NotRun("b", "not run: upstream step a failed"),
                                                NotRun("c", "not run: upstream step a failed")]
    assert state.schedule() == [Launch("d")]
    state.step_ended("d", st.FINISHED)
    assert state.done and state.outcome() == (st.FAILED, "step failed: a")


def test_a_stop_cancels_what_has_not_started_and_nothing_more_starts():
    state = _state({"a": [], "b": [], "c": ["a"]}, limit=1)
    state.schedule()
    assert state.stop("canceled by user") == [NotRun("b", "not run: canceled by user"),
                                              NotRun("c", "not run: canceled by user")]
    assert state.stop("later reason") == []  # the first reason wins
    assert state.schedule() == [] and not state.done  # a still runs
    state.step_ended("a", st.CANCELED)
    assert state.done and state.outcome() == (st.CANCELED, "canceled by user")


def test_steps_finished_at_submit_count_as_done():
    state = _state({"a": [], "b": ["a"]}, finished={"a"})
    assert state.schedule() == [Launch("b")]


# ----------------------------------------------------------------- a fake executor

class FakeStep:
    """A 'process' that ends when its test says so (or at once), with a chosen exit code."""

    pid = None
    create_time = None

    def __init__(self, executor: "FakeExecutor", name: str, held: bool) -> None:
        self.executor, self.name = executor, name
        self.released = threading.Event()
        self.ended = threading.Event()
        if not held:
            self.release()

    def release(self) -> None:
        if not self.released.is_set():
            self.released.set()
            with self.executor.lock:
                self.executor.running.add(self.name)
                self.executor.most = max(self.executor.most, len(self.executor.running))
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        gate = self.executor.gates.get(self.name)
        if gate is not None:
            gate.wait(10)
        else:
            time.sleep(0.05)
        with self.executor.lock:
            self.executor.running.discard(self.name)
        self.ended.set()

    def wait(self, timeout: float) -> StepOutcome | None:
        if not self.ended.wait(timeout):
            return None
        return StepOutcome(self.executor.exit_codes.get(self.name, 0))

    def stop(self, grace_seconds: float) -> None:
        self.executor.stopped.append(self.name)
        gate = self.executor.gates.setdefault(self.name, threading.Event())
        gate.set()
        self.ended.wait(5)

    def close(self) -> None:
        pass


class FakeExecutor:
    """Runs nothing: each step 'runs' about 50 ms (or until its gate opens) and exits with
    the code the test chose; it records how many ran at once and which started held."""

    name = "fake"
    python = "python3"

    def __init__(self, warm_start: bool = False) -> None:
        self.capabilities = Capabilities(warm_start=warm_start)
        self.lock = threading.Lock()
        self.running: set[str] = set()
        self.most = 0
        self.held: list[str] = []
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.exit_codes: dict[str, int] = {}
        self.gates: dict[str, threading.Event] = {}

    def map_path(self, host_path: Path) -> str:
        return str(host_path)

    def base_environment(self) -> dict[str, str]:
        return {}

    def resolve_environment(self, environment, log_path) -> ResolvedEnvironment:
        return ResolvedEnvironment("fake", None, {}, "fake environment")

    def start(self, invocation: StepInvocation, held: bool = False) -> FakeStep:
        name = invocation.env["AMLOCAL_STEP_NAME"]
        self.started.append(name)
        if held:
            self.held.append(name)
        return FakeStep(self, name, held)

    def usage(self, step) -> Usage | None:
        return None

    def stop_lost_steps(self, pipeline_run_id, steps) -> None:
        pass

    def reap_orphans(self, keep_run) -> list[str]:
        return []


def _spec(tmp_path: Path, edges: dict[str, list[str]], target: str = "cluster") -> PipelineSpec:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "s.py").write_text("pass\n")
    return PipelineSpec(tuple(
        StepSpec(node_id=name, name=name, type="PythonScriptStep", kind="python",
                 run_after=tuple(ups), allow_reuse=False, script_name="s.py",
                 source_directory=str(tmp_path / "src"), compute_target=target)
        for name, ups in edges.items()))


def _execute(workspace, spec: PipelineSpec, executor: FakeExecutor, **options) -> tuple[str, dict]:
    local = workspace._local
    submitted = Client(local).submit(spec, SubmitOptions("fake", "fake", **options), start=False)
    status = PipelineRunExecution(local, submitted.run_id, executor).execute()
    steps = {s.name: s for s in get_step_runs(local.conn, submitted.run_id)}
    return status, steps


def test_no_more_steps_run_at_once_than_the_compute_target_has_nodes(workspace, tmp_path):
    save_compute_target(workspace._local.conn, "cluster", "AmlCompute", None, 2, {})
    executor = FakeExecutor()
    status, steps = _execute(workspace, _spec(tmp_path, {n: [] for n in "abcde"}), executor)
    assert status == st.FINISHED
    assert executor.most == 2 and sorted(executor.started) == list("abcde")
    assert {s.status for s in steps.values()} == {st.FINISHED}
    assert all(s.executor == "fake" for s in steps.values())


def test_warm_steps_wait_held_for_a_node_then_run(workspace, tmp_path):
    save_compute_target(workspace._local.conn, "cluster", "AmlCompute", None, 1, {})
    executor = FakeExecutor(warm_start=True)
    status, steps = _execute(workspace, _spec(tmp_path, {n: [] for n in "abc"}), executor)
    assert status == st.FINISHED
    assert executor.most == 1  # held steps did not run their script early
    assert executor.held == ["b", "c"]
    assert all("waiting" in steps[n].phases for n in "bc") and "waiting" not in steps["a"].phases


def test_an_upstream_failure_names_the_failed_step_in_each_dependent(workspace, tmp_path):
    executor = FakeExecutor()
    executor.exit_codes["a"] = 3
    spec = _spec(tmp_path, {"a": [], "b": ["a"], "c": ["b"], "d": []}, target="local")
    status, steps = _execute(workspace, spec, executor, continue_on_step_failure=True)
    assert status == st.FAILED
    assert (steps["a"].status, steps["a"].error, steps["a"].exit_code) == (st.FAILED, "exit code 3", 3)
    assert [(steps[n].status, steps[n].error) for n in "bc"] == \
        [(st.CANCELED, "not run: upstream step a failed")] * 2
    assert steps["d"].status == st.FINISHED
    run = get_pipeline_run(workspace._local.conn, steps["a"].pipeline_run_id)
    assert (run.status, run.error) == (st.FAILED, "step failed: a")


def test_cancel_stops_the_running_step_and_the_rest_never_start(workspace, tmp_path):
    executor = FakeExecutor()
    executor.gates["a"] = threading.Event()  # a runs until stopped
    local = workspace._local
    spec = _spec(tmp_path, {"a": [], "b": ["a"]}, target="local")
    submitted = Client(local).submit(spec, SubmitOptions("fake", "fake"), start=False)
    execution = PipelineRunExecution(local, submitted.run_id, executor)
    thread = threading.Thread(target=execution.execute)
    thread.start()
    deadline = time.monotonic() + 10
    while "a" not in executor.running:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    execution.request_stop("canceled by user")
    thread.join(15)
    steps = {s.name: s for s in get_step_runs(local.conn, submitted.run_id)}
    assert executor.stopped == ["a"] and executor.started == ["a"]
    assert (steps["a"].status, steps["a"].error) == (st.CANCELED, "canceled by user")
    assert (steps["b"].status, steps["b"].error) == (st.CANCELED, "not run: canceled by user")
    assert get_pipeline_run(local.conn, submitted.run_id).status == st.CANCELED


def test_reuse_is_decided_once_steps_decided_at_submit_are_not_decided_again(workspace, tmp_path,
                                                                            monkeypatch):
    """a is decided when it is submitted (it reads nothing a step makes); b waits for a, so
    the runner decides it, once a has run: one decision each, never two."""
    import runner.engine.run_plan as run_plan
    import runner.engine.step_execution as step_execution
    calls: list[str] = []
    for module in (run_plan, step_execution):
        original = module.decide
        monkeypatch.setattr(module, "decide", lambda step, *a, _o=original, **k: (
            calls.append(step.name), _o(step, *a, **k))[1])
    local = workspace._local
    submitted = Client(local).submit(_spec(tmp_path, {"a": [], "b": ["a"]}, target="local"),
                                     SubmitOptions("fake", "fake"), start=False)
    assert calls == ["a"]
    before = {s.name: s.decision for s in get_step_runs(local.conn, submitted.run_id)}
    assert before == {"a": "run", "b": None}
    assert PipelineRunExecution(local, submitted.run_id, FakeExecutor()).execute() == st.FINISHED
    assert calls == ["a", "b"]
