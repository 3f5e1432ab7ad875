"""Containers made ahead: taken only when identical (arguments, image, mounted inodes) and up
or only created, waited for while being made or started, removed otherwise (with a fake
engine API; test_watch_docker does it with a real one)."""
from __future__ import annotations

import threading
import time

from runner.executors import precreated


SAME = ("sha256:1", ())  # an identity (see `mounted_identity`)


class FakeApi:
    """Records the containers removed; the ones in `running` are up."""

    def __init__(self, running: tuple[str, ...] = ()) -> None:
        self.removed: list[str] = []
        self.running = set(running)

    def remove_container(self, container_id: str, force: bool) -> None:
        assert force is True
        self.removed.append(container_id)

    def inspect_container(self, container_id: str) -> dict:
        return {"State": {"Running": container_id in self.running}}

    def start(self, container_id: str) -> None:
        self.running.add(container_id)


def test_the_same_arguments_take_it_and_others_remove_it():
    api, undone = FakeApi(running=("c1", "c2")), []
    precreated.keep_precreated("s1", {"image": "i", "environment": {"A": "1"}}, SAME, "c1",
                               lambda: undone.append("s1")).left(precreated.UP)
    assert precreated.take_precreated(api, "s1", {"image": "i", "environment": {"A": "1"}},
                                      lambda: SAME) == "c1"
    precreated.keep_precreated("s2", {"image": "i", "environment": {"A": "1"}}, SAME, "c2",
                               lambda: undone.append("s2")).left(precreated.UP)
    assert precreated.take_precreated(api, "s2", {"image": "i", "environment": {"A": "2"}},
                                      lambda: SAME) is None
    assert precreated.take_precreated(api, "s3", {"image": "i"}, lambda: SAME) is None  # none made
    assert (api.removed, undone, precreated.precreated_step_runs()) == (["c2"], [], [])


def test_one_whose_start_failed_or_that_is_gone_is_removed_not_taken():
    api = FakeApi(running=("c8",))
    precreated.keep_precreated("s7", {"image": "i"}, SAME, "c7", lambda: None).left(precreated.FAILED)
    assert precreated.take_precreated(api, "s7", {"image": "i"}, lambda: SAME) is None
    precreated.keep_precreated("s8", {"image": "i"}, SAME, "c8", lambda: None).left(precreated.UP)
    api.running.clear()  # removed by another runner's reaper meanwhile
    assert precreated.take_precreated(api, "s8", {"image": "i"}, lambda: SAME) is None
    precreated.keep_precreated("s9", {"image": "i"}, SAME, "c9", lambda: None).left(precreated.UP)
    api.running.add("c9")  # up, but a mounted folder was made again (or the image rebuilt)
    assert precreated.take_precreated(api, "s9", {"image": "i"}, lambda: ("sha256:1", None)) is None
    assert api.removed == ["c7", "c8", "c9"]


def test_identity_is_the_image_id_and_the_inode_of_each_mounted_source(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    args = {"host_config": {"Mounts": [{"Source": str(folder)}]}}
    before = precreated.mounted_identity("sha256:1", args)
    assert before == ("sha256:1", ((str(folder), folder.stat().st_dev, folder.stat().st_ino),))
    assert precreated.mounted_identity("sha256:1", args) == before
    folder.rmdir()
    assert precreated.mounted_identity("sha256:1", args) == ("sha256:1", None)
    (tmp_path / "other").mkdir()  # keeps the old inode from being handed out again at once
    folder.mkdir()
    assert precreated.mounted_identity("sha256:1", args) != before


def test_one_only_created_ahead_is_started_as_it_is_taken():
    api = FakeApi()  # not running: created, never started
    precreated.keep_precreated("s10", {"image": "i"}, SAME, "c10", lambda: None).left(
        precreated.CREATED)
    assert precreated.take_precreated(api, "s10", {"image": "i"}, lambda: SAME) == "c10"
    assert (api.running, api.removed) == ({"c10"}, [])


def test_one_only_created_is_started_once_when_a_burst_begins_and_then_taken_up():
    api = FakeApi()
    precreated.keep_precreated("s11", {"image": "i"}, SAME, "c11", lambda: None).left(
        precreated.CREATED)
    assert precreated.start_precreated(api, "s11") is True
    assert precreated.start_precreated(api, "s11") is False  # up already
    assert precreated.take_precreated(api, "s11", {"image": "i"}, lambda: SAME) == "c11"
    assert precreated.start_precreated(api, "s11") is False  # taken: its step's start has it
    assert (api.running, api.removed) == ({"c11"}, [])


def test_discarding_removes_it_and_undoes_its_setup_once():
    api, undone = FakeApi(), []
    precreated.keep_precreated("s4", {"image": "i"}, SAME, "c4", lambda: undone.append("s4"))
    assert precreated.discard_precreated(api, "s4") is True
    assert precreated.discard_precreated(api, "s4") is False
    assert (api.removed, undone) == (["c4"], ["s4"])


def test_a_start_waits_for_the_container_being_made_then_for_its_start():
    api = FakeApi(running=("c5",))
    precreated.expect_precreated(["s5"])
    got: list[str | None] = []
    taker = threading.Thread(target=lambda: got.append(
        precreated.take_precreated(api, "s5", {"image": "i"}, lambda: SAME)))
    taker.start()
    time.sleep(0.1)
    assert got == []  # still waiting: not made yet
    made = precreated.keep_precreated("s5", {"image": "i"}, SAME, "c5", lambda: None)
    time.sleep(0.1)
    assert got == []  # made, still starting
    made.left(precreated.UP)
    taker.join(5)
    assert got == ["c5"]


def test_a_container_that_will_not_be_made_ends_the_wait():
    api = FakeApi()
    precreated.expect_precreated(["s6"])
    threading.Timer(0.05, precreated.settle_precreated, args=("s6",)).start()
    started = time.monotonic()
    assert precreated.take_precreated(api, "s6", {"image": "i"}, lambda: SAME) is None
    assert time.monotonic() - started < precreated.WAIT_SECONDS / 2
