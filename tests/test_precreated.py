"""Containers made ahead: taken only when identical, waited for while being made, removed
otherwise (with a fake engine API; test_watch_docker does it with a real one)."""
from __future__ import annotations

import threading
import time

from runner.executors import precreated


class FakeApi:
    """Records the containers removed."""

    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove_container(self, container_id: str, force: bool) -> None:
        assert force is True
        self.removed.append(container_id)


def test_the_same_arguments_take_it_and_others_remove_it():
    api, undone = FakeApi(), []
    precreated.keep_precreated("s1", {"image": "i", "environment": {"A": "1"}}, "c1",
                               lambda: undone.append("s1"))
    assert precreated.take_precreated(api, "s1", {"image": "i", "environment": {"A": "1"}}) == "c1"
    precreated.keep_precreated("s2", {"image": "i", "environment": {"A": "1"}}, "c2",
                               lambda: undone.append("s2"))
    assert precreated.take_precreated(api, "s2", {"image": "i", "environment": {"A": "2"}}) is None
    assert precreated.take_precreated(api, "s3", {"image": "i"}) is None  # none made
    assert (api.removed, undone, precreated.precreated_step_runs()) == (["c2"], [], [])


def test_discarding_removes_it_and_undoes_its_setup_once():
    api, undone = FakeApi(), []
    precreated.keep_precreated("s4", {"image": "i"}, "c4", lambda: undone.append("s4"))
    assert precreated.discard_precreated(api, "s4") is True
    assert precreated.discard_precreated(api, "s4") is False
    assert (api.removed, undone) == (["c4"], ["s4"])


def test_a_start_waits_for_the_container_being_made():
    api = FakeApi()
    precreated.expect_precreated(["s5"])
    got: list[str | None] = []
    taker = threading.Thread(target=lambda: got.append(
        precreated.take_precreated(api, "s5", {"image": "i"})))
    taker.start()
    time.sleep(0.1)
    assert got == []  # still waiting
    precreated.keep_precreated("s5", {"image": "i"}, "c5", lambda: None)
    taker.join(5)
    assert got == ["c5"]


def test_a_container_that_will_not_be_made_ends_the_wait():
    api = FakeApi()
    precreated.expect_precreated(["s6"])
    threading.Timer(0.05, precreated.settle_precreated, args=("s6",)).start()
    started = time.monotonic()
    assert precreated.take_precreated(api, "s6", {"image": "i"}) is None
    assert time.monotonic() - started < precreated.WAIT_SECONDS / 2
