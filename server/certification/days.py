"""Local dates in the server's time zone: a check counts on the date it was taken, there.

Stamps are ISO-8601 with a zone, as the replica stores them. Turning 300,000 of them
into dates must take milliseconds, so the common case (the stamp already carries the
zone's own offset for that day) reads the date from the text; any other stamp is parsed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .rules import DEFAULT_TIMEZONE


class LocalDays:
    """Converts stamps to local dates in one zone (default Asia/Shanghai)."""

    def __init__(self, tz: str | ZoneInfo = DEFAULT_TIMEZONE) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        # "YYYY-MM-DD" -> (the zone's offset text all that local day, ordinal), or None
        # when the offset changes during the day (a DST switch) and stamps must be parsed.
        self._fast: dict[str, tuple[str, int] | None] = {}

    @property
    def name(self) -> str:
        return self.tz.key

    def _day_offset(self, prefix: str) -> tuple[str, int] | None:
        try:
            day = dt.date.fromisoformat(prefix)
        except ValueError:
            return None
        first = dt.datetime(day.year, day.month, day.day, tzinfo=self.tz).utcoffset()
        last = dt.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=self.tz).utcoffset()
        if first is None or first != last:
            return None
        minutes = int(first.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        text = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        return text, day.toordinal()

    def ordinal(self, stamp: str) -> int:
        """The local date of `stamp` as a proleptic ordinal (date.toordinal())."""
        prefix = stamp[:10]
        try:
            fast = self._fast[prefix]
        except KeyError:
            fast = self._fast[prefix] = self._day_offset(prefix)
        if fast is not None and stamp.endswith(fast[0]):
            return fast[1]
        return self.instant(stamp).astimezone(self.tz).toordinal()

    def text_dates(self, first: int, last: int) -> dict[str, tuple[str | None, int]]:
        """For the text dates that can fall on local days `first`..`last` (ordinals), the
        zone's offset text that day (None on a DST switch) and the ordinal. A stamp's text
        date is within one day of its local date (offsets stay within +-14 h), so a stamp
        whose text date is not a key here is outside the range."""
        table: dict[str, tuple[str | None, int]] = {}
        for n in range(first - 1, last + 2):
            prefix = dt.date.fromordinal(n).isoformat()
            if prefix not in self._fast:
                self._fast[prefix] = self._day_offset(prefix)
            fast = self._fast[prefix]
            table[prefix] = (None, n) if fast is None else fast
        return table

    def single_offset(self, first: dt.date, last: dt.date) -> str | None:
        """The zone's offset text when it is the same all through first..last (no DST
        switch), else None. A stamp written with that offset has its local date as text."""
        table = self.text_dates(first.toordinal(), last.toordinal())
        offsets = {offset for offset, _ in table.values()}
        return offsets.pop() if len(offsets) == 1 and None not in offsets else None

    def date(self, stamp: str) -> dt.date:
        return dt.date.fromordinal(self.ordinal(stamp))

    @staticmethod
    def instant(stamp: str) -> dt.datetime:
        parsed = dt.datetime.fromisoformat(stamp)
        if parsed.tzinfo is None:
            raise ValueError(f"time without a zone: {stamp!r}")
        return parsed

    def start_of(self, day: dt.date) -> dt.datetime:
        """Local midnight at the start of `day`, as an aware datetime."""
        return dt.datetime(day.year, day.month, day.day, tzinfo=self.tz)

    def end_of(self, day: dt.date) -> dt.datetime:
        """Local midnight at the end of `day` (the start of the next day)."""
        return self.start_of(day + dt.timedelta(days=1))

    def local_text(self, stamp: str) -> str:
        """'03-02 10:15' in local time, for explanations."""
        return f"{self.instant(stamp).astimezone(self.tz):%m-%d %H:%M}"
