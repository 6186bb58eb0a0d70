"""What the pages show: evidence marked in the mail text, deadline colours, templates in use."""

from __future__ import annotations

from pathlib import Path

from inbox_agent.config import load_settings
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP, fictitious_shop
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
                             secret_key=SECRET, shop=FICTITIOUS_SHOP)
    files = {(f.language, f.name): f for f in templates_in_use(settings, fictitious_shop(templates_dir=tmp_path))}
    assert files[("nl", "ack")].from_shop and files[("nl", "ack")].subject == "Dank voor je bericht"
    assert not files[("en", "ack")].from_shop and files[("en", "ack")].subject
    assert not any(name.startswith("_") for _, name in files)


def test_the_deadline_is_explained_step_by_step_as_legal_md_computes_it() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from inbox_agent.web.i18n import Words
    from inbox_agent.web.present import deadline_steps

    nl = Words("nl")
    january = deadline_steps(datetime(2026, 1, 31, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam")), extended=True)
    assert [nl.step(s.key, s.values) for s in january] == [
        "Ontvangen 31 jan 2026 10:00 (Amsterdamse tijd); de klok loopt vanaf dan, wie de mail ook leest",
        "Plus één kalendermaand: za 28 feb 2026",
        "za 28 feb 2026 is een weekenddag: de wettelijke termijn schuift door",
        "zo 1 mrt 2026 is een weekenddag: de wettelijke termijn schuift door",
        "Wettelijke termijn: ma 2 mrt 2026, 23:59 (AVG art. 12 lid 3)",
        "Streefdatum: za 28 feb 2026 (de maand is korter dan de 30 dagen van de winkel)",
        "Verlengd tot di 28 apr 2026: hoogstens drie maanden na ontvangst, doorgeschoven naar een werkdag",
    ]
    march = deadline_steps(datetime(2026, 3, 27, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam")), extended=False)
    assert [Words("en").step(s.key, s.values) for s in march][2:] == [
        "Mon 27 Apr 2026 is a Dutch public holiday: the legal deadline moves on",
        "Legal deadline: Tue 28 Apr 2026, 23:59 (GDPR art. 12(3))",
        "Target: Sun 26 Apr 2026, the shop's 30-day promise (earlier than the month)",
    ]
