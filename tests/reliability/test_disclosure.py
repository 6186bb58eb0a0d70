"""Disclosure: a result package never reaches anyone but the verified customer address.

A property test over generated case histories: senders (the customer, look-alikes, an attacker,
another customer), From display names that spell an address, Reply-To, DMARC verdicts (trusted,
failing, untrusted hosts), requests that name the customer's address, replies with the right or a
wrong code, order number + postcode, withdrawals, replies threaded onto our own Message-IDs and
subjects carrying a case reference. After every mail the officer approves every draft, and the
outbox is sent to a real SMTP sink. Checked on the wire: each result_* mail has exactly one RCPT TO,
the registry address of the customer whose identity the case verified. Confirmation codes, too,
only ever go to a registry address.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from histories import KNOWN, approve_everything, event, mail_of, registry_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import message_ids, push
from sqlalchemy import select

from inbox_agent.addresses import same_address
from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case, Customer, Outbox
from inbox_agent.sandbox import SmtpSink

from agent_harness import agent_settings

EXAMPLES = 120


@pytest.mark.integration
def test_results_only_ever_reach_the_verified_customer_address(
    tmp_path: Path, smtp_sink: SmtpSink, classifier: Classifier, figures: Callable[..., None],
) -> None:
    imap = ImapSettings(host="127.0.0.1", port=1, username="unused", security="none")  # mail is pushed directly
    template = registry_template(tmp_path / "template.sqlite")
    seen = {"histories": 0, "mails_in": 0, "results_sent": 0, "codes_sent": 0, "mails_out": 0, "verified_cases": 0}
    runs = iter(range(10**9))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(history=st.lists(event, min_size=1, max_size=5))
    def one(history: list[tuple[str, str, str | None, str, str, str]]) -> None:
        run = tmp_path / f"run{next(runs)}"
        run.mkdir()
        shutil.copy(template, run / "agent.sqlite")
        settings_ = agent_settings(run, imap, smtp_sink)
        db = Database(settings_.database.url)
        daemon = Daemon(settings_, db, classifier)
        before = len(smtp_sink.messages)
        try:
            with db.transaction() as session:
                ids = {row[0]: row[1] for row in session.execute(select(Customer.id, Customer.customer_ref))}
            verified: dict[int, tuple[int | None, str | None]] = {}
            for n, ev in enumerate(history):
                push(daemon, [mail_of(ev, db)], first_uid=n + 1)
                with db.transaction() as session:  # before approval: erasure anonymises the case
                    for case in session.scalars(select(Case)):
                        if case.verified_email:
                            verified[case.id] = (case.customer_id, case.verified_email)
                approve_everything(daemon)
                push(daemon, [], first_uid=0)
            with db.transaction() as session:
                kinds = {r.message_id: (r.kind, r.case_id) for r in session.scalars(select(Outbox))}
        finally:
            db.dispose()
        new = smtp_sink.messages[before:]
        for mail, mid in zip(new, [next(iter(message_ids([m]))) for m in new], strict=True):
            kind, case_id = kinds[mid]
            assert len(mail.rcpt_tos) == 1
            to = mail.rcpt_tos[0]
            if kind.startswith("result_"):
                assert case_id in verified, f"{kind} sent for case {case_id} that was never verified"
                customer_id, verified_email = verified[case_id]
                known = KNOWN[ids[customer_id]] if customer_id in ids else None
                assert known is not None and verified_email is not None
                assert to == known and same_address(verified_email, known), (kind, to, known, history)
                seen["results_sent"] += 1
            elif kind == "identity_code":
                assert to in KNOWN.values(), (to, history)
                seen["codes_sent"] += 1
        seen["histories"] += 1
        seen["mails_in"] += len(history)
        seen["mails_out"] += len(new)
        seen["verified_cases"] += len(verified)

    one()
    assert seen["results_sent"] >= 20 and seen["codes_sent"] >= 10, seen  # the histories reach both paths
    figures(**seen)
