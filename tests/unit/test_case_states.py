from datetime import UTC, datetime

import pytest

from inbox_agent.case_states import (
    State,
    TransitionError,
    find_references,
    format_reference,
    is_open,
    record,
    transition,
)
from inbox_agent.db.tables import Case

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def new_case(state: State = State.RECEIVED) -> Case:
    return Case(reference="KT-2026-000001", state=state, events=[])


def test_reference_format_and_search() -> None:
    assert format_reference("KT", 2026, 123) == "KT-2026-000123"
    assert find_references("Re: [KT-2026-000123] uw verzoek (zie ook AB-2025-000001)") == [
        "KT-2026-000123", "AB-2025-000001"]
    assert find_references("bestelling KT-12345") == []


def test_transition_records_who_when_why() -> None:
    case = new_case()
    event = transition(case, State.IN_PROGRESS, actor="agent", at=NOW, reason="known address")
    assert case.state == State.IN_PROGRESS
    assert (event.from_state, event.to_state, event.actor, event.reason) == ("received", "in_progress", "agent",
                                                                             "known address")
    assert case.events == [event]


def test_forbidden_transition_names_the_allowed_ones() -> None:
    case = new_case()
    with pytest.raises(TransitionError, match="can go to awaiting_clarification, awaiting_identity, in_progress"):
        transition(case, State.COMPLETED, actor="x", at=NOW, reason="r")


def test_closing_sets_closed_at_and_closed_cases_cannot_move() -> None:
    case = new_case(State.AWAITING_APPROVAL)
    transition(case, State.COMPLETED, actor="officer", at=NOW, reason="approved")
    assert case.closed_at == NOW and not is_open(case)
    with pytest.raises(TransitionError, match="closed"):
        transition(case, State.IN_PROGRESS, actor="x", at=NOW, reason="r")


def test_record_keeps_state() -> None:
    case = new_case(State.IN_PROGRESS)
    event = record(case, "extended", actor="officer", at=NOW, reason="complex")
    assert event.from_state == event.to_state == "in_progress"
