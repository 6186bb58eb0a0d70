"""Issue 2's promises through real Dovecot and aiosmtpd: one ack, no ack to robots, flags kept."""

from __future__ import annotations

import email
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.db.tables import Case, StoredMessage
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import Agent, agent_settings, request_mail

pytestmark = pytest.mark.integration


def test_privacy_request_gets_exactly_one_ack_and_rerun_sends_nothing(agent: Agent) -> None:
    agent.add_customer("anna@example.org", "Anna de Vries")
    uid = agent.deliver(request_mail("Hoi, ik wil graag weten welke gegevens jullie van mij hebben opgeslagen.",
                                     sender="anna@example.org", subject="inzage"))
    agent.run_once()
    acks = [m for m in agent.sent_to("anna@example.org")]
    assert len(acks) == 1
    ack = email.message_from_bytes(acks[0].raw, policy=default_policy)
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Auto-Response-Suppress"] == "All"
    assert ack["In-Reply-To"]
    with agent.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.reference in ack["Subject"]
        assert case.state == "awaiting_approval"
        assert case.rights == ["access"]
    assert "$PrivacyTriaged" in agent.peer.flags(uid)
    assert "\\Seen" not in agent.peer.flags(uid)
    before = len(agent.sink.messages)
    agent.run_once()
    assert len(agent.sink.messages) == before


def test_order_question_and_auto_reply_get_nothing_and_keep_their_flags(agent: Agent) -> None:
    order = agent.deliver(request_mail("Wanneer wordt mijn bestelling 10023 bezorgd?", subject="bestelling"),
                          flags=("\\Flagged",))
    ooo = agent.deliver(request_mail("Ik ben afwezig tot en met maandag en lees mijn mail niet.",
                                     subject="Automatisch antwoord: uw verzoek",
                                     headers={"Auto-Submitted": "auto-replied"}), flags=("\\Seen",))
    agent.run_once()
    assert agent.sink.messages == []
    assert agent.peer.flags(order) == {"\\Flagged", "$PrivacyTriaged"}
    assert agent.peer.flags(ooo) == {"\\Seen", "$PrivacyTriaged"}
    with agent.db.transaction() as session:
        outcomes = sorted(m.outcome or "" for m in session.scalars(select(StoredMessage)))
    assert outcomes[0].startswith("ignored: automated")
    assert outcomes[1] == "ignored: not a privacy request"


def test_broken_message_is_quarantined_with_a_reason(agent: Agent) -> None:
    agent.deliver(b"this is not a mail at all, no headers\r\n\r\n\x00\x01binary")
    agent.run_once()
    with agent.db.transaction() as session:
        row = session.scalars(select(StoredMessage)).one()
        assert row.status == "quarantined"
        assert row.quarantine_reason and "unparseable" in row.quarantine_reason
    assert agent.sink.messages == []


def test_privacy_mail_is_moved_when_configured_and_other_mail_stays(tmp_path: Path, dovecot: DovecotServer,
                                                                    imap_account: ImapSettings, smtp_sink: SmtpSink,
                                                                    classifier: Classifier) -> None:
    imap = imap_account.model_copy(update={"move_privacy_to": "Privacy"})
    agent = Agent(agent_settings(tmp_path, imap, smtp_sink), classifier, dovecot.account(imap.username), smtp_sink)
    agent.deliver(request_mail("Verwijder mijn account en al mijn gegevens alstublieft.", sender="a@example.org"))
    order = agent.deliver(request_mail("Is de kinderwagen weer op voorraad?", subject="voorraad"))
    agent.run_once()
    assert agent.peer.uids("INBOX") == [order]
    (moved,) = agent.peer.uids("Privacy")
    assert agent.peer.flags(moved, "Privacy") == {"$PrivacyTriaged"}
    agent.run_once()  # nothing is fetched again from either folder
    with agent.db.transaction() as session:
        assert len(session.scalars(select(StoredMessage)).all()) == 2
    agent.db.dispose()


def test_uidvalidity_change_is_deduplicated_not_reprocessed(tmp_path: Path, dovecot: DovecotServer,
                                                            imap_account: ImapSettings, smtp_sink: SmtpSink,
                                                            classifier: Classifier) -> None:
    imap = imap_account.model_copy(update={"folder": "Shared"})
    agent = Agent(agent_settings(tmp_path, imap, smtp_sink), classifier, dovecot.account(imap.username), smtp_sink)
    request = request_mail("Verwijder mijn account en al mijn gegevens alstublieft.", sender="a@example.org")
    with dovecot.imap_client(imap.username) as client:
        client.create_folder("Shared")
    agent.peer.append(request, folder="Shared")
    agent.run_once()
    before = agent.peer.uidvalidity("Shared")
    sent = len(smtp_sink.messages)
    with dovecot.imap_client(imap.username) as client:  # the server loses its UID state: new UIDVALIDITY
        client.delete_folder("Shared")
        client.create_folder("Shared")
    agent.peer.append(request, folder="Shared")
    agent.peer.append(request_mail("Nieuwe vraag: is de box ook in het blauw te krijgen?"), folder="Shared")
    assert agent.peer.uidvalidity("Shared") != before
    agent.run_once()
    assert len(smtp_sink.messages) == sent  # no second acknowledgement
    with agent.db.transaction() as session:
        rows = session.scalars(select(StoredMessage).order_by(StoredMessage.id)).all()
        assert len(rows) == 2 and len(session.scalars(select(Case)).all()) == 1
        assert rows[0].uidvalidity == agent.peer.uidvalidity("Shared") and rows[0].keyword_set
    agent.db.dispose()
