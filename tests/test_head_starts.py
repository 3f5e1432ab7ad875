"""The watcher's head-start policy (`runner.watch.head_starts`), with a stand-in for
`HeadStart` that records what it was asked: what stands ready after a run, what a burst
takes, and when what was made for an earlier run is ended. test_watch_ahead does it with a
real engine."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from runner.watch import head_starts
from runner.watch.head_starts import HeadStarts


@dataclass
class FakeHead:
    """What `HeadStart.begin` made: for which rerun, whether started; what was asked of it."""

    previous_run_id: str
    stale: frozenset[str]
    started: bool
    asked: list[str] = field(default_factory=list)

    def made_for(self, previous_run_id: str, stale: set[str]) -> bool:
        return self.previous_run_id == previous_run_id and self.stale == frozenset(stale)

    def start_now(self) -> None:
        self.started = True
        self.asked.append("start_now")

    def end(self) -> None:
        self.asked.append("end")

    def wait_made(self, timeout: float) -> bool:
        return True


@pytest.fixture
def made(monkeypatch) -> list[FakeHead]:
    """Every head start begun, in order."""
    begun: list[FakeHead] = []

    def begin(layout, previous_run_id, spec, stale, executor=None, start=True):
        begun.append(FakeHead(previous_run_id, frozenset(stale), start))
        return begun[-1]
    monkeypatch.setattr(head_starts.HeadStart, "begin", staticmethod(begin))
    return begun


def _what(heads: list[FakeHead]) -> list[tuple[str, list[str], bool, list[str]]]:
    return [(h.previous_run_id, sorted(h.stale), h.started, h.asked) for h in heads]


SETS = [{"prep", "train"}, {"train"}, {"score"}]  # what a save of each step's folder reruns


def test_watching_begins_with_every_save_set_created_and_a_burst_starts_the_one_it_reruns(made):
    heads = HeadStarts(None, "docker")
    heads.stand_ready("run-1", None, None, SETS)
    assert _what(made) == [("run-1", ["prep", "train"], False, []), ("run-1", ["train"], False, []),
                           ("run-1", ["score"], False, [])]
    heads.for_burst("run-1", None, {"train"})
    assert heads.take() is made[1]
    assert made[1].asked == ["start_now"] and len(made) == 3  # nothing new begun
    assert heads.take() is None  # taken once


def test_after_a_run_the_last_two_sets_reruns_ran_are_started_and_earlier_ones_ended(made):
    heads = HeadStarts(None, "docker")
    heads.stand_ready("run-1", None, {"train"}, SETS)
    assert _what(made) == [("run-1", ["train"], True, []), ("run-1", ["prep", "train"], False, []),
                           ("run-1", ["score"], False, [])]
    heads.for_burst("run-1", None, {"score"})
    assert heads.take() is made[2]
    heads.stand_ready("run-2", None, {"score"}, SETS)  # the rerun of score, run-2, ended
    assert [h.asked for h in made[:2]] == [["end"], ["end"]]  # made for run-1's rerun
    assert _what(made[3:]) == [("run-2", ["score"], True, []), ("run-2", ["train"], True, []),
                               ("run-2", ["prep", "train"], False, [])]


def test_a_burst_nothing_stands_ready_for_begins_its_own_and_keeps_the_others(made):
    heads = HeadStarts(None, "docker")
    only_train = [{"train"}]
    heads.stand_ready("run-1", None, {"train"}, only_train)
    heads.for_burst("run-1", None, {"score"})  # a burst no rerun came of (watching paused)
    heads.for_burst("run-1", None, {"prep", "train"})  # the next burst
    burst = heads.take()
    assert _what([burst]) == [("run-1", ["prep", "train"], True, [])]
    assert [h.asked for h in made] == [[], [], []]  # ended once the rerun ends, not during it
    heads.stand_ready("run-2", None, {"prep", "train"}, only_train)
    assert [h.asked for h in made[:3]] == [["end"], ["end"], []]


def test_nothing_is_made_while_a_burst_goes_on_or_once_closed(made):
    heads = HeadStarts(None, "docker")
    heads.for_burst("run-1", None, {"train"})
    heads.stand_ready("run-0", None, {"train"}, SETS)  # an earlier run ended meanwhile
    assert len(made) == 1
    heads.reset(close=True)
    assert made[0].asked == ["end"]
    heads.stand_ready("run-1", None, {"train"}, SETS)
    heads.for_burst("run-1", None, {"train"})
    assert (len(made), heads.take()) == (1, None)
