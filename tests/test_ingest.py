"""Ingesting a step's event file: batches, partial lines, corrupt lines."""
from __future__ import annotations

import json

import pytest

from runner.engine.ingest import EventIngestor
from store.metrics import latest_metrics, metric_history
from store.runs import NewPipelineRun, NewStepRun, create_pipeline_run, events_offset
from store.workspace import open_workspace_at


def _workspace_with_step(tmp_path):
    """A workspace holding pipeline run p1 with step run s1."""
    local = open_workspace_at(tmp_path / ".amlocal")
    local.conn.execute("INSERT INTO experiment (id, name, created_at, tags_json) "
                       "VALUES ('e1', 'x', 0, '{}')")
    local.conn.execute("INSERT INTO pipeline (id, name, spec_hash, spec_json, created_at) "
                       "VALUES ('pl1', 'pipe', 'h', '{\"steps\": []}', 0)")
    create_pipeline_run(local.conn, NewPipelineRun("p1", "e1", "pl1", str(tmp_path / "p1")),
                        [NewStepRun("s1", "n1", "train", 0, str(tmp_path / "p1" / "s1"))])
    return local


def test_corrupt_and_partial_lines_lose_no_good_event(tmp_path):
    local = _workspace_with_step(tmp_path)
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


def _scalar(value: int) -> str:
    return json.dumps({"t": 1.0, "run": "s1", "kind": "scalar", "name": "loss", "value": value}) + "\n"


def test_a_second_ingestor_goes_on_where_the_first_stopped_and_stores_nothing_twice(tmp_path):
    """What a reconciler does after the runner died between two polls: it starts from the
    offset stored with the last batch, so every value is stored exactly once."""
    local = _workspace_with_step(tmp_path)
    events = tmp_path / "events.jsonl"
    events.write_text(_scalar(1) + _scalar(2))
    first = EventIngestor(local.conn, events, "s1", "p1", {})
    assert first.poll() == 2
    with open(events, "a") as f:
        f.write(_scalar(3) + _scalar(4) + _scalar(5)[:7])  # the runner dies here
    second = EventIngestor(local.conn, events, "s1", "p1", {})
    assert second.poll() == 2
    assert first.poll() == 2  # it finds its bytes taken and catches up, storing nothing more
    assert first.offset == second.offset
    assert [m.value for m in metric_history(local.conn, "s1", "loss")] == [1, 2, 3, 4]
    assert events_offset(local.conn, "s1") == len((_scalar(1) + _scalar(2) + _scalar(3) + _scalar(4)).encode())
    assert type(events_offset(local.conn, "s1")) is int


def test_a_batch_that_fails_to_store_stores_nothing_and_keeps_its_offset(tmp_path):
    """A batch is one transaction with its offset: stored whole or not at all."""
    local = _workspace_with_step(tmp_path)
    events = tmp_path / "events.jsonl"
    events.write_text(_scalar(1) + json.dumps({"t": 1.0, "run": "s1", "kind": "artifact",
                                               "name": "x", "value": "x"}) + "\n")
    ingestor = EventIngestor(local.conn, events, "s1", "p1", {})  # no artifacts folder: fails
    with pytest.raises(KeyError):
        ingestor.poll()
    assert metric_history(local.conn, "s1", "loss") == []
    assert events_offset(local.conn, "s1") == 0
    assert not local.conn.in_transaction
