"""Watch mode: rerun what a saved file invalidates, cancelling a run it makes stale.

The watcher is itself the runner of the runs it starts (in threads of this process), so a
save reaches a running step without a process start; Ctrl-C (or SIGTERM) stops watching and
every run it started. A changed pipeline script is evaluated again in a fresh process, whose
errors are shown while watching goes on.
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Callable, Sequence, TextIO

import watchfiles

from runner.client import Client
from runner.engine.head_start import HeadStart
from runner.engine.progress import ProgressPrinter
from runner.engine.run_execution import PipelineRunExecution
from runner.engine.runner_process import execute_run, executor_for_run, fail_run, start_runner
from runner.engine.script_eval import evaluate_script
from runner.errors import RunnerError
from runner.spec import PipelineSpec
from runner.watch.content import ContentMemory
from runner.watch.head_starts import HeadStarts
from runner.watch.scope import WatchScope
from store import status as st
from store.catalog import get_pipeline
from store.errors import StoreError
from store.layout import WorkspaceLayout
from store.runs import get_pipeline_run, get_step_runs, run_status
from store.workspace import open_workspace

QUIET_MS = 25         # a burst of saves ends after this long without another save
STEP_MS = 5           # how often watchfiles looks for more changes of a batch
DEBOUNCE_MS = 400     # and a burst is never held longer than this
STOP_WAIT_SECONDS = 15.0


class PipelineWatcher:
    """Watches one pipeline (the one run `run_id` ran) and reruns it on relevant changes."""

    def __init__(self, layout: WorkspaceLayout, script: Path | None, run_id: str,
                 say: Callable[[str], None] = print, manual: bool = False,
                 progress: TextIO | None = sys.stdout, runs_in_process: bool = True,
                 executor: str | None = None, script_args: Sequence[str] = ()) -> None:
        self.layout = layout
        self.script_args = list(script_args)  # the script's own arguments, each evaluation
        self.executor = executor  # the executor asked for (auto, docker, local), if any
        self.script = Path(script).resolve() if script else None
        self.progress = progress  # where runs' progress is printed (None: nowhere, as in the dashboard)
        # True: this process executes the runs it starts (fastest; they stop when watching
        # stops). False: each run gets a runner process of its own and outlives the watcher,
        # as the dashboard needs: nothing runs inside the UI process.
        self.runs_in_process = runs_in_process
        self.say = say
        self.manual = manual
        self.paused = False
        self.pending: set[Path] = set()  # manual mode: changes waiting for Enter
        self._pending_lock = threading.Lock()  # the stdin thread and the watch thread share them
        self.stop_event = threading.Event()
        self.local = open_workspace(layout)
        self.client = Client(self.local)
        self.current_run = run_id
        self.executions: dict[str, tuple[PipelineRunExecution, threading.Thread]] = {}
        self.memory = ContentMemory()
        self.scope = self._scope_of(run_id)
        self._remember()
        self._reaped = False  # containers of dead runners are removed before the first rerun
        self._image_cache = False  # True: this watcher started remembering image lookups
        # the next rerun's ids and the containers made for it (at a burst, or after a run)
        self.heads = HeadStarts(layout, executor)
        self._acting = threading.Lock()  # held while a burst of changes is acted on
        self._standing: threading.Thread | None = None  # making head starts after a run

    def _remember(self) -> None:
        """Note what the watched files hold now: data and the script by content."""
        self.memory.remember(self.scope.inputs, hashed=True)
        self.memory.remember(self.scope.sources, hashed=False)
        if self.script is not None:
            self.memory.remember([self.script], hashed=True)

    def _scope_of(self, run_id: str) -> WatchScope:
        run = get_pipeline_run(self.local.conn, run_id)
        spec = PipelineSpec.from_json(get_pipeline(self.local.conn, run.pipeline_id).spec)
        return WatchScope.of(self.script, self.layout, spec)

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Watch until `stop()` (or Ctrl-C); then stop every run this watcher started."""
        try:
            self._warm_engine()
            while not self.stop_event.is_set() and not self._watch_once():
                pass
        finally:
            self.shutdown()

    def _warm_engine(self) -> None:
        """For runs in Docker: connect to the engine now, and remember image lookups while
        watching (until an image changes; see `runner.executors.image_cache`), so a save
        does not wait for them."""
        if not self.runs_in_process:
            return
        run = get_pipeline_run(self.local.conn, self.current_run)
        if "docker" not in (self.executor, run.executor):
            return
        from runner.executors.docker_engine import DockerUnavailable, docker_client
        from runner.executors.image_cache import start_image_cache
        try:
            self._image_cache = start_image_cache(docker_client())
        except DockerUnavailable:
            return  # the rerun says so, with the step it fails
        try:  # what dead runners left goes before anything is made ahead (it would look left)
            executor_for_run(self.local, self.current_run, reap=True)
            self._reaped = True
        except RunnerError:
            return  # the rerun says what is wrong
        self._stand_ready(self.current_run, None)

    def _watch_once(self) -> bool:
        """Watch the current folders until they change shape (False) or watching stops (True).

        watchfiles hands over a batch as soon as a step passes with no new kind of change, so
        repeated saves of one file arrive as several batches: they are gathered here into one
        burst, which ends after QUIET_MS without a relevant change (or DEBOUNCE_MS at most).
        """
        paths = self.scope.paths()
        announced = False
        burst: set[Path] = set()
        began = 0.0
        # yield_on_timeout: an empty batch says QUIET_MS passed with nothing changing (the
        # first one also says the watches are in place): a batch comes once a step passed
        # with nothing new, so the quiet after it is counted from there, STEP_MS less.
        for changes in watchfiles.watch(*paths, watch_filter=None, debounce=DEBOUNCE_MS,
                                        step=STEP_MS, stop_event=self.stop_event,
                                        raise_interrupt=False, yield_on_timeout=True,
                                        rust_timeout=QUIET_MS - STEP_MS):
            if not announced:
                announced = True
                self.say(f"watching {len(paths)} folder(s) for "
                         f"{self.script.name if self.script else 'this pipeline'}")
            relevant = self._relevant({Path(p) for _, p in changes})
            if relevant and not burst:
                began = time.monotonic()
                self._begin_head_start(relevant)
            burst |= relevant
            if burst and (not relevant or time.monotonic() - began > DEBOUNCE_MS / 1000):
                batch, burst = burst, set()
                with self._acting:
                    if self.on_changes(batch):
                        return False  # the pipeline changed shape: watch its new folders
        return True

    def stop(self) -> None:
        self.stop_event.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the changes seen are acted on, the runs this watcher executes have
        ended and the head starts of the next save are made (benchmarks measure their
        reference on a quiet machine); False when something is still going on after
        `timeout` seconds."""
        deadline = time.monotonic() + timeout
        if not self._acting.acquire(timeout=timeout):
            return False
        self._acting.release()
        threads = [thread for _, thread in list(self.executions.values())]
        for thread in [*threads, *([self._standing] if self._standing else [])]:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
        return self.heads.wait_ready(max(0.0, deadline - time.monotonic()))

    def _begin_head_start(self, paths: set[Path]) -> None:
        """While the burst of saves that begins with `paths` settles, reserve the rerun's ids
        and start the containers of the steps it will start first, held (see
        `runner.watch.head_starts`; one standing ready for the same steps is kept); not for
        a changed script (it is evaluated again), in manual mode, while paused, or when the
        runs do not execute in this process."""
        if self.manual or self.paused or not self.runs_in_process:
            return
        if any(self.scope.is_script(p) for p in paths):
            return
        nodes: set[str] = set()
        for p in paths:
            nodes |= self.scope.steps_fed_by(p)
        self.heads.for_burst(self.current_run, self.scope.spec, self.scope.invalidated(nodes))

    def _stand_ready(self, run_id: str, head: HeadStart | None) -> None:
        """When watching begins, or after `run_id` ended (the rerun `head` was made for):
        when it is still the watched run, ran in Docker and ended Finished or Failed (not
        superseded), make the head starts of its next reruns, ahead of the next save (see
        `runner.watch.head_starts`)."""
        if run_id != self.current_run or self.stop_event.is_set() or self.manual \
                or not self.runs_in_process:
            return
        try:
            with open_workspace(self.layout) as local:  # (called from the run's thread too)
                run = get_pipeline_run(local.conn, run_id)
            if run.status in (st.FINISHED, st.FAILED) and run.executor == "docker":
                self.heads.stand_ready(run_id, self.scope.spec, set(head.stale) if head else None,
                                       self.scope.save_sets())
        except (StoreError, OSError):
            pass  # only a head start: the next save makes its containers as it goes

    def trigger(self) -> None:
        """Manual mode: run what the pending changes invalidated."""
        with self._pending_lock:
            pending, self.pending = self.pending, set()
        if pending:
            with self._acting:
                self._act(pending)

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.say("watch paused" if self.paused else "watch resumed")

    def on_changes(self, relevant: set[Path]) -> bool:
        """Handle one burst of relevant changes (see `_relevant`); True when the watched
        folders must be read again."""
        if self.paused:
            return False
        if self.manual:
            with self._pending_lock:
                self.pending |= relevant
            self.say(f"{self._names(relevant)} changed; press Enter to rerun")
            return False
        return self._act(relevant)

    def _relevant(self, paths: set[Path]) -> set[Path]:
        """The paths whose change can change a result: the script, or a step's files or data,
        and whose content did change (not a temporary file, not data uploaded again as it was)."""
        return {p for p in paths if (self.scope.is_script(p) or self.scope.steps_fed_by(p))
                and self.memory.changed(p)}

    def _names(self, paths: set[Path]) -> str:
        return ", ".join(sorted(p.name for p in paths))

    def _act(self, paths: set[Path]) -> bool:
        if self.script is not None and any(self.scope.is_script(p) for p in paths):
            self.heads.reset()  # made for the pipeline as it was
            self.say(f"{self.script.name} changed → evaluating the pipeline again")
            new_run = self._evaluate_script()
            if new_run is None:
                return False  # a broken script leaves the run in flight alone
            self._cancel_current("superseded: the pipeline script changed")
            self.current_run = new_run
            old_paths, self.scope = self.scope.paths(), self._scope_of(new_run)
            self._remember()  # what the script uploaded while it ran is not a change to act on
            return self.scope.paths() != old_paths
        nodes: set[str] = set()
        for p in paths:
            nodes |= self.scope.steps_fed_by(p)
        stale = self.scope.invalidated(nodes)
        head = self.heads.take()  # the head start of the burst, if any
        self.say(f"{self._names(paths)} changed → {', '.join(self.scope.names(stale))} rerun")
        self._cancel_current(f"superseded: {self._names(paths)} changed")
        try:
            submitted = self.client.rerun(self.current_run, executor=self.executor, start=False,
                                          reserved=head.ids if head is not None else None)
        except (RunnerError, StoreError) as exc:  # e.g. a source folder deleted: say so, go on
            if head is not None:
                head.end()
            self.say(f"could not rerun: {exc}\nwatching goes on: the next good save reruns")
            return False
        self._start(submitted.run_id, submitted.finished_at_submit, head)
        return False

    # --- runs -------------------------------------------------------------------------------

    def _start(self, run_id: str, finished: bool, head: HeadStart | None = None) -> None:
        """Execute `run_id` (in this process, or in a runner process), printing its progress;
        a run `finished` at submit (everything reused) only has its progress printed. What
        `head` made ahead and no step took is removed once the run ends."""
        self.current_run = run_id
        end_head = head.end if head is not None else (lambda: None)
        if finished or not self.runs_in_process:
            end_head()
            if not finished:
                start_runner(self.local, run_id)
            elif self.runs_in_process:  # (ending what earlier runs left takes a while)
                self._standing = threading.Thread(target=self._stand_ready, args=(run_id, head),
                                                  name="stand-ready", daemon=True)
                self._standing.start()
            self._follow_in_background(run_id)
            return
        local = open_workspace(self.layout)
        try:
            executor = executor_for_run(local, run_id, reap=not self._reaped)
            self._reaped = True
            execution = PipelineRunExecution(local, run_id, executor)
        except RunnerError as exc:  # e.g. the Docker engine went away: the run says so
            fail_run(local, run_id, str(exc))
            local.close()
            end_head()
            self.say(f"run {run_id[:8]} could not start: {exc}")
            return

        def execute() -> None:
            try:
                execute_run(local, run_id, execution)
            finally:
                local.close()
                end_head()
                self._stand_ready(run_id, head)
        thread = threading.Thread(target=execute, name=f"run-{run_id[:8]}", daemon=True)
        self.executions[run_id] = (execution, thread)
        thread.start()
        self._follow_in_background(run_id)

    def _follow_in_background(self, run_id: str) -> None:
        if self.progress is None:
            return

        def follow() -> None:
            with open_workspace(self.layout) as local:
                ProgressPrinter(local.conn, run_id, self.progress).follow(1e13)
                self._say_failure(local, run_id)
        threading.Thread(target=follow, name=f"follow-{run_id[:8]}", daemon=True).start()

    def report_failure(self) -> None:
        """Say so when the run being watched failed (the first one included)."""
        self._say_failure(self.local, self.current_run)

    def _say_failure(self, local, run_id: str) -> None:
        """After a run that failed: which steps, and that watching goes on."""
        if run_status(local.conn, run_id) != st.FAILED or self.stop_event.is_set():
            return
        failed = [s.name for s in get_step_runs(local.conn, run_id) if s.status == st.FAILED]
        what = ", ".join(failed) if failed else f"run {run_id[:8]}"
        self.say(f"{what} failed; fix and save (watching goes on)")

    def _cancel_current(self, reason: str) -> None:
        """Stop the run in flight, if any, and wait for it to end (ask, wait, kill)."""
        run_id = self.current_run
        if run_status(self.local.conn, run_id) in st.TERMINAL:
            return
        self.say(f"canceling run {run_id[:8]} ({reason})")
        if run_id in self.executions:
            execution, thread = self.executions[run_id]
            execution.request_stop(reason)
            thread.join(STOP_WAIT_SECONDS)
            return
        self.client.cancel(run_id)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while run_status(self.local.conn, run_id) not in st.TERMINAL and time.monotonic() < deadline:
            time.sleep(0.05)

    def _evaluate_script(self) -> str | None:
        """Run the pipeline script in a fresh process; the run it submitted (None on error)."""
        done = evaluate_script(self.layout.root, self.script, self.executor, self.script_args)
        if done.returncode != 0 and not done.submitted:
            self.say(f"{done.last_error}\nwatching goes on: the next good save reruns")
            return None
        if not done.submitted:
            self.say(f"{self.script.name} submitted no run; watching goes on")
            return None
        self._follow_in_background(done.submitted[-1])
        return done.submitted[-1]

    def shutdown(self) -> None:
        """Stop every run this watcher started, and the one in flight; leave nothing running."""
        self.heads.reset(close=True)  # a burst that never ended, or head starts standing ready
        for execution, _ in self.executions.values():
            execution.request_stop("canceled: watch stopped")
        for _, thread in self.executions.values():
            thread.join(STOP_WAIT_SECONDS)
        try:
            if self.runs_in_process and run_status(self.local.conn, self.current_run) not in st.TERMINAL:
                self._cancel_current("watch stopped")
        finally:
            if self._image_cache:
                from runner.executors.image_cache import stop_image_cache
                stop_image_cache()
            self.local.close()
