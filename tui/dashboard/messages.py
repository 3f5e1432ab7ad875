"""Every message the dashboard's workers and watchers post, in one place.

Workers never touch widgets: they read the store and post one of these; the screen's
handler updates its widgets in place. Each is a dataclass carrying immutable data.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class DataLoaded(Message):
    """A live screen's worker read the store: `data` is what the screen shows (its rows)."""

    data: Any


@dataclass
class LogLines(Message):
    """New lines of the highlighted step's stdout and stderr (already filtered by search)."""

    step_id: str
    lines: list[str]


@dataclass
class StepFactsLoaded(Message):
    """The highlighted step's metrics, details, outputs and live usage."""

    step_id: str
    metrics: list[tuple[str, str, str, list[float], list]]  # name, kind, latest, series, values
    details: str
    outputs: list[tuple[str, str, str, str]]  # name, kind, size, where
    usage: str


@dataclass
class WatchEvent(Message):
    """Something a watcher said ("train.py changed → train, compare rerun")."""

    pipeline: str
    text: str
    at: str = field(default_factory=lambda: time.strftime("%H:%M:%S"))


@dataclass
class AssetDetailLoaded(Message):
    """The highlighted registered version's details and lineage, as text."""

    asset_id: str
    text: str


@dataclass
class DagStepHighlighted(Message):
    """The cursor of the run screen's graph view moved to step run `step_id`."""

    step_id: str
