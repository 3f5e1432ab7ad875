"""The event file a step writes: one JSON object per line, appended, flushed often.

Each event: {"t": unix time, "run": run id, "kind": ..., "name": ..., "value": ...}.
Kinds: scalar, list, row, table, image, tag, property, artifact, and cancel (of the
pipeline run, by `run.parent.cancel()`; its name is the step's). An event after a quiet
spell is flushed at once; a burst is buffered and flushed by a background thread every
FLUSH_SECONDS (and at exit). Logging stays cheap in a tight loop, the runner sees values live,
and a step killed outright (out of memory, SIGKILL) loses at most FLUSH_SECONDS of events.
"""
from __future__ import annotations

import atexit
import json
import threading
import time
from typing import Any

FLUSH_SECONDS = 0.2


class EventWriter:
    """Appends events to one file; safe to use from several threads."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8", buffering=1 << 16)
        self._lock = threading.Lock()
        self._last_flush = time.monotonic() - FLUSH_SECONDS  # the first event goes out at once
        self._dirty = False  # events written but not flushed
        self._flusher: threading.Thread | None = None
        atexit.register(self.close)

    def write(self, run_id: str, kind: str, name: str, value: Any) -> None:
        """Append one event."""
        now = time.time()
        line = json.dumps({"t": now, "run": run_id, "kind": kind, "name": name, "value": value},
                          default=str, allow_nan=True)
        with self._lock:
            self._file.write(line + "\n")
            mono = time.monotonic()
            if mono - self._last_flush >= FLUSH_SECONDS:
                self._file.flush()
                self._last_flush, self._dirty = mono, False
            else:
                self._dirty = True
                if self._flusher is None:
                    self._flusher = threading.Thread(target=self._flush_periodically,
                                                     name="amlocal-event-flusher", daemon=True)
                    self._flusher.start()

    def _flush_periodically(self) -> None:
        """Flush buffered events every FLUSH_SECONDS until the file is closed."""
        while True:
            time.sleep(FLUSH_SECONDS)
            with self._lock:
                if self._file.closed:
                    return
                if self._dirty:
                    self._file.flush()
                    self._last_flush, self._dirty = time.monotonic(), False

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                self._dirty = False

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


_shared: dict[str, EventWriter] = {}
_shared_lock = threading.Lock()


def shared_writer(path: str) -> EventWriter:
    """The one EventWriter of this process for the event file `path`: every part of a step
    (its run, its registrations) appends through it, so lines never interleave."""
    with _shared_lock:
        if path not in _shared:
            _shared[path] = EventWriter(path)
        return _shared[path]
