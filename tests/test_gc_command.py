"""`amlocal rm RUN…` and `amlocal gc`: runs go with their rows and folders (a failed step's
kept working copy too), then what no kept run uses; what it frees is said in bytes; it asks
unless --yes; an active run, or one a kept run reuses, is refused or kept."""
from __future__ import annotations

import os
import time

import pytest

from runner.sdk import Experiment, Pipeline, PythonScriptStep
from store.errors import NotFoundError
from store.run_removal import tree_bytes
from store.runs import get_pipeline_run, get_step_runs, list_pipeline_runs
from tests.conftest import amlocal
from tests.test_reuse import build, project  # noqa: F401  (the fixture)


def _submit(workspace, project):  # noqa: F811
    run = Experiment(workspace, "gc").submit(build(workspace, project))
    assert run.wait_for_completion(show_output=False) == "Finished"
    return run


def _failed(workspace, write, tmp_path):
    write("bad/bad.py", "open('partial.txt', 'w').write('half')\nraise SystemExit('no')\n")
    step = PythonScriptStep("bad.py", name="bad", source_directory=str(tmp_path / "bad"))
    run = Experiment(workspace, "gc").submit(Pipeline(workspace, [step]))
    assert run.wait_for_completion(show_output=False, raise_on_error=False) == "Failed"
    return run


def _age(workspace, run_id: str, days: float) -> None:
    """Make run `run_id` look `days` old (the test's own SQL, outside the product)."""
    conn = workspace._local.conn
    conn.execute("UPDATE pipeline_run SET created_at = ? WHERE id = ?",
                 (time.time() - days * 86400, run_id))
    conn.commit()


