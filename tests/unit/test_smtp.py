"""What build_message puts on the wire: read back with the stdlib's modern parser."""

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from inbox_agent.db.tables import Outbox
from inbox_agent.smtp import build_message

REFS = [f"<ia.KT-2026-{n:06d}.ack.0123456789ab.0123456789abcdef@luminet.nl>" for n in range(25)]


def row(**kw: object) -> Outbox:
    values: dict[str, object] = dict(
        kind="ack", to_addr="anna@example.org", subject="[KT-2026-000001] Wij hebben uw verzoek ontvangen — dank u",
        body_text="Beste Anna,\n\nUw verzoek is binnen: €0, geen kosten.\n.\nGroet", body_html="<p>Beste Anna</p>",
        language="nl", attachments=[], message_id="<ia.KT-2026-000001.ack.0123456789ab.0123456789abcdef@luminet.nl>",
        in_reply_to=REFS[-1], references=REFS, automatic=True, created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    values.update(kw)
    return Outbox(**values)


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_headers_and_bodies_read_back_as_written() -> None:
    raw = build_message(row(), from_address="info@luminet.nl", from_name="Kleine Töppers")
    msg = parsed(raw)
    assert msg["Subject"] == "[KT-2026-000001] Wij hebben uw verzoek ontvangen — dank u"
    assert msg["From"].addresses[0].display_name == "Kleine Töppers"
    assert msg["From"].addresses[0].addr_spec == "info@luminet.nl"
    assert msg["References"].split() == REFS[-20:]  # folded, never encoded
    assert msg["In-Reply-To"] == REFS[-1]
    assert msg["Auto-Submitted"] == "auto-replied" and msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Content-Language"] == "nl"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == row().body_text
    assert "Beste Anna" in html.get_content()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert raw.isascii()  # 7-bit: quoted-printable bodies, encoded-word subject and name


def test_an_attachment_goes_along_and_officer_mail_is_auto_generated(tmp_path: Path) -> None:
    package = tmp_path / "KT-2026-000001-export.zip"
    package.write_bytes(b"PK\x03\x04 data")
    msg = parsed(build_message(row(kind="officer_reminder", body_html=None, attachments=[str(package)]),
                               from_address="info@luminet.nl", from_name="Shop"))
    assert msg["Auto-Submitted"] == "auto-generated"
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == package.name and part.get_content() == b"PK\x03\x04 data"


@pytest.mark.parametrize("field", ["subject", "to_addr", "in_reply_to"])
def test_a_line_break_in_a_header_value_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        build_message(row(**{field: "x\r\nBcc: victim@example.org"}), from_address="info@luminet.nl", from_name="S")
