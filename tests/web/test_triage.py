"""Issue 16's missing web parts in a real Chromium, over real mail (Dovecot in, an SMTP sink out):
the list to check (a chip, a case opened through the desk, a mail dismissed with a reason),
possible duplicates (merge, keep separate) and spam / block sender (and lifting the block).

Each page the officer sees is checked for her language, the phone width, contrast and labels,
and written to test-output/screenshots/.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from page_checks import foreign_words, page_problems, page_text
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from workspace_harness import OFFICER, Workspace, run_agent

from inbox_agent import officer_error
from inbox_agent.db.tables import BlockedSender, Case, Outbox, ReviewDecision, StoredMessage
from inbox_agent.deadlines import compute, due_at
from inbox_agent.desk import merge
from inbox_agent.runtime import officer_desk

from agent_harness import Agent, request_mail

pytestmark = pytest.mark.integration

NEGATED = "Ik wil NIET dat mijn account verwijderd wordt, ik bestel binnenkort weer."


def look(workspace: Workspace, page: Page, name: str, language: str = "nl") -> None:
    """Check the page as every workspace page is checked, then keep a screenshot."""
    assert page_problems(page) == {}, name
    assert foreign_words(page_text(page), language) == [], name
    workspace.screenshot(page, name)


def new_page(browser: Browser, width: int = 1280) -> Page:
    return browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL").new_page()


def case_of(agent: Agent, sender: str) -> list[Case]:
    with agent.db.transaction() as session:
        return list(session.scalars(select(Case).where(Case.requester_email == sender).order_by(Case.id)))


def test_a_mail_to_check_becomes_a_case_through_the_desk_or_leaves_the_list_with_a_reason(
    agent: Agent, workspace: Workspace, browser: Browser
) -> None:
    agent.add_customer("anna@example.org", "Anna Jansen")
    agent.deliver(request_mail(NEGATED, subject="Mijn account", sender="anna@example.org", name="Anna"))
    agent.deliver(request_mail("Ik wil niet dat jullie mijn gegevens verwijderen hoor, alles is prima.",
                               subject="Vraagje", sender="bram@example.org", name="Bram"))
    run_agent(agent)
    arrived = datetime.now(UTC) - timedelta(days=3)
    with agent.db.transaction() as session:
        assert session.scalars(select(Case)).all() == []
        anna, bram = session.scalars(select(StoredMessage).order_by(StoredMessage.id)).all()
        anna.received_at = arrived  # read three days after it came in: the deadline still runs from then
        anna_id, bram_id = anna.id, bram.id
    page = new_page(browser)
    workspace.login(page)
    chip = page.locator("a.chip.need-review")
    assert chip.inner_text().split() == ["2", "Te", "controleren"]
    look(workspace, page, "dashboard-review-chip-nl-1280")
    chip.click()
    assert page.locator("li.review-item").count() == 2
    look(workspace, page, "review-two-mails-nl-1280")

    page.locator(f"#mail-{anna_id} a.button").click()
    assert NEGATED in page.locator("pre.mailtext").inner_text()
    look(workspace, page, "review-open-choose-nl-1280")
    page.get_by_role("button", name="Ja, verzoek openen").click()
    assert "minstens één recht" in page.locator(".flash.error").inner_text()  # no right chosen: nothing opened
    page.get_by_label("inzage").check()
    page.get_by_role("button", name="Ja, verzoek openen").click()
    (case,) = case_of(agent, "anna@example.org")
    assert page.url.endswith(f"/cases/{case.reference}")
    assert f"Verzoek {case.reference} geopend" in page.locator(".flash.ok").inner_text()
    assert "Verzoek geopend vanaf de lijst om te controleren" in page.locator("table.timeline").inner_text()
    look(workspace, page, "case-from-review-nl-1280")
    assert case.rights == ["access"] and case.received_at == arrived
    assert case.deadline_legal == due_at(compute(arrived).legal)
    with agent.db.transaction() as session:
        events = [(e.actor, e.kind) for e in session.get_one(Case, case.id).events]
    assert events[0] == (OFFICER, "received") and (OFFICER, "opened_from_review") in events
    assert case.state == "awaiting_approval" and case.proof == "proven"  # the sender's proof, as for any mail
    run_agent(agent)
    (ack,) = agent.sent_to("anna@example.org")  # the acknowledgement, as for any recognised request
    assert case.reference.encode() in ack.raw

    page.goto(workspace.url + "/review")
    item = page.locator(f"#mail-{bram_id}")
    item.locator("summary").click()
    item.get_by_label("Waarom is dit geen verzoek?").fill("Zegt juist dat hij niets wil; gewone klantvraag")
    item.get_by_role("button", name="Van de lijst halen").click()
    assert "Van de lijst gehaald" in page.locator(".flash.ok").inner_text()
    assert page.locator("li.review-item").count() == 0
    handled = page.locator("table.handled").inner_text()
    assert "gewone klantvraag" in handled and case.reference in handled and OFFICER in handled
    look(workspace, page, "review-handled-nl-1280")
    page.goto(workspace.url + "/")
    assert page.locator("a.chip.need-review").inner_text().split()[0] == "0"
    with agent.db.transaction() as session:
        decisions = [(d.message_id, d.action, d.actor) for d in session.scalars(select(ReviewDecision))]
    assert sorted(decisions) == [(anna_id, "opened", OFFICER), (bram_id, "dismissed", OFFICER)]
    assert agent.sent_to("bram@example.org") == []
    page.context.close()


def test_a_duplicate_is_merged_into_the_older_case_or_kept_separate(
    agent: Agent, workspace: Workspace, browser: Browser
) -> None:
    for number, sender in enumerate(("anna@example.org", "bob@example.org"), start=1):
        agent.add_customer(sender, sender.split("@")[0].title(), customer_id=str(number))
        agent.deliver(request_mail("Ik wil graag inzage in mijn persoonsgegevens.", sender=sender))
    run_agent(agent)
    for sender in ("anna@example.org", "bob@example.org"):
        agent.deliver(request_mail("Nogmaals: ik wil inzage in mijn persoonsgegevens.", sender=sender))
    run_agent(agent)
    first, second = (c.reference for c in case_of(agent, "anna@example.org"))
    page = new_page(browser, 390)
    workspace.login(page, f"/cases/{second}")
    assert first in page.locator(".duplicate-notice").inner_text()  # at the top, not only in the side column
    related = page.locator("section.related")
    related.locator("summary", has_text=f"Samenvoegen in {first}").click()
    look(workspace, page, "case-merge-nl-390")
    related.get_by_role("button", name=f"Ja, samenvoegen in {first}").click()
    assert "Samengevoegd" in page.locator(".flash.ok").inner_text()
    assert page.locator(".case-head .state").inner_text() == "samengevoegd"
    assert page.locator(".duplicate-notice").count() == 0
    assert "dubbel?" not in page.locator("section.related").inner_text()
    page.goto(f"{workspace.url}/cases/{first}")
    assert page.locator("section.original").count() == 2  # the duplicate's mail joined this timeline
    assert f"samengevoegd: {second}" in page.locator("table.timeline").inner_text()
    assert "dubbel?" not in page.locator("section.related").inner_text()
    look(workspace, page, "case-merged-into-nl-390")
    with agent.db.transaction() as session:
        old, dup = (session.scalars(select(Case).where(Case.reference == r)).one() for r in (first, second))
        assert (dup.state, dup.decision, dup.linked_case_id) == ("merged", "merged", old.id)
        assert session.scalars(select(Outbox.status).where(Outbox.case_id == dup.id,
                                                           Outbox.kind.like("result_%"))).all() == ["rejected"]
        desk = officer_desk(agent.settings, "default", OFFICER, datetime.now(UTC))
        with pytest.raises(officer_error.OfficerError, match="not a possible duplicate"):
            merge.merge(session, desk, second, first)  # once merged, not again
        ack = session.scalars(select(Outbox.message_id).where(Outbox.case_id == dup.id, Outbox.kind == "ack")).one()
        old_id = old.id
    agent.deliver(request_mail("Dank je, ik wacht het antwoord af.", subject="Re: ontvangen",
                               sender="anna@example.org", in_reply_to=ack))
    run_agent(agent)
    with agent.db.transaction() as session:  # a reply to the merged request's mail reaches the case it joined
        reply = session.scalars(select(StoredMessage).order_by(StoredMessage.id.desc())).first()
        assert reply is not None and reply.case_id == old_id
    assert [m for m in agent.sent_to("anna@example.org") if b"inzage" in m.raw.lower()
            and b".zip" in m.raw.lower()] == []  # no second answer

    bob_first, bob_second = (c.reference for c in case_of(agent, "bob@example.org"))
    with agent.db.transaction() as session, pytest.raises(officer_error.OfficerError, match="merge the newer"):
        merge.merge(session, officer_desk(agent.settings, "default", OFFICER, datetime.now(UTC)), bob_first, bob_second)
    page.goto(f"{workspace.url}/cases/{bob_first}")  # the older one: keep separate, no merge offered here
    related = page.locator("section.related")
    assert related.locator("summary", has_text="Samenvoegen").count() == 0
    related.get_by_role("button", name="Apart houden").click()
    assert "Apart gehouden" in page.locator(".flash.ok").inner_text()
    assert "dubbel?" not in page.locator("section.related").inner_text()
    page.goto(f"{workspace.url}/cases/{bob_second}")
    assert "dubbel?" not in page.locator("section.related").inner_text()
    assert f"apart gehouden van {bob_first}" in page.locator("table.timeline").inner_text()
    look(workspace, page, "case-kept-separate-nl-390")
    page.context.close()


def test_spam_closes_without_an_answer_and_a_blocked_sender_opens_no_case_until_lifted(
    agent: Agent, workspace: Workspace, browser: Browser
) -> None:
    spammer = "promo@example.net"
    agent.deliver(request_mail("Verwijder mijn gegevens!!! Koop nu onze pillen op pillen.example",
                               sender=spammer, name="Promo"))
    run_agent(agent)
    (case,) = case_of(agent, spammer)
    sent_before = len(agent.sent_to(spammer))
    page = new_page(browser)
    workspace.login(page, f"/cases/{case.reference}")
    page.locator("summary", has_text="Spam / afzender blokkeren").click()
    look(workspace, page, "case-spam-nl-1280")
    form = page.locator("details.spam")
    form.get_by_label("Waarom is dit spam?").fill("Reclame voor pillen, geen verzoek")
    form.get_by_label(f"Ook de afzender blokkeren ({spammer})").check()
    form.get_by_role("button", name="Als spam afsluiten").click()
    assert "Als spam afgesloten" in page.locator(".flash.ok").inner_text()
    assert "spam, geen antwoord" in page.locator(".facts-card").inner_text()
    assert page.locator(".case-head .state").inner_text() == "geweigerd"
    assert page.locator(".case-head .tag").inner_text() == "spam, geen antwoord"  # not a refusal that went out
    page.click("header nav >> text=Geblokkeerd")
    page.wait_for_url("**/blocked")  # count() does not wait: read the list only once its page is there
    row = page.locator("table.blocked tbody tr")
    assert row.count() == 1 and spammer in row.inner_text() and "Reclame voor pillen" in row.inner_text()
    look(workspace, page, "blocked-after-spam-nl-1280")

    agent.deliver(request_mail("Ik wil inzage in al mijn gegevens.", sender=spammer, name="Promo"))
    run_agent(agent)
    assert len(case_of(agent, spammer)) == 1  # no case from a blocked sender
    assert len(agent.sent_to(spammer)) == sent_before  # and nothing sent to it
    with agent.db.transaction() as session:
        last = session.scalars(select(StoredMessage).order_by(StoredMessage.id.desc())).first()
        assert last is not None and last.outcome == "to check: from a blocked sender, but the sender is proven"
        assert session.scalars(select(Outbox.status).where(Outbox.case_id == case.id, Outbox.status == "draft")
                               ).all() == []

    page.get_by_role("button", name="Blokkade opheffen").click()
    assert f"Blokkade van {spammer} opgeheven" in page.locator(".flash.ok").inner_text()
    assert f"opgeheven door {OFFICER}" in page.locator("table.blocked").inner_text()
    look(workspace, page, "blocked-lifted-nl-1280")
    agent.deliver(request_mail("Ik wil inzage in al mijn gegevens, echt waar.", sender=spammer, name="Promo"))
    run_agent(agent)
    assert len(case_of(agent, spammer)) == 2
    with agent.db.transaction() as session:
        (block,) = session.scalars(select(BlockedSender)).all()
        assert (block.blocked_by, block.lifted_by, block.case_reference) == (OFFICER, OFFICER, case.reference)
    page.context.close()
