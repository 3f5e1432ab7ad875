"""The event file a step writes: one JSON object per line, appended, flushed often.

Each event: {"t": unix time, "run": run id, "kind": ..., "name": ..., "value": ...}.
Kinds: scalar, list, row, table, image, tag, property, artifact. Writes are buffered and
flushed at most every FLUSH_SECONDS (and at exit), so logging stays cheap in a tight loop
while the runner still sees values live.
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
        self._last_flush = time.monotonic()
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
                self._last_flush = mono

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()
