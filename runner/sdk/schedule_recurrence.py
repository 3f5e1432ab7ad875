"""`ScheduleRecurrence` and `TimeZone`: when a schedule would fire, with the SDK's checks.

These are the SDK's value types, validated exactly as the SDK validates them (at construction,
and in `validate()`). amlocal does not fire schedules yet (`Schedule` is not provided); a
recurrence can be built, validated and recorded.
"""
from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Any

_FREQUENCIES = ("Minute", "Hour", "Day", "Week", "Month")
_WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME_OF_DAY = re.compile(r"[0-9]{1,2}:[0-9]{2}$")


class TimeZone(Enum):
    """The time zones a recurrence's `start_time` may be given in (Windows names, as Azure's)."""

    DatelineStandardTime = 'Dateline Standard Time'
    UTC11 = 'UTC-11'
    AleutianStandardTime = 'Aleutian Standard Time'
    HawaiianStandardTime = 'Hawaiian Standard Time'
    MarquesasStandardTime = 'Marquesas Standard Time'
    AlaskanStandardTime = 'Alaskan Standard Time'
    UTC09 = 'UTC-09'
    PacificStandardTimeMexico = 'Pacific Standard Time (Mexico)'
    UTC08 = 'UTC-08'
    PacificStandardTime = 'Pacific Standard Time'
    USMountainStandardTime = 'US Mountain Standard Time'
    MountainStandardTimeMexico = 'Mountain Standard Time (Mexico)'
    MountainStandardTime = 'Mountain Standard Time'
    CentralAmericaStandardTime = 'Central America Standard Time'
    CentralStandardTime = 'Central Standard Time'
    EasterIslandStandardTime = 'Easter Island Standard Time'
    CentralStandardTimeMexico = 'Central Standard Time (Mexico)'
    CanadaCentralStandardTime = 'Canada Central Standard Time'
    SAPacificStandardTime = 'SA Pacific Standard Time'
    EasternStandardTimeMexico = 'Eastern Standard Time (Mexico)'
    EasternStandardTime = 'Eastern Standard Time'
    HaitiStandardTime = 'Haiti Standard Time'
    CubaStandardTime = 'Cuba Standard Time'
    USEasternStandardTime = 'US Eastern Standard Time'
    ParaguayStandardTime = 'Paraguay Standard Time'
    AtlanticStandardTime = 'Atlantic Standard Time'
    VenezuelaStandardTime = 'Venezuela Standard Time'
    CentralBrazilianStandardTime = 'Central Brazilian Standard Time'
    SAWesternStandardTime = 'SA Western Standard Time'
    PacificSAStandardTime = 'Pacific SA Standard Time'
    TurksAndCaicosStandardTime = 'Turks And Caicos Standard Time'
    NewfoundlandStandardTime = 'Newfoundland Standard Time'
    TocantinsStandardTime = 'Tocantins Standard Time'
    ESouthAmericaStandardTime = 'E. South America Standard Time'
    SAEasternStandardTime = 'SA Eastern Standard Time'
    ArgentinaStandardTime = 'Argentina Standard Time'
    GreenlandStandardTime = 'Greenland Standard Time'
    MontevideoStandardTime = 'Montevideo Standard Time'
    SaintPierreStandardTime = 'Saint Pierre Standard Time'
    BahiaStandardTime = 'Bahia Standard Time'
    UTC02 = 'UTC-02'
    MidAtlanticStandardTime = 'Mid-Atlantic Standard Time'
    AzoresStandardTime = 'Azores Standard Time'
    CapeVerdeStandardTime = 'Cape Verde Standard Time'
    UTC = 'UTC'
    MoroccoStandardTime = 'Morocco Standard Time'
    GMTStandardTime = 'GMT Standard Time'
    GreenwichStandardTime = 'Greenwich Standard Time'
    WEuropeStandardTime = 'W. Europe Standard Time'
    CentralEuropeStandardTime = 'Central Europe Standard Time'
    RomanceStandardTime = 'Romance Standard Time'
    CentralEuropeanStandardTime = 'Central European Standard Time'
    WCentralAfricaStandardTime = 'W. Central Africa Standard Time'
    NamibiaStandardTime = 'Namibia Standard Time'
    JordanStandardTime = 'Jordan Standard Time'
    GTBStandardTime = 'GTB Standard Time'
    MiddleEastStandardTime = 'Middle East Standard Time'
    EgyptStandardTime = 'Egypt Standard Time'
    EEuropeStandardTime = 'E. Europe Standard Time'
    SyriaStandardTime = 'Syria Standard Time'
    WestBankStandardTime = 'West Bank Standard Time'
    SouthAfricaStandardTime = 'South Africa Standard Time'
    FLEStandardTime = 'FLE Standard Time'
    TurkeyStandardTime = 'Turkey Standard Time'
    IsraelStandardTime = 'Israel Standard Time'
    KaliningradStandardTime = 'Kaliningrad Standard Time'
    LibyaStandardTime = 'Libya Standard Time'
    ArabicStandardTime = 'Arabic Standard Time'
    ArabStandardTime = 'Arab Standard Time'
    BelarusStandardTime = 'Belarus Standard Time'
    RussianStandardTime = 'Russian Standard Time'
    EAfricaStandardTime = 'E. Africa Standard Time'
    IranStandardTime = 'Iran Standard Time'
    ArabianStandardTime = 'Arabian Standard Time'
    AstrakhanStandardTime = 'Astrakhan Standard Time'
    AzerbaijanStandardTime = 'Azerbaijan Standard Time'
    RussiaTimeZone3 = 'Russia Time Zone 3'
    MauritiusStandardTime = 'Mauritius Standard Time'
    GeorgianStandardTime = 'Georgian Standard Time'
    CaucasusStandardTime = 'Caucasus Standard Time'
    AfghanistanStandardTime = 'Afghanistan Standard Time'
    WestAsiaStandardTime = 'West Asia Standard Time'
    EkaterinburgStandardTime = 'Ekaterinburg Standard Time'
    PakistanStandardTime = 'Pakistan Standard Time'
    IndiaStandardTime = 'India Standard Time'
    SriLankaStandardTime = 'Sri Lanka Standard Time'
    NepalStandardTime = 'Nepal Standard Time'
    CentralAsiaStandardTime = 'Central Asia Standard Time'
    BangladeshStandardTime = 'Bangladesh Standard Time'
    NCentralAsiaStandardTime = 'N. Central Asia Standard Time'
    MyanmarStandardTime = 'Myanmar Standard Time'
    SEAsiaStandardTime = 'SE Asia Standard Time'
    AltaiStandardTime = 'Altai Standard Time'
    WMongoliaStandardTime = 'W. Mongolia Standard Time'
    NorthAsiaStandardTime = 'North Asia Standard Time'
    TomskStandardTime = 'Tomsk Standard Time'
    ChinaStandardTime = 'China Standard Time'
    NorthAsiaEastStandardTime = 'North Asia East Standard Time'
    SingaporeStandardTime = 'Singapore Standard Time'
    WAustraliaStandardTime = 'W. Australia Standard Time'
    TaipeiStandardTime = 'Taipei Standard Time'
    UlaanbaatarStandardTime = 'Ulaanbaatar Standard Time'
    NorthKoreaStandardTime = 'North Korea Standard Time'
    AusCentralWStandardTime = 'Aus Central W. Standard Time'
    TransbaikalStandardTime = 'Transbaikal Standard Time'
    TokyoStandardTime = 'Tokyo Standard Time'
    KoreaStandardTime = 'Korea Standard Time'
    YakutskStandardTime = 'Yakutsk Standard Time'
    CenAustraliaStandardTime = 'Cen. Australia Standard Time'
    AUSCentralStandardTime = 'AUS Central Standard Time'
    EAustraliaStandardTime = 'E. Australia Standard Time'
    AUSEasternStandardTime = 'AUS Eastern Standard Time'
    WestPacificStandardTime = 'West Pacific Standard Time'
    TasmaniaStandardTime = 'Tasmania Standard Time'
    VladivostokStandardTime = 'Vladivostok Standard Time'
    LordHoweStandardTime = 'Lord Howe Standard Time'
    BougainvilleStandardTime = 'Bougainville Standard Time'
    RussiaTimeZone10 = 'Russia Time Zone 10'
    MagadanStandardTime = 'Magadan Standard Time'
    NorfolkStandardTime = 'Norfolk Standard Time'
    SakhalinStandardTime = 'Sakhalin Standard Time'
    CentralPacificStandardTime = 'Central Pacific Standard Time'
    RussiaTimeZone11 = 'Russia Time Zone 11'
    NewZealandStandardTime = 'New Zealand Standard Time'
    UTC12 = 'UTC+12'
    FijiStandardTime = 'Fiji Standard Time'
    KamchatkaStandardTime = 'Kamchatka Standard Time'
    ChathamIslandsStandardTime = 'Chatham Islands Standard Time'
    TongaStandardTime = 'Tonga Standard Time'
    SamoaStandardTime = 'Samoa Standard Time'
    LineIslandsStandardTime = 'Line Islands Standard Time'

