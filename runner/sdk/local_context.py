"""The local workspace that SDK objects read and write.

Found once per process like git finds a repository (see `store.layout`); created in the
current directory, with a note on stderr, when there is none.
"""
from __future__ import annotations

import sys
import threading

from store.layout import find_or_create_workspace
from store.workspace import OpenWorkspace, open_workspace

_lock = threading.Lock()
_current: OpenWorkspace | None = None


def local_workspace() -> OpenWorkspace:
    """The open workspace of this process."""
    global _current
    with _lock:
        if _current is None:
            layout, created = find_or_create_workspace()
            if created:
                print(f"amlocal: created a workspace in {layout.root}", file=sys.stderr)
            _current = open_workspace(layout)
        return _current


def reset_local_workspace() -> None:
    """Forget the open workspace (the next use finds it again); used when AMLOCAL_HOME changes."""
    global _current
    with _lock:
        if _current is not None:
            _current.close()
        _current = None
