"""A ParallelRunStep's driver, run in the step's own process or container
(`python -m runner.step_runtime.parallel_driver <Azure's driver arguments>`). Standard
library only.

It lists the files of each FileDataset input (`--input_fds_N <name>`, the path in the
environment variable `<name>`) and cuts them into mini-batches of `--mini_batch_size` files,
or cuts each TabularDataset input (`--input_ds_N <name>`) into row ranges of about
`--mini_batch_size` bytes (parallel_tabular), or, with `--partition_keys`, makes one
mini-batch per partition (parallel_partitions); starts node_count × process_count_per_node
workers (bounded by the target's max_nodes and this machine's cores, said in the log), hands
each mini-batch to an idle worker, retries a failed or timed-out one up to `--run_max_try`
times, counts failures against error_threshold / allowed_failed_count / allowed_failed_percent,
and writes the append_row file and Azure's logs
(`logs/job_progress_overview.txt` with the progress lines, `logs/job_result.txt`, `logs/job_error.txt`,
`logs/sys/...`, `logs/user/...`, one file per worker). Exit code 0 when the job succeeds.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Sequence

from runner.step_runtime import contract
from runner.step_runtime.parallel_cache import MiniBatchCache
from runner.step_runtime.parallel_jobs import Job, JobFailed, MiniBatch, mini_batches
from runner.step_runtime.parallel_partitions import (file_partition_batches, parse_keys,
                                                     table_partition_batches)
from runner.step_runtime.parallel_pool import WorkerPool
from runner.step_runtime.parallel_tabular import driver_size, table_batches

DEFAULT_APPEND_ROW_FILE = "parallel_run_step.txt"


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The driver's own options (the entry script's are left to it, as in Azure)."""
    parser = argparse.ArgumentParser(prog="parallel_driver", add_help=False)
    parser.add_argument("--scoring_module_name", required=True)
    parser.add_argument("--mini_batch_size", required=True)
    parser.add_argument("--error_threshold", type=int, default=-1)
    parser.add_argument("--allowed_failed_count", type=int, default=None)
    parser.add_argument("--allowed_failed_percent", type=float, default=None)
    parser.add_argument("--output_action", default="append_row")
    parser.add_argument("--logging_level", default="INFO")
    parser.add_argument("--run_invocation_timeout", type=float, default=60)
    parser.add_argument("--run_max_try", type=int, default=3)
    parser.add_argument("--append_row_file_name", default=None)
    parser.add_argument("--output", default=None)
    parser.add_argument("--process_count_per_node", type=int, default=None)
    parser.add_argument("--partition_keys", default=None)
    options, rest = parser.parse_known_args(list(argv))
    options.inputs, options.input_type = [], "file"
    while rest:
        item = rest.pop(0)
        if item.startswith(("--input_fds_", "--input_ds_")) and rest:
            options.inputs.append(rest.pop(0))
            if item.startswith("--input_ds_"):
                options.input_type = "tabular"
    return options


def worker_layout(nodes: int, per_node: int | None, max_nodes: int | None,
                  cores: int) -> tuple[list[tuple[int, int]], list[str]]:
    """The (node, process) of each worker to start, and what bounded them, for the log:
    node_count by the target's max_nodes, the total by this machine's cores."""
    notes = []
    if per_node is None:
        per_node = cores
        notes.append(f"process_count_per_node not set: {cores} (this machine's cores)")
    if max_nodes is not None and nodes > max_nodes:
        notes.append(f"node_count {nodes} is more than the compute target's max_nodes "
                     f"{max_nodes}: {max_nodes} node(s)")
        nodes = max_nodes
    layout = [(node, process) for process in range(per_node) for node in range(nodes)]
    if len(layout) > cores:
        notes.append(f"{nodes} node(s) x {per_node} process(es) = {len(layout)} workers asked; "
                     f"this machine has {cores} cores: {cores} workers")
        layout = layout[:cores]
    return sorted(layout), notes


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _say(text: str, log: "object") -> None:
    print(text, flush=True)
    log.write(time.strftime("%Y-%m-%d %H:%M:%S ") + text + "\n")  # type: ignore[attr-defined]
    log.flush()  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the job; 0 when it succeeded, 1 (with one line on stderr) when it failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    options = parse_arguments(argv)
    logs = os.path.abspath("logs")
    os.makedirs(os.path.join(logs, "sys"), exist_ok=True)
    with open(os.path.join(logs, "sys", "master_role.txt"), "a") as log:
        try:
            return _run(options, argv, logs, log)
        except JobFailed as exc:
            _say(f"ParallelRunStep failed: {exc}", log)
            with open(os.path.join(logs, "job_result.txt"), "w") as result:
                result.write(f"Failed: {exc}\n")
            print(f"ParallelRunStep failed: {exc}", file=sys.stderr, flush=True)
            return 1


