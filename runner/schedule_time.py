"""When a recurrence schedule fires next: a pure function of the recurrence and the clock.

`next_fire(recurrence, after, created)` is the first fire time strictly after `after` (or, for
a schedule that never fired, the first at or after its start: the creation time itself when
it has no start time, as Azure runs such a schedule at once). Times are aware UTC datetimes;
hours, minutes and week days are read in the recurrence's time zone.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Windows time zone names (what TimeZone holds) whose IANA zone amlocal knows.
IANA_ZONES = {
    "UTC": "UTC", "GMT Standard Time": "Europe/London", "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin", "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris", "Central European Standard Time": "Europe/Warsaw",
    "E. Europe Standard Time": "Europe/Chisinau", "FLE Standard Time": "Europe/Kiev",
    "GTB Standard Time": "Europe/Bucharest", "Russian Standard Time": "Europe/Moscow",
    "Eastern Standard Time": "America/New_York", "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver", "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage", "Hawaiian Standard Time": "Pacific/Honolulu",
    "India Standard Time": "Asia/Kolkata", "China Standard Time": "Asia/Shanghai",
    "Tokyo Standard Time": "Asia/Tokyo", "Singapore Standard Time": "Asia/Singapore",
    "AUS Eastern Standard Time": "Australia/Sydney", "E. South America Standard Time": "America/Sao_Paulo",
}


@dataclass(frozen=True)
class Recurrence:
    """A recurrence as stored: frequency (Minute, Hour, Day, Week, Month), interval, start
    (naive local time in `time_zone`, or None), hours, minutes and week days (or None)."""

    frequency: str
    interval: int
    start_time: str | None = None
    time_zone: str | None = None
    hours: tuple[int, ...] | None = None
    minutes: tuple[int, ...] | None = None
    week_days: tuple[str, ...] | None = None


def zone(name: str | None) -> dt.tzinfo:
    """The tzinfo of a TimeZone value ("UTC", "UTC+05" style offsets, or a known Windows name)."""
    if name is None or name == "UTC":
        return dt.timezone.utc
    if name.startswith("UTC") and len(name) == 6 and name[3] in "+-" and name[4:].isdigit():
        sign = 1 if name[3] == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(name[4:])))
    if name in IANA_ZONES:
        return ZoneInfo(IANA_ZONES[name])
    raise ValueError(f"amlocal does not provide time zone {name!r} for schedules yet; use "
                     f"TimeZone.UTC or one of: {', '.join(sorted(IANA_ZONES))}")


def _start(rec: Recurrence, created: dt.datetime) -> dt.datetime:
    if rec.start_time is None:
        return created.astimezone(zone(rec.time_zone))
    return dt.datetime.fromisoformat(rec.start_time).replace(tzinfo=zone(rec.time_zone))


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    for day in (when.day, 30, 29, 28):
        try:
            return when.replace(year=year, month=month, day=min(day, when.day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _day_times(rec: Recurrence, start: dt.datetime, day: dt.date) -> list[dt.datetime]:
    hours = rec.hours if rec.hours is not None else (start.hour,)
    minutes = rec.minutes if rec.minutes is not None else (
        (start.minute,) if rec.hours is None else (0,))
    tz = start.tzinfo
    return sorted(dt.datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
                  for h in hours for m in minutes)


def _occurrences(rec: Recurrence, start: dt.datetime, floor: dt.datetime):
    """Fire times in order, from the first period that can hold one at or after `floor`."""
    step = {"Minute": dt.timedelta(minutes=rec.interval), "Hour": dt.timedelta(hours=rec.interval)}
    if rec.frequency in step:
        k = max(0, int((floor - start) / step[rec.frequency]))
        while True:
            yield start + k * step[rec.frequency]
            k += 1
    elif rec.frequency == "Day":
        k = max(0, (floor.astimezone(start.tzinfo).date() - start.date()).days // rec.interval - 1)
        while True:
            yield from _day_times(rec, start, start.date() + dt.timedelta(days=k * rec.interval))
            k += 1
    elif rec.frequency == "Week":
        days = [WEEK_DAYS.index(d) for d in (rec.week_days or (WEEK_DAYS[start.weekday()],))]
        monday = start.date() - dt.timedelta(days=start.weekday())
        k = max(0, (floor.astimezone(start.tzinfo).date() - monday).days // (7 * rec.interval) - 1)
        while True:
            week = monday + dt.timedelta(weeks=k * rec.interval)
            for day in sorted(days):
                yield from _day_times(rec, start, week + dt.timedelta(days=day))
            k += 1
    elif rec.frequency == "Month":
        k = 0
        while True:
            yield _add_months(start, k * rec.interval)
            k += 1
    else:
        raise ValueError(f"unknown frequency {rec.frequency!r}")


def next_fire(rec: Recurrence, after: dt.datetime | None, created: dt.datetime) -> dt.datetime:
    """The next fire time (aware UTC): strictly after `after`, or, when the schedule never fired
    (`after` None), the first at or after its start (`created` with no start time)."""
    start = _start(rec, created)
    if after is None and rec.start_time is None:
        return created.astimezone(dt.timezone.utc)
    for when in _occurrences(rec, start, after if after is not None else start):
        if when < start:
            continue
        if after is None or when > after:
            return when.astimezone(dt.timezone.utc)
    raise AssertionError("unreachable")


def recurrence_of(raw: dict) -> Recurrence:
    """A stored recurrence (the dict `Schedule.create` records) as a Recurrence."""
    def _tuple(key: str) -> tuple | None:
        return tuple(raw[key]) if raw.get(key) is not None else None
    return Recurrence(raw["frequency"], int(raw["interval"]), raw.get("start_time"),
                      raw.get("time_zone"), _tuple("hours"), _tuple("minutes"), _tuple("week_days"))


def schedule_next_fire(recurrence: dict, last_fired_at: float | None, created_at: float) -> dt.datetime:
    """`next_fire` of a stored schedule (epoch seconds in, aware UTC out)."""
    def utc(t: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return next_fire(recurrence_of(recurrence),
                     utc(last_fired_at) if last_fired_at is not None else None, utc(created_at))
