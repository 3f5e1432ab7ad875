"""next_fire: when a recurrence schedule fires next, as a pure function."""
from __future__ import annotations

import datetime as dt

import pytest

from runner.schedule_time import Recurrence, next_fire, zone

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)  # a Wednesday


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_no_start_time_fires_at_once_then_every_interval_from_creation():
    rec = Recurrence("Minute", 5)
    assert next_fire(rec, None, CREATED) == CREATED
    assert next_fire(rec, CREATED, CREATED) == at(2026, 3, 4, 10, 22, 30)
    assert next_fire(rec, at(2026, 3, 4, 10, 40, 0), CREATED) == at(2026, 3, 4, 10, 42, 30)


def test_a_start_time_in_the_future_is_the_first_fire_and_anchors_the_rest():
    rec = Recurrence("Hour", 2, start_time="2026-03-05T08:00:00", time_zone="UTC")
    assert next_fire(rec, None, CREATED) == at(2026, 3, 5, 8, 0)
    assert next_fire(rec, at(2026, 3, 5, 8, 0), CREATED) == at(2026, 3, 5, 10, 0)
    assert next_fire(rec, at(2026, 3, 9, 11, 0, 1), CREATED) == at(2026, 3, 9, 12, 0)


def test_a_past_start_time_fires_at_it_so_a_missed_schedule_fires_once():
    rec = Recurrence("Minute", 1, start_time="2026-03-01T00:00:00")
    assert next_fire(rec, None, CREATED) == at(2026, 3, 1, 0, 0)
    assert next_fire(rec, at(2026, 3, 4, 10, 17, 30), CREATED) == at(2026, 3, 4, 10, 18)


def test_day_with_hours_and_minutes_in_a_time_zone():
    rec = Recurrence("Day", 1, start_time="2026-03-04T00:00:00", time_zone="Pacific Standard Time",
                     hours=(9, 17), minutes=(30,))
    # 09:30 in Los Angeles on 4 March 2026 is 17:30 UTC (PST, UTC-8)
    assert next_fire(rec, CREATED, CREATED) == at(2026, 3, 4, 17, 30)
    assert next_fire(rec, at(2026, 3, 4, 17, 30), CREATED) == at(2026, 3, 5, 1, 30)
    # after the switch to daylight time (8 March) 09:30 is 16:30 UTC
    assert next_fire(rec, at(2026, 3, 9, 2, 0), CREATED) == at(2026, 3, 9, 16, 30)


def test_every_second_day_keeps_its_rhythm():
    rec = Recurrence("Day", 2, start_time="2026-03-01T06:00:00")
    assert next_fire(rec, CREATED, CREATED) == at(2026, 3, 5, 6, 0)
    assert next_fire(rec, at(2026, 3, 5, 6, 0), CREATED) == at(2026, 3, 7, 6, 0)


def test_week_days_and_a_time_of_day():
    rec = Recurrence("Week", 1, start_time="2026-03-02T00:00:00", week_days=("Monday", "Friday"),
                     hours=(8,), minutes=(0,))
    assert next_fire(rec, CREATED, CREATED) == at(2026, 3, 6, 8, 0)
    assert next_fire(rec, at(2026, 3, 6, 8, 0), CREATED) == at(2026, 3, 9, 8, 0)
    fortnightly = Recurrence("Week", 2, start_time="2026-03-02T08:00:00", week_days=("Monday",))
    assert next_fire(fortnightly, at(2026, 3, 2, 8, 0), CREATED) == at(2026, 3, 16, 8, 0)


def test_month_keeps_the_day_or_the_months_last_day():
    rec = Recurrence("Month", 1, start_time="2026-01-31T12:00:00")
    assert next_fire(rec, at(2026, 1, 31, 12, 0), CREATED) == at(2026, 2, 28, 12, 0)
    assert next_fire(rec, at(2026, 2, 28, 12, 0), CREATED) == at(2026, 3, 31, 12, 0)


def test_offset_zones_and_unknown_zones():
    assert zone("UTC+05").utcoffset(None) == dt.timedelta(hours=5)
    assert zone("UTC-11").utcoffset(None) == dt.timedelta(hours=-11)
    with pytest.raises(ValueError, match="amlocal does not provide time zone 'Nowhere Time'"):
        zone("Nowhere Time")
