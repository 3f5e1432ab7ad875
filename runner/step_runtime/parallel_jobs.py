"""A ParallelRunStep job's books: its mini-batches, which are done, which failed (and why),
and Azure's three limits on failures. Standard library only.

* error_threshold: failed items (files of a mini-batch that failed for good, and items run()
  returned no element for) above it abort the job; -1 ignores them.
* allowed_failed_count: mini-batches that failed for good above it abort the job; -1 ignores.
* allowed_failed_percent: checked once every mini-batch has been processed.
A mini-batch that fails is tried again until it has been tried run_max_try times; only then
does it count as failed.
"""
from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field


class JobFailed(Exception):
    """The job is aborted: the message says why, with the counts."""


@dataclass(frozen=True)
class MiniBatch:
    """What one run() call gets from the input named `dataset`: its `files` (a FileDataset),
    or its `rows` as (start, end) ranges of the table's rows (a TabularDataset); with
    partition_keys, the `partition` ({key: value}) they share. `content` is the digest of a
    table's mini-batch's rows, when results may be kept (parallel_cache)."""

    index: int
    dataset: str
    files: tuple[str, ...] = ()
    rows: tuple[tuple[int, int], ...] | None = None
    partition: dict | None = field(default=None, hash=False, compare=False)
    content: str | None = field(default=None, hash=False, compare=False)  # digest of its rows

    @property
    def size(self) -> int:
        """How many items: rows of a table's mini-batch, else files."""
        if self.rows is not None:
            return sum(end - start for start, end in self.rows)
        return len(self.files)

    @property
    def unit(self) -> str:
        """What its items are ("rows" or "files"), for the logs."""
        return "rows" if self.rows is not None else "files"


@dataclass(frozen=True)
class Failure:
    """One failed try of a mini-batch: which, how many items (files or rows), which try,
    what it raised."""

    index: int
    files: int
    attempt: int
    summary: str
    traceback: str = ""
    final: bool = False
    unit: str = "files"


@dataclass
class Job:
    """The state of the job's mini-batches and its failure counts."""

    batches: list[MiniBatch]
    error_threshold: int
    allowed_failed_count: int | None
    allowed_failed_percent: float | None
    run_max_try: int
    pending: deque = field(default_factory=deque)
    tries: dict[int, int] = field(default_factory=dict)
    rows: dict[int, list[str]] = field(default_factory=dict)
    items: dict[int, int] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    failed_items: int = 0
    succeeded_items: int = 0

    def __post_init__(self) -> None:
        self.pending.extend(range(len(self.batches)))

    @property
    def total(self) -> int:
        return len(self.batches)

    @property
    def finished(self) -> bool:
        """Every mini-batch is done or failed for good."""
        return len(self.done) + len(self.failed) == self.total

    def next_batch(self) -> MiniBatch | None:
        """The next mini-batch to hand out (None when none waits), its try counted."""
        if not self.pending:
            return None
        index = self.pending.popleft()
        self.tries[index] = self.tries.get(index, 0) + 1
        return self.batches[index]

    def succeeded(self, index: int, rows: list[str], items: int) -> None:
        """run() returned `items` elements (its rows) for mini-batch `index`."""
        batch = self.batches[index]
        self.done.add(index)
        self.rows[index] = rows
        self.items[index] = items
        self.succeeded_items += items
        missing = batch.size - items
        if missing > 0:
            self.failed_items += missing
            self.failures.append(Failure(index, batch.size, self.tries[index],
                                         f"run() returned {items} elements for "
                                         f"{batch.size} items", final=True, unit=batch.unit))
        self.check()

    def reuse(self, index: int, rows: list[str], items: int) -> None:
        """Mini-batch `index` succeeded in an earlier run: its rows are taken, it is not run."""
        self.pending.remove(index)
        self.tries[index] = 0
        self.succeeded(index, rows, items)

    def attempt_failed(self, index: int, summary: str, traceback: str = "") -> None:
        """One try of mini-batch `index` failed; it is tried again or counted as failed."""
        batch = self.batches[index]
        attempt = self.tries[index]
        final = attempt >= self.run_max_try
        self.failures.append(Failure(index, batch.size, attempt, summary, traceback, final,
                                     batch.unit))
        if not final:
            self.pending.append(index)
            return
        self.failed.add(index)
        self.failed_items += batch.size
        self.check()

    def check(self) -> None:
        """Raise JobFailed when a limit is exceeded (the percentage only at the end)."""
        counts = (f"{self.failed_items} failed items, {len(self.failed)} of {self.total} "
                  "mini-batches failed; see logs/job_error.txt")
        if self.error_threshold != -1 and self.failed_items > self.error_threshold:
            raise JobFailed(f"error_threshold {self.error_threshold} exceeded ({counts})")
        limit = self.allowed_failed_count
        if limit is not None and limit != -1 and len(self.failed) > limit:
            raise JobFailed(f"allowed_failed_count {limit} exceeded ({counts})")
        percent = self.allowed_failed_percent
        if percent is not None and self.finished and self.total and \
                len(self.failed) * 100 / self.total > percent:
            raise JobFailed(f"allowed_failed_percent {percent:g} exceeded ({counts})")

    def progress(self, seconds: float | None = None) -> str:
        """`12/40 mini-batches done, 1 failed, 35.2 items/s`, for the log and the step's
        output (the rate over `seconds`, when given)."""
        text = f"{len(self.done)}/{self.total} mini-batches done, {len(self.failed)} failed"
        if seconds:
            text += f", {(self.succeeded_items + self.failed_items) / seconds:.1f} items/s"
        return text

    def summary(self, seconds: float) -> str:
        items = self.succeeded_items + self.failed_items
        return (f"{len(self.done)} of {self.total} mini-batches succeeded, {len(self.failed)} "
                f"failed; {self.succeeded_items} items succeeded, {self.failed_items} failed; "
                f"{items / seconds:.1f} items/s")

    def metrics(self, seconds: float) -> dict[str, int | float]:
        """The counts logged as run metrics."""
        reused = sum(1 for index in self.done if self.tries.get(index) == 0)
        return {"Total MiniBatches": self.total, "Succeeded MiniBatches": len(self.done),
                "Reused MiniBatches": reused,
                "Failed MiniBatches": len(self.failed), "Succeeded Items": self.succeeded_items,
                "Failed Items": self.failed_items,
                "Items per second": round((self.succeeded_items + self.failed_items) / seconds, 3)}


def list_files(root: str) -> list[str]:
    """Every file under `root` (a file itself: just it), sorted, links to folders not followed."""
    if os.path.isfile(root):
        return [root]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        found += [os.path.join(folder, name) for name in sorted(files)]
    return found


def mini_batches(inputs: list[tuple[str, str]], size: int) -> list[MiniBatch]:
    """Each input's files cut into lists of `size` (the last may be shorter)."""
    batches: list[MiniBatch] = []
    for name, root in inputs:
        files = list_files(root)
        for start in range(0, len(files), size):
            batches.append(MiniBatch(len(batches), name, tuple(files[start:start + size])))
    return batches
