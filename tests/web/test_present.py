"""What the pages show: evidence marked in the mail text, deadline colours, templates in use."""

from __future__ import annotations

from pathlib import Path

from inbox_agent.config import ShopSettings, load_settings
from inbox_agent.web.present import highlight, templates_in_use, urgency

from agent_harness import SECRET


def test_evidence_is_marked_across_line_breaks_and_case() -> None:
    text = "Beste,\nik wil graag INZAGE in\nmijn gegevens. Inzage in alles."
    pieces = highlight(text, ["inzage in mijn", "inzage in"])
    assert [p for p, marked in pieces if marked] == ["INZAGE in\nmijn", "Inzage in"]
    assert "".join(p for p, _ in pieces) == text
    assert highlight("<script>", []) == [("<script>", False)]


def test_deadline_colour_turns_at_the_reminder_window_and_after_the_date() -> None:
    assert [urgency(days, soon_days=7) for days in (8, 7, 0, -1)] == ["ok", "soon", "soon", "overdue"]


def test_templates_in_use_mark_the_shops_own_texts(tmp_path: Path) -> None:
    own = tmp_path / "nl"
    own.mkdir()
    (own / "ack.txt").write_text("Subject: Dank voor je bericht\n\nHallo\n", encoding="utf-8")
    settings = load_settings(None, imap={"username": "shop"}, smtp={"from_address": "privacy@shop.example"},
                             secret_key=SECRET)
    files = {(f.language, f.name): f for f in templates_in_use(settings, ShopSettings(templates_dir=tmp_path))}
    assert files[("nl", "ack")].from_shop and files[("nl", "ack")].subject == "Dank voor je bericht"
    assert not files[("en", "ack")].from_shop and files[("en", "ack")].subject
    assert not any(name.startswith("_") for _, name in files)
