"""Robots and loops: no bounce or auto-reply is ever answered; two agents mailing each other stop.

- The 629 sisimai bounces, DSNs, auto-replies and feedback reports go through the real path
  (Dovecot, ``run_once``): the SMTP sink must get nothing, and no case is opened.
- Two agents pointed at each other: each agent's outgoing mail is delivered into the other's
  mailbox (the SMTP sink bridged into Dovecot with APPEND). Once with the mail as sent, once
  through a "forwarder" that strips the robot headers (Auto-Submitted, X-Auto-Response-Suppress)
  and the thread headers, so only the per-sender brake is left to stop the ping-pong.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from reliability_kit import bulk_append, corpus_dir
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.db.tables import Case, Outbox, StoredMessage
from inbox_agent.sandbox import DovecotServer, ReceivedMail, SmtpSink

from agent_harness import Agent, agent_settings, request_mail

pytestmark = pytest.mark.integration


def test_none_of_the_629_sisimai_bounces_and_auto_replies_is_answered(
    tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink, classifier: Classifier,
    figures: Callable[..., None],
) -> None:
    folder = corpus_dir("mail", "sisimai", "maildir-bsd")
    if folder is None:
        pytest.skip("shared corpus absent (../shared/corpus/mail/sisimai/maildir-bsd); nothing to read")
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 629
    agent = Agent(agent_settings(tmp_path, imap_account, smtp_sink), classifier,
                  dovecot.account(imap_account.username), smtp_sink)
    # Make answering as tempting as possible: every bounce's From address is a known customer.
    senders = set()
    for path in files:
        head = path.read_bytes().split(b"\n\n", 1)[0]
        found = re.search(rb"^From:.*?([\w.+-]+@[\w-]+(?:\.[\w-]+)+)", head, re.MULTILINE | re.IGNORECASE)
        if found:
            senders.add(found.group(1).decode())
    for n, address in enumerate(sorted(senders)):
        agent.add_customer(address, customer_id=f"s{n}")
    refused: list[int] = []
    bulk_append(dovecot, imap_account.username, (p.read_bytes() for p in files), refused=refused)
    counters = agent.run_once()
    with agent.db.transaction() as session:
        rows = list(session.scalars(select(StoredMessage)))
        cases = list(session.scalars(select(Case)))
        outbox_rows = list(session.scalars(select(Outbox)))
    agent.db.dispose()
    assert not refused
    unique = len({hashlib.sha256(p.read_bytes().replace(b"\r\n", b"\n")).hexdigest() for p in files})
    assert len(rows) == unique and counters.stored == unique  # 30 files are byte-for-byte copies of others
    assert all(r.status in ("processed", "quarantined") for r in rows)
    assert smtp_sink.messages == [], [m.rcpt_tos for m in smtp_sink.messages]
    assert outbox_rows == [] and cases == []
    automated = sum((r.outcome or "").startswith("ignored: automated") for r in rows)
    figures(bounces=len(files), unique=unique, known_customer_senders=len(senders), detected_automated=automated,
            ignored_other=sum(r.status == "processed" for r in rows) - automated,
            quarantined=sum(r.status == "quarantined" for r in rows), answered=len(smtp_sink.messages))


# -- two agents pointed at each other ---------------------------------------------------------------------------

_ROBOT_HEADERS = re.compile(
    rb"^(Auto-Submitted|X-Auto-Response-Suppress|In-Reply-To|References):.*\r\n(?:[ \t].*\r\n)*",
    re.MULTILINE | re.IGNORECASE)


class Pair:
    """Agents A and B; whatever one sends to the other's address lands in the other's mailbox."""

    def __init__(self, tmp_path: Path, dovecot: DovecotServer, make_imap: Callable[..., ImapSettings],
                 classifier: Classifier, relay: str) -> None:
        self.relay = relay
        self.agents: dict[str, Agent] = {}
        self.address = {"a": "privacy@shop-a.example", "b": "privacy@shop-b.example"}
        self.bridged = {"a": 0, "b": 0}
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            imap = make_imap()
            sink = SmtpSink()
            sink.start()
            settings = agent_settings(tmp_path / name, imap, sink, smtp={
                "host": sink.host, "port": sink.port, "security": "none", "from_address": self.address[name]})
            self.agents[name] = Agent(settings, classifier, dovecot.account(imap.username), sink)
        self._forwarded = {"a": 0, "b": 0}

    def other(self, name: str) -> str:
        return "b" if name == "a" else "a"

    def bridge(self, name: str) -> int:
        """Deliver what ``name`` sent to the other agent's address into the other's mailbox."""
        sink = self.agents[name].sink
        mails: list[ReceivedMail] = sink.messages[self._forwarded[name]:]
        self._forwarded[name] += len(mails)
        other = self.other(name)
        delivered = 0
        for mail in mails:
            if self.address[other] not in mail.rcpt_tos:
                continue
            raw = mail.raw if self.relay == "as-sent" else _ROBOT_HEADERS.sub(b"", mail.raw)
            if self.relay == "reflecting":  # puts a fresh request on top of whatever it passes on
                raw = _reflect(raw)
            self.agents[other].deliver(raw)
            delivered += 1
        self.bridged[name] += delivered
        return delivered

    def close(self) -> None:
        for agent in self.agents.values():
            agent.sink.stop()
            agent.db.dispose()


def _reflect(raw: bytes) -> bytes:
    """A new subject (no case reference) and a new request as text: it reads as a person asking again."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    head = re.sub(rb"^(Content-Type|Content-Transfer-Encoding|MIME-Version|Subject):.*\r\n(?:[ \t].*\r\n)*", b"",
                  head + b"\r\n", flags=re.MULTILINE | re.IGNORECASE) + b"Subject: Privacy\r\n"
    text = b"Please delete my account and all my personal data."
    return head + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + b"\r\n"


