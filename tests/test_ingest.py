"""Ingesting a step's event file: batches, partial lines, corrupt lines."""
from __future__ import annotations

import json

from runner.engine.ingest import EventIngestor
from store.metrics import latest_metrics
from store.workspace import open_workspace_at


def test_corrupt_and_partial_lines_lose_no_good_event(tmp_path):
    local = open_workspace_at(tmp_path / ".amlocal")
    events = tmp_path / "events.jsonl"
    good = [json.dumps({"t": 1.0, "run": "s1", "kind": "scalar", "name": "loss", "value": v}) for v in (3, 2)]
    events.write_text(good[0] + "\n{not json\n" + good[1] + "\n" + good[0][:10])
    ingestor = EventIngestor(local.conn, events, "s1", "p1", {})
    ingestor.poll()
    assert ingestor.bad_lines == 1
    (row,) = latest_metrics(local.conn, ["s1"])
    assert (row.value, row.count) == (2, 2) and type(row.value) is int
    with open(events, "a") as f:  # the partial last line is completed later
        f.write(good[0][10:] + "\n")
    ingestor.poll()
    (row,) = latest_metrics(local.conn, ["s1"])
    assert (row.value, row.count) == (3, 3) and type(row.value) is int
