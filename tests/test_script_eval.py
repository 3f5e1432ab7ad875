"""`runner.engine.script_eval`: the script hash a submit records, and whether it changed."""
from __future__ import annotations

import hashlib

from runner.engine.script_eval import (SCRIPT_HASH_FILE, evaluate_script, record_script_hash,
                                       script_changed, script_sha256)


def test_a_recorded_script_is_unchanged_until_its_content_changes(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text("print('a')\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record_script_hash(run_dir, script)
    digest = hashlib.sha256(b"print('a')\n").hexdigest()
    assert (run_dir / SCRIPT_HASH_FILE).read_text() == digest + "\n"
    assert script_sha256(script) == digest
    assert script_changed(run_dir, script) is False
    script.touch()  # a save with the same content is no change
    assert script_changed(run_dir, script) is False
    script.write_text("print('b')\n")
    assert script_changed(run_dir, script) is True


def test_no_script_no_hash_or_a_deleted_script_is_not_a_change(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text("x = 1\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    record_script_hash(run_dir, None)
    assert list(run_dir.iterdir()) == []
    assert script_changed(run_dir, None) is False
    assert script_changed(run_dir, script) is False  # an older run: no hash recorded
    record_script_hash(run_dir, script)
    script.unlink()
    assert script_changed(run_dir, script) is False
    assert script_sha256(script) is None


def test_evaluating_a_broken_script_gives_its_error_and_no_run(tmp_path):
    script = tmp_path / "pipeline.py"
    script.write_text("raise ValueError('boom')\n")
    done = evaluate_script(tmp_path / ".amlocal", script)
    assert done.submitted == ()
    assert done.returncode == 1 and type(done.returncode) is int
    assert done.last_error == "amlocal: error: pipeline.py:1: ValueError: boom"
