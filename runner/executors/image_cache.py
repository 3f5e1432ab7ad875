"""Image lookups remembered while the engine says no image changed (watch mode's warm path).

Every step resolves its environment to an image id (`GET /images/NAME/json`), three times
per watch rerun of a two-step pipeline (planning both steps, then the step that runs).
While a watcher runs, `start_image_cache` subscribes to the engine's image events; until
one arrives (a pull, tag, untag, delete, import, load, build), a name keeps the id and
labels it had. Any image event, or the event stream ending, forgets every entry (and an
ended stream stops the cache: lookups go to the engine again). Without a running cache
nothing is remembered, so other commands see exactly what the engine says.
"""
from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_entries: dict[str, tuple[str, dict[str, str]]] = {}  # name → (image id, labels)
_stream: Any = None  # the engine's image event stream while the cache runs
_generation = 0  # bumped whenever entries are forgotten: a lookup begun before is not kept


def start_image_cache(client: Any) -> bool:
    """Subscribe to `client`'s image events and remember lookups until one arrives; True
    when the cache runs (already, or now). The subscription is in place when this returns."""
    global _stream
    with _lock:
        if _stream is not None:
            return True
        try:
            stream = client.events(filters={"type": "image"}, decode=True)
        except Exception:
            return False
        _stream = stream
        _entries.clear()
    threading.Thread(target=_listen, args=(stream,), name="image-events", daemon=True).start()
    return True


def stop_image_cache() -> None:
    """Stop remembering lookups and close the event stream (idempotent)."""
    global _stream
    with _lock:
        stream, _stream = _stream, None
        _forget()
    if stream is not None:
        try:
            stream.close()
        except Exception:
            pass  # the engine went away: nothing left to close


def image_cache_running() -> bool:
    """Whether lookups are remembered now."""
    return _stream is not None


def _forget() -> None:
    global _generation
    _entries.clear()
    _generation += 1


def _listen(stream: Any) -> None:
    global _stream
    try:
        for _ in stream:
            with _lock:
                _forget()
    except Exception:
        pass  # closed, or the engine went away
    with _lock:
        if _stream is stream:  # it ended by itself: stop trusting what was remembered
            _stream = None
        _forget()


def lookup(client: Any, name: str) -> tuple[str, dict[str, str]]:
    """(id, labels) of image `name`: remembered while the cache runs, else asked of the
    engine (docker-py's errors, e.g. ImageNotFound, pass through; a miss is never kept)."""
    with _lock:
        found = _entries.get(name) if _stream is not None else None
        generation = _generation
    if found is not None:
        return found
    image = client.images.get(name)
    found = (image.id, dict(image.labels or {}))
    with _lock:
        if _stream is not None and generation == _generation:
            _entries[name] = found
    return found
