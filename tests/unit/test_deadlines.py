"""Deadline arithmetic against LEGAL.md: its worked examples, month ends, time zones, every holiday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from inbox_agent.deadlines import (
    AMSTERDAM,
    Deadlines,
    add_months,
    compute,
    due_at,
    dutch_holidays,
    is_working_day,
    roll,
)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=AMSTERDAM)


def dates(received: date) -> tuple[date, date, date, date, date]:
    d = compute(at_noon(received))
    return d.received, d.raw, d.legal, d.target, d.extended


# --- LEGAL.md's worked examples -------------------------------------------------------------

def test_example_saturday_31_january() -> None:
    assert dates(date(2026, 1, 31)) == (
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 2), date(2026, 2, 28), date(2026, 4, 28),
    )


def test_example_kings_day_raw() -> None:
    d = compute(at_noon(date(2026, 3, 27)))
    assert (d.raw, d.legal, d.target) == (date(2026, 4, 27), date(2026, 4, 28), date(2026, 4, 26))
    assert d.target.weekday() == 6  # the 30-day promise may well fall on a Sunday


def test_example_31_august() -> None:
    d = compute(at_noon(date(2026, 8, 31)))
    assert d.raw == d.legal == d.target == date(2026, 9, 30)


# --- month ends and leap years ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("received", "raw", "legal", "target"),
    [
        (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 1), date(2027, 2, 28)),   # Sun -> Mon
        (date(2027, 1, 30), date(2027, 2, 28), date(2027, 3, 1), date(2027, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29), date(2028, 2, 29), date(2028, 2, 29)),  # leap year
        (date(2028, 1, 29), date(2028, 2, 29), date(2028, 2, 29), date(2028, 2, 28)),  # 30 days first
        (date(2028, 2, 29), date(2028, 3, 29), date(2028, 3, 29), date(2028, 3, 29)),
        (date(2026, 3, 31), date(2026, 4, 30), date(2026, 4, 30), date(2026, 4, 30)),
        (date(2026, 5, 31), date(2026, 6, 30), date(2026, 6, 30), date(2026, 6, 30)),
        (date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 1), date(2027, 1, 30)),  # year end
    ],
)
def test_month_ends(received: date, raw: date, legal: date, target: date) -> None:
    d = compute(at_noon(received))
    assert (d.raw, d.legal, d.target) == (raw, legal, target)


def test_31_day_month_makes_the_30_day_promise_stricter() -> None:
    d = compute(at_noon(date(2026, 7, 15)))
    assert (d.raw, d.legal, d.target) == (date(2026, 8, 15), date(2026, 8, 17), date(2026, 8, 14))


def test_add_months_clamps_and_crosses_years() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


# --- weekends and extensions -------------------------------------------------------------------

def test_weekend_arrival_does_not_move_the_start() -> None:
    saturday, sunday = compute(at_noon(date(2026, 2, 7))), compute(at_noon(date(2026, 2, 8)))
    assert (saturday.received, saturday.raw) == (date(2026, 2, 7), date(2026, 3, 7))
    assert (sunday.received, sunday.raw) == (date(2026, 2, 8), date(2026, 3, 8))
    assert saturday.legal == sunday.legal == date(2026, 3, 9)


def test_raw_on_good_friday_rolls_over_easter() -> None:
    d = compute(at_noon(date(2027, 2, 26)))
    assert (d.raw, d.legal, d.target, d.extended) == (
        date(2027, 3, 26), date(2027, 3, 30), date(2027, 3, 26), date(2027, 5, 26),
    )


def test_extended_is_rolled() -> None:
    # receipt + 3 months = Sun 30 Apr 2028; raw + 2 months = Sat 29 Apr 2028 -> Mon 1 May.
    assert compute(at_noon(date(2028, 1, 31))).extended == date(2028, 5, 1)


def test_extension_notice_must_go_out_by_the_legal_end() -> None:
    d = compute(at_noon(date(2026, 1, 31)))  # legal Mon 2 Mar 2026, CET (+1)
    assert d.can_extend(datetime(2026, 3, 2, 22, 58, tzinfo=UTC))
    assert d.can_extend(datetime(2026, 3, 2, 22, 59, tzinfo=UTC))
    assert not d.can_extend(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="time zone"):
        d.can_extend(datetime(2026, 2, 1, 12))


# --- time zones ---------------------------------------------------------------------------------

def test_utc_evening_is_next_day_in_amsterdam_summer() -> None:
    d = compute(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))  # 01:30 CEST on 1 April
    assert (d.received, d.raw, d.legal, d.target) == (
        date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 1), date(2026, 5, 1),
    )


def test_utc_evening_boundary_in_winter() -> None:
    assert compute(datetime(2026, 1, 31, 22, 59, tzinfo=UTC)).received == date(2026, 1, 31)
    assert compute(datetime(2026, 1, 31, 23, 0, tzinfo=UTC)).received == date(2026, 2, 1)


def test_dst_switch_nights() -> None:
    # Clocks go forward 29 Mar 2026 01:00 UTC and back 25 Oct 2026 01:00 UTC.
    assert compute(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)).received == date(2026, 3, 29)
    assert compute(datetime(2026, 10, 24, 22, 30, tzinfo=UTC)).received == date(2026, 10, 25)
    assert compute(datetime(2026, 10, 25, 22, 30, tzinfo=UTC)).received == date(2026, 10, 25)


def test_other_offsets_are_converted() -> None:
    new_york = datetime.fromisoformat("2026-01-31T19:30:00-05:00")  # 01:30 on 1 Feb in Amsterdam
    assert compute(new_york).received == date(2026, 2, 1)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        compute(datetime(2026, 1, 31, 12))


def test_due_at_is_2359_amsterdam_in_both_seasons() -> None:
    winter, summer = due_at(date(2026, 3, 2)), due_at(date(2026, 4, 28))
    assert (winter.hour, winter.minute, winter.tzinfo) == (23, 59, AMSTERDAM)
    assert winter.utcoffset() == timedelta(hours=1)
    assert summer.utcoffset() == timedelta(hours=2)


def test_deadlines_json_shape() -> None:
    assert compute(at_noon(date(2026, 1, 31))).model_dump(mode="json") == {
        "received": "2026-01-31", "raw": "2026-02-28", "legal": "2026-03-02",
        "target": "2026-02-28", "extended": "2026-04-28",
    }
    assert set(Deadlines.model_fields) == {"received", "raw", "legal", "target", "extended"}


# --- every Dutch public holiday 2026-2028, written out ------------------------------------------
# Easter Sunday: 5 Apr 2026, 28 Mar 2027, 16 Apr 2028 (Good Friday -2, Easter Monday +1,
# Ascension +39, Whit Monday +50). Each holiday maps to the working day a deadline rolls to.

HOLIDAYS: dict[date, date] = {
    # 2026
    date(2026, 1, 1): date(2026, 1, 2),      # New Year (Thu)
    date(2026, 4, 3): date(2026, 4, 7),      # Good Friday, over the weekend and Easter Monday
    date(2026, 4, 6): date(2026, 4, 7),      # Easter Monday
    date(2026, 4, 27): date(2026, 4, 28),    # King's Day (Mon)
    date(2026, 5, 5): date(2026, 5, 6),      # Liberation Day (Tue; not a lustrum year)
    date(2026, 5, 14): date(2026, 5, 15),    # Ascension
    date(2026, 5, 25): date(2026, 5, 26),    # Whit Monday
    date(2026, 12, 25): date(2026, 12, 28),  # Christmas (Fri)
    date(2026, 12, 26): date(2026, 12, 28),  # Boxing Day (Sat)
    # 2027
    date(2027, 1, 1): date(2027, 1, 4),
    date(2027, 3, 26): date(2027, 3, 30),
    date(2027, 3, 29): date(2027, 3, 30),
    date(2027, 4, 27): date(2027, 4, 28),
    date(2027, 5, 5): date(2027, 5, 7),      # followed by Ascension on 6 May
    date(2027, 5, 6): date(2027, 5, 7),
    date(2027, 5, 17): date(2027, 5, 18),
    date(2027, 12, 25): date(2027, 12, 27),
    date(2027, 12, 26): date(2027, 12, 27),
    # 2028
    date(2028, 1, 1): date(2028, 1, 3),
    date(2028, 4, 14): date(2028, 4, 18),
    date(2028, 4, 17): date(2028, 4, 18),
    date(2028, 4, 27): date(2028, 4, 28),
    date(2028, 5, 5): date(2028, 5, 8),
    date(2028, 5, 25): date(2028, 5, 26),
    date(2028, 6, 5): date(2028, 6, 6),
    date(2028, 12, 25): date(2028, 12, 27),
    date(2028, 12, 26): date(2028, 12, 27),
}


@pytest.mark.parametrize("year", [2026, 2027, 2028])
def test_calendar_matches_legal_md_exactly(year: int) -> None:
    expected = {day for day in HOLIDAYS if day.year == year}
    got = dutch_holidays(year)
    assert expected <= got
    extra = got - expected  # the library's Easter Sunday and Whit Sunday
    assert len(extra) == 2 and all(day.weekday() == 6 for day in extra)


@pytest.mark.parametrize(("holiday", "next_working_day"), sorted(HOLIDAYS.items()))
def test_every_holiday_is_rolled_over(holiday: date, next_working_day: date) -> None:
    assert not is_working_day(holiday)
    assert roll(holiday) == next_working_day


REACHABLE = [(h, nxt) for h, nxt in sorted(HOLIDAYS.items()) if add_months(add_months(h, -1), 1) == h]


@pytest.mark.parametrize(("holiday", "next_working_day"), REACHABLE)
def test_raw_on_a_holiday_moves_legal(holiday: date, next_working_day: date) -> None:
    d = compute(at_noon(add_months(holiday, -1)))
    assert d.raw == holiday
    assert d.legal == next_working_day


def test_kings_day_moves_to_26_april_when_27th_is_sunday() -> None:
    for year in (2025, 2031):
        assert date(year, 4, 27).weekday() == 6
        assert date(year, 4, 26) in dutch_holidays(year)
        assert date(year, 4, 27) not in dutch_holidays(year)


def test_liberation_day_counts_every_year_not_only_lustrum_years() -> None:
    assert all(date(year, 5, 5) in dutch_holidays(year) for year in range(2026, 2036))


def test_ordinary_weekday_is_a_working_day() -> None:
    assert is_working_day(date(2026, 4, 28))
    assert roll(date(2026, 4, 28)) == date(2026, 4, 28)


def test_invariants_for_every_receipt_day_2025_to_2030() -> None:
    day = date(2025, 1, 1)
    while day < date(2031, 1, 1):
        d = compute(at_noon(day))
        assert d.received == day
        assert d.target <= d.raw <= d.legal <= d.raw + timedelta(days=4)  # Good Friday -> Tuesday at most
        assert is_working_day(d.legal) and is_working_day(d.extended)
        assert d.target >= day + timedelta(days=28)
        assert d.legal < d.extended
        day += timedelta(days=1)