@pytest.mark.parametrize("relay", ["as-sent", "robot-headers-stripped", "reflecting"])
def test_two_agents_pointed_at_each_other_stop(
    tmp_path: Path, dovecot: DovecotServer, make_imap_settings: Callable[..., ImapSettings], classifier: Classifier,
    relay: str, figures: Callable[..., None],
) -> None:
    """Whatever the relay between them does, the ping-pong ends, at the latest at the per-sender brake."""
    pair = Pair(tmp_path, dovecot, make_imap_settings, classifier, relay)
    brake = pair.agents["a"].settings.policy.auto_mails_per_sender_per_day
    try:
        # The spark: a privacy request in A's mailbox that claims to come from B's address.
        pair.agents["a"].deliver(request_mail("Please delete my account and all my personal data.",
                                              sender=pair.address["b"], name="Shop B"))
        rounds = 0
        quiet = 0
        while quiet < 2 and rounds < 30:
            rounds += 1
            moved = 0
            for name in ("a", "b"):
                pair.agents[name].run_once()
                moved += pair.bridge(name)
            quiet = quiet + 1 if moved == 0 else 0
        blocked = {}
        for name, agent in pair.agents.items():
            with agent.db.transaction() as session:
                rows = list(session.scalars(select(Outbox).where(Outbox.to_addr == pair.address[pair.other(name)])))
            blocked[name] = sum(r.status == "blocked" for r in rows)
            sent = [m for m in agent.sink.messages if pair.address[pair.other(name)] in m.rcpt_tos]
            assert len(sent) <= brake, f"agent {name} sent {len(sent)} automatic mails to the other agent"
    finally:
        pair.close()
    assert quiet == 2, f"still mailing each other after {rounds} rounds"
    if relay != "reflecting":
        assert pair.bridged["b"] == 0, "B answered A's acknowledgement"
    figures(relay=relay, rounds_until_quiet=rounds - 2,
            a_to_b=pair.bridged["a"], b_to_a=pair.bridged["b"], blocked_by_brake=blocked, brake=brake)
