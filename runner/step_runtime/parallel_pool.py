"""The worker processes of a ParallelRunStep: started, fed mini-batches, watched for
run_invocation_timeout, replaced when one is killed or dies. Standard library only.

Each worker has its own files in Azure's layout: `logs/user/stdout/<node>/<process>.stdout.txt`
and `.stderr.txt` (what the entry script printed), `logs/user/entry_script_log/<node>/
<process>.log.txt` (EntryScript().logger) and `logs/sys/node/<node>/<process>.txt` (which
mini-batches it ran, and how they ended).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from multiprocessing.connection import wait
from typing import Any, Callable

from runner.step_runtime.parallel_jobs import Job, JobFailed, MiniBatch
from runner.step_runtime.parallel_worker import worker_main

PROGRESS_EVERY_SECONDS = 1.0
STOP_GRACE_SECONDS = 30.0  # how long an idle worker (maybe still in init()) has to exit


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _Worker:
    """One worker slot: its process, pipe, files and the mini-batch it is running."""

    def __init__(self, node: int, number: int, logs: str) -> None:
        self.node = f"node_{node}"
        self.name = f"process{number:03d}"
        self.paths = {}
        for kind, folder, suffix in (("stdout", "user/stdout", ".stdout.txt"),
                                     ("stderr", "user/stdout", ".stderr.txt"),
                                     ("entry_log", "user/entry_script_log", ".log.txt"),
                                     ("sys", "sys/node", ".txt")):
            where = os.path.join(logs, folder, self.node)
            os.makedirs(where, exist_ok=True)
            self.paths[kind] = os.path.join(where, self.name + suffix)
        self.process: Any = None
        self.conn: Any = None
        self.ready = False
        self.task: MiniBatch | None = None
        self.started = 0.0

    def note(self, text: str) -> None:
        with open(self.paths["sys"], "a") as log:
            log.write(time.strftime("%Y-%m-%d %H:%M:%S ") + text + "\n")


class WorkerPool:
    """Runs a Job's mini-batches on workers laid out as (node, process) pairs."""

    def __init__(self, options: argparse.Namespace, argv: list[str], logs: str,
                 layout: list[tuple[int, int]], say: Callable[[str], None],
                 progress: Callable[[str], None]) -> None:
        self.options = options
        self.argv = argv
        self.timeout = float(options.run_invocation_timeout)
        self.say = say
        self.progress = progress
        self.workers = [_Worker(node, number, logs) for number, (node, _) in enumerate(layout)]
        self.script = os.path.abspath(options.scoring_module_name)
        self._context = _context()

    def _start(self, worker: _Worker) -> None:
        parent, child = self._context.Pipe()
        settings = {"entry_script": self.script, "entry_name": self.options.scoring_module_name,
                    "argv": self.argv,
                    "stdout": worker.paths["stdout"], "stderr": worker.paths["stderr"],
                    "entry_log": worker.paths["entry_log"],
                    "logging_level": self.options.logging_level, "process_name": worker.name}
        worker.process = self._context.Process(target=worker_main, args=(child, settings),
                                               name=worker.name, daemon=True)
        worker.process.start()
        child.close()
        worker.conn, worker.ready, worker.task = parent, False, None
        worker.note(f"started (pid {worker.process.pid})")

    def _stop(self, worker: _Worker, kill: bool = False) -> None:
        if worker.process is None:
            return
        try:
            if not kill:
                worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(STOP_GRACE_SECONDS if not kill else 0)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        try:  # a worker that was still in init() when the job ended says it got done
            while worker.conn.poll():
                if worker.conn.recv()[0] == "ready":
                    worker.note("init() done")
        except (EOFError, OSError):
            pass
        worker.conn.close()
        worker.process = None

    def run(self, job: Job) -> None:
        """Process every mini-batch of `job` (raises JobFailed when the job is aborted)."""
        if not self.script.endswith(".py") or not os.path.isfile(self.script):
            raise JobFailed(f"entry script {self.options.scoring_module_name} not found in the "
                            "step's source directory")
        for worker in self.workers:
            self._start(worker)
        last_progress, started = 0.0, time.monotonic()
        try:
            while not job.finished:
                self._assign(job)
                for conn in wait([w.conn for w in self.workers], self._wait_time()):
                    self._receive(next(w for w in self.workers if w.conn is conn), job)
                self._check_timeouts(job)
                now = time.monotonic()
                if now - last_progress >= PROGRESS_EVERY_SECONDS or job.finished:
                    self.progress(job.progress(now - started))
                    last_progress = now
            job.check()
        except BaseException:
            for worker in self.workers:  # the job is aborted: no worker is waited for
                self._stop(worker, kill=True)
            raise
        for worker in self.workers:
            self._stop(worker)

    def _assign(self, job: Job) -> None:
        for worker in self.workers:
            if worker.ready and worker.task is None:
                batch = job.next_batch()
                if batch is None:
                    return
                worker.task, worker.started = batch, time.monotonic()
                worker.note(f"mini-batch {batch.index} ({batch.size} {batch.unit}), try "
                            f"{job.tries[batch.index]}")
                worker.conn.send((batch.index, batch.files, batch.dataset, batch.rows,
                                  batch.partition))

    def _wait_time(self) -> float:
        busy = [w.started + self.timeout - time.monotonic() for w in self.workers if w.task]
        return max(0.0, min(busy, default=PROGRESS_EVERY_SECONDS))

    def _receive(self, worker: _Worker, job: Job) -> None:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            self._lost(worker, job)
            return
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            worker.note("init() done")
        elif kind == "fatal":
            worker.note(message[1])
            raise JobFailed(message[1])
        elif kind == "done":
            _, index, rows, items = message
            worker.task = None
            worker.note(f"mini-batch {index}: {items} items succeeded")
            job.succeeded(index, rows, items)
        elif kind == "failed":
            _, index, summary, text = message
            worker.task = None
            worker.note(f"mini-batch {index} failed: {summary}")
            job.attempt_failed(index, summary, text)

    def _lost(self, worker: _Worker, job: Job) -> None:
        """The worker's process ended without a word: its mini-batch failed this try."""
        worker.process.join(5)
        code = worker.process.exitcode
        task, was_ready = worker.task, worker.ready
        self._stop(worker, kill=True)
        if not was_ready:
            raise JobFailed(f"worker {worker.name} exited with code {code} before init() "
                            "returned")
        worker.note(f"exited with code {code}")
        if task is not None:
            job.attempt_failed(task.index, f"the worker process exited with code {code} "
                                           "during run()")
        self._start(worker)

    def _check_timeouts(self, job: Job) -> None:
        now = time.monotonic()
        for worker in self.workers:
            task = worker.task
            if task is not None and now - worker.started > self.timeout:
                worker.note(f"mini-batch {task.index}: run() did not return within "
                            f"{self.timeout:g} s; the worker is killed and started again")
                self._stop(worker, kill=True)
                job.attempt_failed(task.index, "run() did not return within "
                                               f"run_invocation_timeout {self.timeout:g} s")
                self._start(worker)
