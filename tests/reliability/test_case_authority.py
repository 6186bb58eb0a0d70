"""Only the verified customer steers a case: a property test over generated mail histories.

The histories mix the customer, look-alike addresses, an attacker and another customer; trusted,
failing, untrusted and missing sender proof; withdrawals, new rights, codes, order numbers and
account addresses; replies threaded onto our own Message-IDs or carrying the case reference in
the subject (``histories.py``). Nobody approves in between, so cases stay open to be steered. After
every mail, each case that existed before it is compared:

- a mail from outside the case (another address, or a trusted dmarc=fail) changes nothing of its
  state, rights, verified address or customer, unless it returns the case's valid code;
- a mail from the case's own address that the mail host did not prove never withdraws it and only
  ever adds rights; it never sets a verified address except through a code or order number.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from histories import ANNA, Event, display_names, dmarcs, mail_of, registry_template, reply_tos, senders, texts
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_kit import push
from sqlalchemy import select

from inbox_agent.addresses import same_address
from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database
from inbox_agent.db.tables import Case
from inbox_agent.sandbox import SmtpSink

from agent_harness import agent_settings

EXAMPLES = 60
PROVEN = {"pass", "none"}
"""The generated trusted header always carries an aligned spf=pass, which proves the sender where the domain
publishes no DMARC policy (dmarc=none); "fail" is doubt; an untrusted or missing header proves nothing."""
owner_heavy = st.tuples(
    st.one_of(st.just(ANNA), senders), display_names, reply_tos, dmarcs, texts,
    st.sampled_from(["new", "in-reply-to-last", "subject-reference", "subject-reference", "in-reply-to-forged"]),
)
"""Half of the mails from the customer, mostly threaded onto her case: the cases that can be steered."""
Snapshot = dict[int, tuple[str, tuple[str, ...], str | None, int | None, str, str | None, str | None]]


def snapshot(db: Database) -> Snapshot:
    with db.transaction() as session:
        return {c.id: (c.state, tuple(c.rights), c.verified_email, c.customer_id, c.identity_status,
                       c.requester_email, c.verified_email) for c in session.scalars(select(Case))}


@pytest.mark.integration
def test_no_one_but_the_verified_customer_changes_a_case(
    tmp_path: Path, smtp_sink: SmtpSink, classifier: Classifier, figures: Callable[..., None],
) -> None:
    imap = ImapSettings(host="127.0.0.1", port=1, username="unused", security="none")  # mail is pushed directly
    template = registry_template(tmp_path / "template.sqlite")
    seen = {"histories": 0, "mails": 0, "outsider_mails_on_a_case": 0, "unproven_own_mails": 0, "changes_by_owner": 0}
    runs = iter(range(10**9))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(history=st.lists(owner_heavy, min_size=2, max_size=5))
    @example(history=[(ANNA, "Anna", None, "pass", "access", "new"),
                      (ANNA, "Anna", None, "untrusted-pass", "withdraw", "subject-reference"),
                      (ANNA, "Anna", None, "pass", "withdraw", "subject-reference")])
    @example(history=[(ANNA, "Anna", None, "missing", "access", "new"),
                      (ANNA, "Anna", None, "missing", "erasure", "in-reply-to-last"),
                      (ANNA, "Anna", None, "pass", "names-anna", "subject-reference")])
    def one(history: list[Event]) -> None:
        run = tmp_path / f"run{next(runs)}"
        run.mkdir()
        shutil.copy(template, run / "agent.sqlite")
        db = Database(agent_settings(run, imap, smtp_sink).database.url)
        daemon = Daemon(agent_settings(run, imap, smtp_sink), db, classifier)
        try:
            for n, ev in enumerate(history):
                sender, _, _, dmarc, text_kind, _ = ev
                before = snapshot(db)
                push(daemon, [mail_of(ev, db)], first_uid=n + 1)
                after = snapshot(db)
                for case_id, was in before.items():
                    now = after[case_id]
                    own = any(a and same_address(a, sender) for a in (was[5], was[6]))
                    code = text_kind in ("right-code", "order-right")
                    if not own or dmarc == "fail":
                        seen["outsider_mails_on_a_case"] += 1
                        if not code:
                            assert now[:5] == was[:5], (ev, was, now, history)
                    elif dmarc not in PROVEN:
                        seen["unproven_own_mails"] += 1
                        assert now[0] != "withdrawn" or was[0] == "withdrawn", (ev, history)
                        assert set(now[1]) >= set(was[1]), (ev, history)
                        if not code:
                            assert now[2] == was[2], (ev, was, now, history)
                    elif now != was:
                        seen["changes_by_owner"] += 1
        finally:
            db.dispose()
        seen["histories"] += 1
        seen["mails"] += len(history)

    one()
    assert seen["outsider_mails_on_a_case"] >= 30 and seen["unproven_own_mails"] >= 5, seen
    assert seen["changes_by_owner"] >= 2, seen  # the customer herself still steers her cases
    figures(**seen)