def make_batches(inputs: list[tuple[str, str]], input_type: str, size: int | None,
                 keys: list[str] | None) -> tuple[list[MiniBatch], list[str]]:
    """Every input's mini-batches (numbered across inputs) and lines for the log: by files,
    by row ranges, or with `keys` by partitions."""
    if keys is None and input_type == "file":
        return mini_batches(inputs, size or 1), []
    batches: list[MiniBatch] = []
    notes: list[str] = []
    for name, _root in inputs:
        if keys is not None:
            make = file_partition_batches if input_type == "file" else table_partition_batches
            made, note = make(name, keys, len(batches))
        else:
            made, note = table_batches(name, size or 1, len(batches))
        batches += made
        notes.append(note)
    return batches, notes


def _describe(batches: list[MiniBatch], input_type: str, size: int | None,
              keys: list[str] | None) -> str:
    unit = "rows" if input_type == "tabular" else "files"
    count = sum(b.size for b in batches)
    if keys is not None:
        return (f"{len(batches)} mini-batches, one per partition by {', '.join(keys)} "
                f"({count} {unit})")
    if input_type == "tabular":
        return f"{len(batches)} mini-batches of about {size} bytes of rows ({count} rows)"
    return f"{len(batches)} mini-batches of up to {size} files ({count} files)"


def _run(options: argparse.Namespace, argv: list[str], logs: str, log: "object") -> int:
    keys = parse_keys(options.partition_keys) if options.partition_keys is not None else None
    size = None if keys is not None else driver_size(options.mini_batch_size, options.input_type)
    if keys is not None:
        _say(f"partition_keys {', '.join(keys)}: one mini-batch per partition "
             "(mini_batch_size is not used)", log)
    inputs = []
    for name in options.inputs:
        root = os.environ.get(name)
        if not root or not os.path.exists(root):
            raise JobFailed(f"input {name} is not available in the step (no path in ${name})")
        inputs.append((name, root))
    batches, batch_notes = make_batches(inputs, options.input_type, size, keys)
    for note in batch_notes:
        _say(note, log)
    layout, notes = worker_layout(
        int(os.environ.get(contract.PARALLEL_NODE_COUNT) or 1), options.process_count_per_node,
        int(os.environ[contract.PARALLEL_MAX_NODES]) if os.environ.get(contract.PARALLEL_MAX_NODES)
        else None, _cores())
    for note in notes:
        _say(f"workers: {note}", log)
    _say(f"{_describe(batches, options.input_type, size, keys)} for {len(layout)} worker "
         f"process(es) on {len({n for n, _ in layout})} node(s)", log)
    append_row = options.output_action.lower() == "append_row"
    if append_row and not options.output:
        raise JobFailed("output_action append_row needs an output")
    job = Job(batches, options.error_threshold, options.allowed_failed_count,
              options.allowed_failed_percent, options.run_max_try)
    overview = os.path.join(logs, "job_progress_overview.txt")

    def progress(text: str) -> None:
        _say(f"progress: {text}", log)
        with open(overview, "a") as out:
            out.write(time.strftime("%Y-%m-%d %H:%M:%S ") + text + "\n")
        _log_metrics({"Completed MiniBatches": len(job.done) + len(job.failed)})

    cache = MiniBatchCache.from_environment() if append_row else None
    if cache is not None and cache.restore(job, dict(inputs)):
        _say(f"reused {len(cache.reused)} of {job.total} mini-batches (unchanged "
             f"{'rows' if options.input_type == 'tabular' else 'files'}, entry "
             "script, environment and settings)", log)
    pool = WorkerPool(options, argv, logs, layout, lambda text: _say(text, log), progress)
    started = time.monotonic()
    try:
        if not job.finished:
            pool.run(job)
    finally:
        seconds = max(time.monotonic() - started, 1e-9)
        _write_errors(job, logs)
        if cache is not None:
            cache.store(job)
        _log_metrics(job.metrics(seconds))
    if append_row:
        name = options.append_row_file_name or DEFAULT_APPEND_ROW_FILE
        with open(os.path.join(options.output, name), "w") as out:
            for batch in job.batches:
                for row in job.rows.get(batch.index, ()):
                    out.write(row + "\n")
    summary = job.summary(seconds)
    _say(summary, log)
    with open(os.path.join(logs, "job_result.txt"), "w") as result:
        result.write(f"Succeeded: {summary}\n")
    return 0


def _write_errors(job: Job, logs: str) -> None:
    """logs/job_error.txt: each mini-batch that failed, with its exception and last traceback."""
    with open(os.path.join(logs, "job_error.txt"), "w") as out:
        if not job.failures:
            out.write("No mini-batch failed.\n")
        for failure in job.failures:
            out.write(f"mini-batch {failure.index} ({failure.files} {failure.unit}, try "
                      f"{failure.attempt}): "
                      f"{failure.summary}\n")
            if failure.traceback:
                out.write("    " + failure.traceback.strip().replace("\n", "\n    ") + "\n")


def _log_metrics(values: dict[str, int | float]) -> None:
    """The job's counts as run metrics (what `amlocal show` and the dashboard list; the
    runner reads them while the step runs)."""
    try:
        from runner.step_runtime.run import Run
        run = Run.get_context()
        for name, value in values.items():
            run.log(name, value)
    except Exception as exc:  # metrics are a view of the job, never a reason it fails
        print(f"ParallelRunStep: metrics not logged ({type(exc).__name__}: {exc})",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
