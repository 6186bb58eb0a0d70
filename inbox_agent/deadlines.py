"""Legal deadline arithmetic for privacy requests (LEGAL.md, "Deadlines").

The clock is Art. 12(3) GDPR counted per Regulation 1182/71: one calendar month from
the day the mail arrived in Amsterdam, ending on the next working day when that month
end falls on a weekend or a Dutch public holiday. The shop's privacy policy promises an
answer within 30 days, so ``target`` keeps that promise where it is the stricter one.
Everything here is pure: no clock is read, callers pass the moments they mean.
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
POLICY_DAYS = 30
"""The privacy policy's promise: "binnen 30 dagen een reactie"."""


class Deadlines(BaseModel):
    """All dates of one request, fixed at receipt; only a recorded extension moves a case to ``extended``."""

    model_config = ConfigDict(frozen=True)

    received: date
    """Arrival date in Amsterdam, whatever the weekday."""
    raw: date
    """Receipt + one calendar month, clamped to the month's last day."""
    legal: date
    """``raw`` rolled past weekends and holidays: the outer limit, ending 23:59 Amsterdam time."""
    target: date
    """What we aim for: the earlier of ``raw`` and receipt + 30 days."""
    extended: date
    """The outer limit after an Art. 12(3) extension of at most two further months."""

    def can_extend(self, now: datetime) -> bool:
        """An extension is lawful only if its notice reaches the customer within the first term."""
        return _aware(now) <= due_at(self.legal)


def _aware(moment: datetime) -> datetime:
    # A naive time would silently be read as the server's zone; a deadline must not depend on that.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must carry a time zone: {moment.isoformat()}")
    return moment


@functools.cache
def dutch_holidays(year: int) -> frozenset[date]:
    """The days LEGAL.md rolls over: the ``holidays`` NL calendar plus 5 May in every year.

    The library lists Liberation Day only in lustrum years (2025, 2030, ...), while LEGAL.md
    counts it every year. The library also lists Easter Sunday and Whit Sunday; those are
    Sundays, so they change nothing.
    """
    import holidays  # here, not at the top: `cases list` needs only AMSTERDAM, and holidays loads dateutil too

    days = set(holidays.country_holidays("NL", years=year))
    days.add(date(year, 5, 5))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in dutch_holidays(day.year)


def roll(day: date) -> date:
    """The first working day on or after ``day`` (Regulation 1182/71, art. 3(4))."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later; the month's last day when that day does not exist."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def compute(received_at: datetime) -> Deadlines:
    """Deadlines for a mail that reached a shop mailbox at ``received_at`` (time zone required)."""
    received = _aware(received_at).astimezone(AMSTERDAM).date()
    raw = add_months(received, 1)
    return Deadlines(
        received=received,
        raw=raw,
        legal=roll(raw),
        target=min(raw, received + timedelta(days=POLICY_DAYS)),
        extended=roll(min(add_months(received, 3), add_months(raw, 2))),
    )


def due_at(day: date) -> datetime:
    """The moment a deadline day ends: 23:59 Amsterdam time."""
    return datetime.combine(day, time(23, 59), tzinfo=AMSTERDAM)