class ScheduleRecurrence:
    """How often a schedule fires: every `interval` `frequency`s, optionally at given hours and
    minutes (Day, Week), on given week days (Week), from `start_time` in `time_zone`."""

    def __init__(self, frequency: str, interval: int, start_time: Any = None,
                 time_zone: TimeZone | None = None, hours: list[int] | None = None,
                 minutes: list[int] | None = None, week_days: list[str] | None = None,
                 time_of_day: str | None = None) -> None:
        self.frequency = frequency
        self.interval = interval
        self.start_time: str | None = None
        if isinstance(start_time, dt.datetime):
            if start_time.tzinfo is not None:
                raise ValueError("Can not specify tzinfo for start_time, use time_zone instead.")
            self.start_time = start_time.strftime("%Y-%m-%dT%H:%M:%S")
        elif start_time is not None:
            self.start_time = start_time
        self.time_zone = time_zone
        if self.start_time is not None and self.time_zone is None:
            self.time_zone = TimeZone.UTC
        self.hours = hours
        self.minutes = minutes
        if time_of_day is not None and (hours is not None or minutes is not None):
            raise ValueError("Can not specify time_of_day and hours or minutes.")
        if time_of_day is not None:
            if _TIME_OF_DAY.match(time_of_day) is None:
                raise ValueError("time_of_day should be in the format hh:mm.")
            hour, minute = (int(part) for part in time_of_day.split(":"))
            if not 0 <= hour <= 23:
                raise ValueError("Time of day hour value must be between 0 and 23.")
            if not 0 <= minute <= 59:
                raise ValueError("Time of day minute value must be between 0 and 59.")
            self.hours, self.minutes = [hour], [minute]
        self.week_days = week_days

    def validate(self) -> None:
        """Raise ValueError (the SDK's messages) for a recurrence Azure would refuse."""
        if self.frequency not in _FREQUENCIES:
            raise ValueError("Invalid value for frequency, only one of Minute, Hour, Day, Week, or "
                             "Month accepted")
        if self.interval < 1:
            raise ValueError("Interval must be an integer greater than 0.")
        if self.frequency not in ("Day", "Week") and self.hours is not None:
            raise ValueError("Can only specify hours if frequency is Week or Day.")
        if self.frequency not in ("Day", "Week") and self.minutes is not None:
            raise ValueError("Can only specify minutes if frequency is Week or Day.")
        if self.frequency != "Week" and self.week_days is not None:
            raise ValueError("Can only specify week days if frequency is Week.")
        if any(not 0 <= h <= 23 for h in self.hours or []):
            raise ValueError("Hours must be between 0 and 23.")
        if any(not 0 <= m <= 59 for m in self.minutes or []):
            raise ValueError("Minutes must be between 0 and 59.")
        if any(d not in _WEEK_DAYS for d in self.week_days or []):
            raise ValueError("Week days must be a list of str, accepted values: Monday, Tuesday, "
                             "Wednesday, Thursday, Friday, Saturday, Sunday.")
        if self.time_zone is not None and not isinstance(self.time_zone, TimeZone):
            raise ValueError("Time zone is not a valid TimeZone enum.")

    def __repr__(self) -> str:
        return (f"ScheduleRecurrence(frequency={self.frequency!r}, interval={self.interval!r}, "
                f"start_time={self.start_time!r}, time_zone={self.time_zone})")
