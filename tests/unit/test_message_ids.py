from inbox_agent.message_ids import make_message_id, reference_from_message_id

SECRET = "0123456789abcdef0123"


def test_signed_message_id_round_trip_and_tamper() -> None:
    mid = make_message_id(SECRET, "KT-2026-000042", "ack", "shop.example")
    assert reference_from_message_id(SECRET, mid) == "KT-2026-000042"
    assert reference_from_message_id("another-secret-value", mid) is None
    assert reference_from_message_id(SECRET, mid.replace("000042", "000043")) is None
    assert reference_from_message_id(SECRET, "<random@example.org>") is None
