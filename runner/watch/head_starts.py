"""A watcher's head starts (`runner.engine.head_start`): the one begun for the burst of saves
going on, and those standing ready after a run.

Users edit the same step again and again, or go back and forth between two, so once a run
ended (and when watching begins), the head starts of the next rerun of it are made at once
(`stand_ready`): for the last RECENT sets of steps a save reran, their containers are
started, held at their gates; for the sets a save of each other step's folder would rerun
(CREATED_AHEAD at most), they are only created. A burst that reruns one of those sets takes
its head start (`for_burst`); any other burst begins its own. What was made for an earlier
run is ended once the next run has ended (not during a burst, when it would slow the rerun
down), and everything once the watcher closes.
"""
from __future__ import annotations

import threading

from runner.engine.head_start import HeadStart
from runner.spec import PipelineSpec
from store.layout import WorkspaceLayout

RECENT = 2  # how many of the last sets of steps saves reran stand ready (started) after a run
CREATED_AHEAD = 8  # how many other sets a save could rerun stand ready (created only, and
# started when a burst that reruns one begins)


class HeadStarts:
    """The head starts of the watcher's next rerun: made at a burst, or after a run."""

    def __init__(self, layout: WorkspaceLayout, executor: str | None) -> None:
        self.layout = layout
        self.executor = executor  # the executor the reruns ask for
        self._lock = threading.Lock()
        self._kept: list[HeadStart] = []  # standing ready, or begun for the burst going on
        self._burst: HeadStart | None = None  # the one the burst going on takes
        self._recent: list[frozenset[str]] = []  # the last sets of steps reruns ran, newest first
        self._closed = False

    def for_burst(self, previous_run_id: str, spec: PipelineSpec, stale: set[str]) -> None:
        """A burst of saves began that reruns `stale` of `previous_run_id`: take the head
        start standing ready for exactly that, or begin one. (One an earlier burst took but
        no rerun did, e.g. as watching was paused, stays kept until the next run ends.)"""
        with self._lock:
            if self._closed:
                return
            head = next((h for h in self._kept if h.made_for(previous_run_id, stale)), None)
            if head is None:
                head = HeadStart.begin(self.layout, previous_run_id, spec, stale, self.executor)
                self._kept.append(head)
            elif not head.started:
                head.start_now()  # only created: start them while the burst settles
            self._burst = head

    def take(self) -> HeadStart | None:
        """The head start of the rerun about to be submitted (no longer kept), if any."""
        with self._lock:
            head, self._burst = self._burst, None
            if head is not None:
                self._kept.remove(head)
        return head

    def stand_ready(self, previous_run_id: str, spec: PipelineSpec, ran: set[str] | None,
                    candidates: list[set[str]]) -> None:
        """`previous_run_id` ended (a rerun of `ran`, if the watcher made it), or watching
        begins with it: end what was made for earlier runs, then make the head starts of its
        reruns: started for the RECENT last sets of steps reruns ran, created only for the
        first CREATED_AHEAD other `candidates` (what a save of each step's folder reruns).
        Nothing is made when a burst began meanwhile."""
        with self._lock:
            if self._closed:
                return
            if ran is not None:
                self._recent = [frozenset(ran), *(s for s in self._recent if s != ran)][:RECENT]
            old = [h for h in self._kept
                   if h.previous_run_id != previous_run_id and h is not self._burst]
            self._kept = [h for h in self._kept if h not in old]
        for head in old:
            head.end()
        with self._lock:
            if self._closed or self._burst is not None:
                return
            others = [c for c in map(frozenset, candidates) if c not in self._recent]
            for steps, start in [*((s, True) for s in self._recent),
                                 *((s, False) for s in others[:CREATED_AHEAD])]:
                if not any(h.made_for(previous_run_id, set(steps)) for h in self._kept):
                    self._kept.append(HeadStart.begin(self.layout, previous_run_id, spec,
                                                      set(steps), self.executor, start=start))

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every head start kept has made its containers; False when one is still
        making them after `timeout` seconds (benchmarks measure their reference once nothing
        else is starting)."""
        with self._lock:
            heads = list(self._kept)
        return all(head.wait_made(timeout) for head in heads)

    def reset(self, close: bool = False) -> None:
        """End everything kept (the pipeline changed: nothing made for it fits); `close`:
        and make nothing more (the watcher stops)."""
        with self._lock:
            self._closed = self._closed or close
            heads, self._kept, self._burst = self._kept, [], None
        for head in heads:
            head.end()
