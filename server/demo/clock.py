"""The demo's calendar: today and the last 14 days in the community's zone (Asia/Shanghai).

Records are dated relative to today, so the demo always shows a live fortnight. A record
due later today (the evening checks at 19:00 when it is 10:00) is either left out or, when
today's check needs it, moved earlier in the day by the same proportion (08:00 becomes
00:16 at 00:50), so nothing is ever dated in the future and the day's order is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

ZONE = "Asia/Shanghai"
DAYS = 14  # the certification window: the demo fills exactly that


@dataclass(frozen=True)
class Timeline:
    now: dt.datetime  # aware, in the zone

    @classmethod
    def at(cls, now: dt.datetime | None = None, zone: str = ZONE) -> Timeline:
        tz = ZoneInfo(zone)
        moment = (now or dt.datetime.now(dt.UTC)).astimezone(tz).replace(microsecond=0)
        return cls(moment)

    @property
    def tz(self) -> dt.tzinfo:
        assert self.now.tzinfo is not None
        return self.now.tzinfo

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def days(self, count: int = DAYS) -> list[dt.date]:
        """The last `count` days, oldest first, today included."""
        return [self.day(n) for n in range(count - 1, -1, -1)]

    def start(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), self.tz)

    def when(self, day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
        """That local time, or for today, if it is still to come, the same share of the day
        gone so far (so a record today is always in the past and in the day's order)."""
        t = self.start(day) + dt.timedelta(hours=hour, minutes=minute, seconds=second)
        if t <= self.now:
            return t
        start = self.start(self.today)
        share = (t - start) / dt.timedelta(days=1)
        return (start + (self.now - start) * share).replace(microsecond=0)

    def past(self, day: dt.date, hour: int, minute: int = 0, second: int = 0) -> bool:
        """Has that local time already come?"""
        t = self.start(day) + dt.timedelta(hours=hour, minutes=minute, seconds=second)
        return t <= self.now


def stamp(t: dt.datetime) -> str:
    """A local ISO time with its offset, as the field agent writes it."""
    return t.isoformat(timespec="seconds")