def test_rm_removes_a_run_its_rows_and_its_folder_saying_the_bytes(workspace, project, tmp_path):  # noqa: F811
    run = _submit(workspace, project)
    folder = workspace._local.layout.pipeline_run_dir(run.id)
    size = tree_bytes(folder)
    assert size > 0
    done = amlocal("rm", run.id[:8], "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["amlocal rm: removes", f"  1 run: {run.id[:8]} ({size} bytes"
                                        f"{f' ({size / 1000:.1f} kB)' if size >= 1000 else ''})",
                                        f"freed {size} bytes"
                                        f"{f' ({size / 1000:.1f} kB)' if size >= 1000 else ''}"]
    conn = workspace._local.conn
    with pytest.raises(NotFoundError):
        get_pipeline_run(conn, run.id)
    assert get_step_runs(conn, run.id) == []
    assert conn.execute("SELECT count(*) FROM metric").fetchone()[0] == 0
    assert folder.exists() is False


def test_rm_asks_first(workspace, project, tmp_path):  # noqa: F811
    import subprocess
    from tests.conftest import AMLOCAL, REPO
    run = _submit(workspace, project)
    env = {**os.environ, "AMLOCAL_EXECUTOR": "local", "PYTHONPATH": str(REPO)}
    done = subprocess.run([*AMLOCAL, "rm", run.id[:8]], cwd=tmp_path, env=env, input="n\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    size = tree_bytes(workspace._local.layout.pipeline_run_dir(run.id))
    assert size < 1000  # said as bytes only
    assert done.stdout.splitlines()[-2:] == [f"remove them, freeing {size} bytes? [y/N] ",
                                             "nothing removed"]
    assert get_pipeline_run(workspace._local.conn, run.id).id == run.id
    done = subprocess.run([*AMLOCAL, "rm", run.id[:8]], cwd=tmp_path, env=env, input="y\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"freed {size} bytes"
    assert [r.id for r in list_pipeline_runs(workspace._local.conn)] == []


def test_rm_refuses_a_run_that_another_run_reuses_and_an_active_run(workspace, project,  # noqa: F811
                                                                      write, tmp_path):
    first = _submit(workspace, project)
    second = _submit(workspace, project)  # reuses every step of the first
    done = amlocal("rm", first.id[:8], "--yes", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", f"amlocal: error: run {first.id[:8]} is reused by run {second.id[:8]}: remove that "
               f"run too, or keep {first.id[:8]}\n")
    done = amlocal("rm", first.id[:8], second.id[:8], "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert list_pipeline_runs(workspace._local.conn) == []
    write("wait/wait.py", f"import os, time\nwhile not os.path.exists({str(tmp_path / 'go')!r}):\n"
                          "    time.sleep(0.05)\n")
    step = PythonScriptStep("wait.py", name="wait", source_directory=str(tmp_path / "wait"))
    active = Experiment(workspace, "gc").submit(Pipeline(workspace, [step]))
    try:
        deadline = time.monotonic() + 30
        while active.get_status() != "Running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        done = amlocal("rm", active.id[:8], "--yes", cwd=tmp_path)
        assert (done.returncode, done.stdout, done.stderr) == (
            1, "", f"amlocal: error: run {active.id[:8]} is Running: cancel it first (amlocal "
                   f"cancel {active.id[:8]}) or wait for it to end\n")
    finally:
        (tmp_path / "go").write_text("")
        active.wait_for_completion(show_output=False)


def test_gc_removes_old_runs_their_kept_working_copies_and_unused_snapshots(
        workspace, project, write, tmp_path):  # noqa: F811
    failed = _failed(workspace, write, tmp_path)
    (bad,) = get_step_runs(workspace._local.conn, failed.id)
    assert (bad.run_dir / "wd" / "partial.txt").read_text() == "half"
    done = amlocal("gc", "--yes", cwd=tmp_path)  # 30 days by default: nothing that old
    assert (done.returncode, done.stdout.splitlines()[0]) == (0, "amlocal gc: nothing to remove")
    _age(workspace, failed.id, 31)
    snapshots = workspace._local.layout.snapshots_dir
    done = amlocal("gc", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].startswith(f"  1 run: {failed.id[:8]} (")
    assert lines[2].startswith("  1 snapshot no kept run uses (")
    assert lines[-1].startswith("freed ")
    assert bad.run_dir.exists() is False
    conn = workspace._local.conn
    assert conn.execute("SELECT count(*) FROM snapshot").fetchone()[0] == 0
    assert list((snapshots / "manifests").iterdir()) == []
    assert [p for p in (snapshots / "objects").rglob("*") if p.is_file()] == []


def test_gc_keeps_an_old_run_that_a_newer_run_reuses(workspace, project, tmp_path):  # noqa: F811
    first = _submit(workspace, project)
    second = _submit(workspace, project)
    _age(workspace, first.id, 40)
    done = amlocal("gc", "--yes", cwd=tmp_path)
    assert (done.returncode, done.stdout.splitlines()) == (0, [
        "amlocal gc: nothing to remove",
        f"  kept run {first.id[:8]}: reused by run {second.id[:8]}"])
    _age(workspace, second.id, 35)  # both old now: both go, and then every snapshot
    done = amlocal("gc", "--older-than", "30d", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith(
        f"  2 runs: {', '.join(r[:8] for r in sorted([first.id, second.id]))} (")
    assert list_pipeline_runs(workspace._local.conn) == []
    done = amlocal("gc", "--older-than", "yesterday", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        2, "amlocal: error: argument --older-than: 'yesterday' is neither a date (2026-12-01, "
           "2026-12-01T09:30) nor a duration (90s, 15m, 2h, 3d, 1w) (see `amlocal gc --help`)\n")


class _Image:
    def __init__(self, image_id: str, tag: str, size: int) -> None:
        self.id, self.tags, self.attrs = image_id, [tag], {"Size": size}


class _Images:
    """A Docker engine's images, as docker-py's client.images shows them."""

    def __init__(self, images: list[_Image]) -> None:
        self.by_id = {i.id: i for i in images}
        self.removed: list[str] = []

    def get(self, image_id: str) -> _Image:
        return self.by_id[image_id]

    def remove(self, tag: str, force: bool = False) -> None:
        self.removed.append(tag)


def test_gc_removes_the_environment_images_only_removed_runs_ran_in(workspace, write, tmp_path,
                                                                      monkeypatch):
    """An amlocal-env image the removed runs used and no kept run uses goes; one a kept run
    uses, and a base image, stay (a fake engine: the real one's images are shared)."""
    import json
    import types
    from runner.engine import workspace_gc
    from runner.executors import docker_engine
    old, new = _failed(workspace, write, tmp_path), _failed(workspace, write, tmp_path)
    conn = workspace._local.conn
    (old_step,), (new_step,) = get_step_runs(conn, old.id), get_step_runs(conn, new.id)
    for step, image, image_id in ((old_step, "amlocal-env:aaaa", "sha256:a"),
                                  (new_step, "amlocal-env:bbbb", "sha256:b")):
        conn.execute("UPDATE step_run SET properties_json = ? WHERE id = ?",
                     (json.dumps({"amlocal.image": image, "amlocal.image_id": image_id}), step.id))
    conn.commit()
    _age(workspace, old.id, 31)
    images = _Images([_Image("sha256:a", "amlocal-env:aaaa", 380_000_000),
                      _Image("sha256:b", "amlocal-env:bbbb", 290_000_000)])
    monkeypatch.setattr(docker_engine, "engine_answers", lambda: (True, "27.0"))
    monkeypatch.setattr(docker_engine, "docker_client", lambda: types.SimpleNamespace(images=images))
    removal = workspace_gc.plan_gc(workspace._local, time.time() - 30 * 86400)
    assert list(removal.runs) == [old.id]
    assert removal.images == {"sha256:a": ("amlocal-env:aaaa", 380_000_000)}
    freed = workspace_gc.apply(workspace._local, removal)
    assert images.removed == ["amlocal-env:aaaa"]
    assert freed == removal.total and type(freed) is int
    assert freed >= 380_000_000
