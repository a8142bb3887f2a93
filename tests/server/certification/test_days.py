"""Local dates: the fast path reads the date from the text, and agrees with parsing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.certification.days import LocalDays


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2020-03-07T23:59:00+08:00", "2020-03-07"),
        ("2020-03-08T00:01:00+08:00", "2020-03-08"),
        ("2020-03-07T15:59:00Z", "2020-03-07"),
        ("2020-03-07T16:01:00+00:00", "2020-03-08"),
        ("2020-03-08T00:30:00+09:00", "2020-03-07"),
        ("2020-03-07T23:59:59.999+08:00", "2020-03-07"),
    ],
)
def test_stamp_counts_on_its_shanghai_date(stamp, expected):
    assert LocalDays().date(stamp).isoformat() == expected


def test_dst_day_is_parsed_not_read_from_text():
    ny = LocalDays("America/New_York")
    # 2020-03-08: clocks went from -05:00 to -04:00 at 02:00.
    assert ny.date("2020-03-08T00:30:00-05:00") == dt.date(2020, 3, 8)
    assert ny.date("2020-03-08T23:30:00-04:00") == dt.date(2020, 3, 8)
    assert ny.date("2020-03-08T23:30:00-05:00") == dt.date(2020, 3, 9)


def test_stamp_without_zone_is_refused():
    with pytest.raises(ValueError, match="without a zone"):
        LocalDays().ordinal("2020-03-08T08:00:00")


ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Asia/Kolkata"]


@given(
    st.datetimes(min_value=dt.datetime(2019, 1, 1), max_value=dt.datetime(2022, 12, 31)),
    st.sampled_from(ZONES),
    st.sampled_from(ZONES),
)
def test_ordinal_agrees_with_full_parse(moment, written_in, judged_in):
    stamp = moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(written_in)).isoformat()
    expected = dt.datetime.fromisoformat(stamp).astimezone(ZoneInfo(judged_in)).date()
    assert LocalDays(judged_in).date(stamp) == expected


def test_day_bounds_are_local_midnights():
    days = LocalDays()
    start = days.start_of(dt.date(2020, 3, 8))
    assert start.isoformat() == "2020-03-08T00:00:00+08:00"
    assert days.end_of(dt.date(2020, 3, 8)) - start == dt.timedelta(days=1)
