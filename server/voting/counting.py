"""Which ballot of an owner counts, the tally, and the public bulletin.

Every ballot ever received gets a status and a reason, and keeps it in the audit list:
- refused: not in the electorate, cast before the opening or at/after the close, or a
  paper ballot whose recorded time is later than the server received it (a wrong clock
  must not let a ballot win "the last one counts" forever);
- late: a paper ballot that reached the server more than `late_after` (24 h) after the
  close; it is not counted, and an earlier ballot of the same owner counts instead;
- superseded: the owner cast a later ballot before the close;
- counted: the owner's last ballot cast before the close.

A ballot's time is the server's receive time online, and the volunteer's recorded time
on paper. The vote is open on [opens_at, closes_at). Ties are broken by receive time,
then ballot id, so the outcome never depends on the order ballots are listed in.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .electorate import Electorate
from .figures import Totals, fmt_fraction

CHOICES = ("for", "against", "abstain")
BUCKETS = (*CHOICES, "not_voting")
CHANNELS = ("online", "paper")
REASONS = {
    "counted": ("the owner's last ballot before the close", "该业主截止前的最后一票，计入"),
    "superseded": ("a later ballot of the same owner counts", "该业主其后另有投票，本票不计"),
    "late": ("paper ballot reached the server too long after the close",
             "纸质票在截止后超过时限才送达服务器，不计"),
    "not_in_electorate": ("not an owner in the frozen electorate", "不在冻结的业主名册中，拒收"),
    "before_open": ("cast before the vote opened", "表决开始前投出，拒收"),
    "after_close": ("cast after the vote closed", "表决截止后投出，拒收"),
    "clock_ahead": ("recorded later than the server received it: wrong clock",
                    "记录时间晚于服务器接收时间（时钟错误），拒收"),
    "bad_choice": ("not one of for / against / abstain", "选项无效，拒收"),
}  # fmt: skip
STATUS_OF = {"counted": "counted", "superseded": "superseded", "late": "late"}
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed in


def new_receipt() -> str:
    """A receipt code like 'K7QX-M2PD-9ARB' (about 59 bits)."""
    chars = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} needs a time zone")
    return value


@dataclass(frozen=True)
class Window:
    opens_at: dt.datetime
    closes_at: dt.datetime
    late_after: dt.timedelta = dt.timedelta(hours=24)
    clock_tolerance: dt.timedelta = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        _aware(self.opens_at, "opens_at")
        _aware(self.closes_at, "closes_at")
        if self.closes_at <= self.opens_at:
            raise ValueError("a vote must close after it opens")


@dataclass(frozen=True)
class Ballot:
    id: str
    channel: str  # "online" or "paper"
    choice: str
    received_at: dt.datetime  # when the server received it
    owner_key: str | None = None  # online: from the ballot link
    household_id: str | None = None  # paper: the household the volunteer chose
    recorded_at: dt.datetime | None = None  # paper: when the volunteer recorded it
    receipt: str = ""

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        _aware(self.received_at, "received_at")
        if self.channel == "paper":
            if self.recorded_at is None:
                raise ValueError("a paper ballot needs the time the volunteer recorded it")
            _aware(self.recorded_at, "recorded_at")

    @property
    def cast_at(self) -> dt.datetime:
        if self.channel == "paper" and self.recorded_at is not None:
            return self.recorded_at
        return self.received_at


@dataclass(frozen=True)
class Classified:
    ballot: Ballot
    owner_key: str | None
    status: str  # counted, superseded, late, refused
    reason: str  # a key of REASONS

    def to_dict(self) -> dict[str, Any]:
        b = self.ballot
        return {
            "ballot_id": b.id,
            "receipt": b.receipt,
            "channel": b.channel,
            "owner_key": self.owner_key,
            "household_id": b.household_id,
            "choice": b.choice,
            "cast_at": b.cast_at.isoformat(),
            "received_at": b.received_at.isoformat(),
            "status": self.status,
            "reason": self.reason,
            "reason_en": REASONS[self.reason][0],
            "reason_zh": REASONS[self.reason][1],
        }


def classify(ballots: Iterable[Ballot], electorate: Electorate, window: Window) -> list[Classified]:
    """Every ballot with its status, sorted by (cast time, receive time, id)."""
    ordered = sorted(ballots, key=lambda b: (b.cast_at, b.received_at, b.id))
    if len({b.id for b in ordered}) != len(ordered):
        raise ValueError("two ballots share an id")
    reasons: dict[str, str] = {}
    owners: dict[str, str | None] = {}
    last: dict[str, Ballot] = {}
    for b in ordered:
        key = b.owner_key if b.owner_key is not None else electorate.owner_key_for(
            b.household_id or "")  # fmt: skip
        owners[b.id] = key if key in electorate.by_key else None
        if owners[b.id] is None:
            reasons[b.id] = "not_in_electorate"
        elif b.choice not in CHOICES:
            reasons[b.id] = "bad_choice"
        elif b.cast_at > b.received_at + window.clock_tolerance:
            reasons[b.id] = "clock_ahead"
        elif b.cast_at < window.opens_at:
            reasons[b.id] = "before_open"
        elif b.cast_at >= window.closes_at:
            reasons[b.id] = "after_close"
        elif b.channel == "paper" and b.received_at > window.closes_at + window.late_after:
            reasons[b.id] = "late"
        else:
            last[owners[b.id]] = b  # ordered by time: the last one wins
    counted = {b.id for b in last.values()}
    out = []
    for b in ordered:
        reason = reasons.get(b.id) or ("counted" if b.id in counted else "superseded")
        out.append(Classified(b, owners[b.id], STATUS_OF.get(reason, "refused"), reason))
    return out


@dataclass(frozen=True)
class Tally:
    """Owners and area per bucket (for, against, abstain, not_voting). An area is None
    where some owner in it has no area in the register."""

    owners: Mapping[str, int]
    area: Mapping[str, Fraction | None]
    total_owners: int
    total_area: Fraction | None

    def totals(self) -> Totals:
        return Totals(
            self.total_owners,
            self.total_area,
            self.owners["for"],
            self.area["for"],
            self.owners["against"],
            self.area["against"],
            self.owners["abstain"],
            self.area["abstain"],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "N": self.total_owners,
            "A": fmt_fraction(self.total_area),
            "owners": dict(self.owners),
            "area": {k: fmt_fraction(v) for k, v in self.area.items()},
        }


def _sum(areas: Iterable[Fraction | None]) -> Fraction | None:
    total = Fraction(0)
    for a in areas:
        if a is None:
            return None
        total += a
    return total


def _tally(
    votes: list[tuple[str, Fraction | None]], total_owners: int, total_area: Fraction | None
) -> Tally:
    owners = {c: sum(1 for choice, _ in votes if choice == c) for c in CHOICES}
    area = {c: _sum(a for choice, a in votes if choice == c) for c in CHOICES}
    owners["not_voting"] = total_owners - len(votes)
    took_part = _sum(area[c] for c in CHOICES)
    # defined as A - A_p so that a recount from the bulletin gives the same figure
    area["not_voting"] = None if None in (total_area, took_part) else total_area - took_part
    return Tally(owners, area, total_owners, total_area)


def tally(classified: Iterable[Classified], electorate: Electorate) -> Tally:
    votes = [
        (c.ballot.choice, electorate.by_key[c.owner_key].area)
        for c in classified
        if c.status == "counted"
    ]
    return _tally(votes, electorate.total_owners, electorate.total_area)


def bulletin(classified: Iterable[Classified], electorate: Electorate) -> dict[str, Any]:
    """The public list: every receipt with its choice and status; the area weight only on
    counted ballots (needed to recount the area). No names, no households."""
    entries = []
    for c in classified:
        entry = {"receipt": c.ballot.receipt, "choice": c.ballot.choice, "status": c.status}
        if c.status == "counted":
            entry["area"] = fmt_fraction(electorate.by_key[c.owner_key].area)
        entries.append(entry)
    entries.sort(key=lambda e: (e["receipt"], e["status"]))
    return {
        "N": electorate.total_owners,
        "A": fmt_fraction(electorate.total_area),
        "entries": entries,
    }


def recount(board: Mapping[str, Any]) -> Tally:
    """Anyone's recount from the bulletin alone."""
    votes = [
        (e["choice"], None if e.get("area") is None else Fraction(e["area"]))
        for e in board["entries"]
        if e["status"] == "counted"
    ]
    total_area = None if board["A"] is None else Fraction(board["A"])
    return _tally(votes, int(board["N"]), total_area)


def count(
    ballots: Iterable[Ballot], electorate: Electorate, window: Window
) -> tuple[list[Classified], Tally]:
    classified = classify(ballots, electorate, window)
    return classified, tally(classified, electorate)
