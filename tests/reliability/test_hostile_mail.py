"""Hostile and broken mail: never a crash, each mail processed or quarantined with a reason.

- every file of the shared corpus (zammad, talon, sisimai's non-bounces; the 629 sisimai bounces are
  pushed through in test_robots_and_loops.py) through Dovecot and ``run_once``;
- monsters through Dovecot: 10,000 headers, NUL bytes, 200 nested multiparts, a 30 MB attachment
  (over the 25 MB ``policy.max_message_bytes``: quarantined, only its start stored), CRLF in names and
  subjects;
- hypothesis-generated MIME (random nesting, bad or missing boundaries, bad base64, wrong and unknown
  charsets, NUL bytes, CR/LF injection in names, subjects and file names) through the pipeline.

Whatever goes out is checked on the wire: no injected header line, only our own fields, one
recipient that equals the To header. A quarantine reason "internal error" is a bug caught by the
pipeline's safety net, so it fails the test too.
"""

from __future__ import annotations

import base64
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import REQUESTS, bulk_append, corpus_dir, header_problems, push
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.daemon import Daemon
from inbox_agent.db.tables import StoredMessage
from inbox_agent.parse import parse
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import TRUSTED, Agent, agent_settings, request_mail

EXAMPLES = 400


def _rows(agent: Agent) -> list[StoredMessage]:
    with agent.db.transaction() as session:
        return list(session.scalars(select(StoredMessage).order_by(StoredMessage.id)))


def _assert_settled(rows: list[StoredMessage]) -> tuple[int, int]:
    """Each row processed, or quarantined with a reason that is not the safety net's; (processed, quarantined)."""
    for row in rows:
        assert row.status in ("processed", "quarantined"), (row.uid, row.status)
        if row.status == "quarantined":
            assert row.quarantine_reason, row.uid
            assert not row.quarantine_reason.startswith("internal error"), row.quarantine_reason
        else:
            assert row.outcome
    quarantined = sum(r.status == "quarantined" for r in rows)
    return len(rows) - quarantined, quarantined


@pytest.fixture
def agent(tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink,
          classifier: Classifier) -> Iterator[Agent]:
    a = Agent(agent_settings(tmp_path, imap_account, smtp_sink), classifier, dovecot.account(imap_account.username),
              smtp_sink)
    yield a
    a.db.dispose()


# -- the corpus --------------------------------------------------------------------------------------------------


@pytest.mark.integration
def test_every_corpus_file_is_processed_or_quarantined_and_answers_are_clean(
    agent: Agent, dovecot: DovecotServer, figures: Callable[..., None],
) -> None:
    root = corpus_dir("mail")
    if root is None:
        pytest.skip("shared corpus absent (../shared/corpus/mail next to the repository); nothing to read")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(("LICENSE", "INDEX"))
                   and "maildir-bsd" not in p.parts)
    raws = [p.read_bytes() for p in files]
    refused: list[int] = []
    bulk_append(dovecot, agent.peer.user, raws, refused=refused)
    counters = agent.run_once()
    if refused:  # what the mail host would have refused still must not crash the pipeline
        push(Daemon(agent.settings, agent.db, agent.classifier), [raws[i] for i in refused], first_uid=10**6)
    rows = _rows(agent)
    assert len(rows) == len(raws)  # Dovecot hands LF-only files back with CRLF: count, not hashes
    processed, quarantined = _assert_settled(rows)
    problems = [p for mail in agent.sink.messages for p in header_problems(mail)]
    assert not problems, problems
    figures(corpus_files=len(files), via_dovecot=len(files) - len(refused), refused_by_dovecot=len(refused),
            processed=processed, quarantined=quarantined, stored_by_daemon=counters.stored,
            answers_sent=len(agent.sink.messages),
            quarantine_reasons=sorted({(r.quarantine_reason or "")[:40] for r in rows if r.status == "quarantined"}))


# -- monsters through the real path ------------------------------------------------------------------------------

_INJECTED_NAME = "Evil\r\nBcc: victim@evil.example\r\nX-Injected: yes"


def _monsters() -> dict[str, bytes]:
    body = REQUESTS[1].encode()
    many = b"".join(b"X-Filler-%d: value %d\r\n" % (i, i) for i in range(10_000))
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(200))
    pdf = base64.encodebytes(b"%PDF-1.4\n" + b"\x01" * (22 * 1024 * 1024)).replace(b"\n", b"\r\n")  # 30 MB encoded
    return {
        "10000 headers": b"From: Tien Duizend <tienduizend@example.org>\r\nSubject: Headers\r\n" + many
        + b"\r\n" + body + b"\r\n",
        "NUL bytes": b"From: Nul <nul@example.org>\r\nSubject: nul\x00byte\r\n\r\n" + body.replace(b" ", b"\x00 ", 3)
        + b"\r\n",
        "200 nested multiparts": b"From: Diep <diep@example.org>\r\nSubject: nest\r\n" + nested + body + b"\r\n",
        "30 MB attachment": b"From: Groot <groot@example.org>\r\nSubject: bijlage\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=xx\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\n" + body
        + b"\r\n--xx\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=\"a\r\n\tb.pdf\"\r\n\r\n" + pdf + b"--xx--\r\n",
        "CRLF in name and subject": request_mail(REQUESTS[1], sender="crlf@example.org", name="Evil",
                                                 subject="Privacy").replace(
            b"Subject: Privacy", b"Subject: =?utf-8?q?Privacy=0D=0ABcc:_victim@evil.example?=").replace(
            b"From: Evil", b"From: =?utf-8?b?" + base64.b64encode(_INJECTED_NAME.encode()) + b"?="),
        "bad base64 and unknown charset": b"From: Kapot <kapot@example.org>\r\nSubject: =?x-nope?b?!!!?=\r\n"
        b"Content-Type: text/plain; charset=x-unknown-42\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!*=*==\r\n",
    }


@pytest.mark.integration
def test_monsters_through_dovecot_never_crash_and_the_size_limit_holds(
    agent: Agent, dovecot: DovecotServer, figures: Callable[..., None],
) -> None:
    monsters = _monsters()
    refused: list[int] = []
    bulk_append(dovecot, agent.peer.user, monsters.values(), refused=refused)
    agent.run_once()
    raws = list(monsters.values())
    if refused:
        push(Daemon(agent.settings, agent.db, agent.classifier), [raws[i] for i in refused], first_uid=10**6)
    rows = _rows(agent)
    assert len(rows) == len(monsters)
    _assert_settled(rows)
    (big,) = [r for r in rows if r.size > 30 * 1024 * 1024]
    limit = agent.settings.policy.max_message_bytes
    assert big.status == "quarantined" and "policy.max_message_bytes" in (big.quarantine_reason or "")
    assert len(big.raw or b"") <= limit
    assert not [m for m in agent.sink.messages if "groot@example.org" in m.rcpt_tos]
    problems = [p for mail in agent.sink.messages for p in header_problems(mail)]
    assert not problems, problems
    assert not [m for m in agent.sink.messages if "victim@evil.example" in m.rcpt_tos]
    answered = sorted({a for m in agent.sink.messages for a in m.rcpt_tos})
    figures(monsters=len(monsters), refused_by_dovecot=[list(monsters)[i] for i in refused],
            outcomes={_name(monsters, r): (r.status, (r.outcome or r.quarantine_reason or "")[:70]) for r in rows},
            answered=answered)


def _name(monsters: dict[str, bytes], row: StoredMessage) -> str:
    def sender(raw: bytes) -> bytes:
        return raw.split(b"From: ", 1)[-1].split(b"\r\n", 1)[0][:40]

    return next((name for name, raw in monsters.items() if sender(raw) == sender(row.raw or b"")), "?")


@pytest.mark.integration
def test_30_mb_attachment_under_a_raised_limit_is_processed(agent: Agent) -> None:
    agent.settings.policy.max_message_bytes = 40 * 1024 * 1024
    daemon = Daemon(agent.settings, agent.db, agent.classifier)
    push(daemon, [_monsters()["30 MB attachment"]], first_uid=1)
    (row,) = _rows(agent)
    assert row.status == "processed" and row.case_id is not None, (row.status, row.quarantine_reason)


@pytest.mark.integration
def test_a_small_configured_limit_quarantines_bigger_mail_and_keeps_the_rest(agent: Agent) -> None:
    agent.settings.policy.max_message_bytes = 4096
    daemon = Daemon(agent.settings, agent.db, agent.classifier)
    small = request_mail(REQUESTS[0], sender="klein@example.org")
    big = request_mail(REQUESTS[0] + "\n" + "x" * 8000, sender="groot@example.org")
    push(daemon, [small, big], first_uid=1)
    rows = {r.uid: r for r in _rows(agent)}
    assert rows[1].status == "processed" and rows[1].case_id is not None
    assert rows[2].status == "quarantined" and "over the limit of 4096 bytes" in (rows[2].quarantine_reason or "")
    assert len(rows[2].raw or b"") == 4096
    assert [m.rcpt_tos for m in agent.sink.messages if "groot@example.org" in m.rcpt_tos] == []


@pytest.mark.parametrize("raw", [
    b"From: A <a@example.org>\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    b"Content-Type: text/plain\r\n\r\n" + REQUESTS[1].encode() + b"\r\n--b\r\nContent-Type: text/plain\r\n"
    b"Content-Disposition: attachment; filename=\"\xc3\x9cberweisung.txt\"\r\n\r\nbijlage\r\n--b--\r\n",
    b"From: A <a@example.org>\r\nSubject: x\r\nContent-Type: text/plain; charset=\x00utf-8\r\n\r\n"
    + REQUESTS[1].encode(),
    b"From: =?\x00utf-8?q?A?= <a@example.org>\r\nSubject: =?\x00utf-8?q?x?=\r\n\r\n" + REQUESTS[1].encode(),
], ids=["8-bit filename", "NUL in charset", "NUL in encoded-word charset"])
def test_mail_that_crashed_the_parser_is_read(raw: bytes) -> None:
    """Found by the generator below: each was quarantined as "internal error" instead of read."""
    msg = parse(raw)
    assert REQUESTS[1] in msg.text and msg.from_ is not None


# -- generated MIME ----------------------------------------------------------------------------------------------

_INJECTIONS = [
    "a\r\nBcc: victim@evil.example", "b\nX-Injected: 1", "c\rX-Injected: 2",
    "=?utf-8?q?d=0D=0ABcc:_victim@evil.example?=",
    "=?utf-8?b?" + base64.b64encode(b"e\r\nBcc: victim@evil.example").decode() + "?=", "f\x00g", "\u2028h\u2029",
    "=?x-unknown?q?zz?=", "=?utf-8?b?////?=", "=?\x00utf-8?q?nul_charset?=",
]
_CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", "shift_jis", "utf-16", "utf-7", "x-unknown-42", "",
             "us-ascii", 'utf-8"; x="', "gb2312", "\x00utf-8"]
_ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus"]
_TYPES = ["text/plain", "text/html", "application/octet-stream", "image/png", "message/rfc822",
          "message/delivery-status", "text/calendar", "application/pdf"]

header_value = st.one_of(st.sampled_from(_INJECTIONS), st.text(max_size=60),
                         st.binary(max_size=40).map(lambda b: b.decode("latin-1")))


def _encode(text: str, charset: str, cte: str, garbage: bytes) -> bytes:
    try:
        data = text.encode(charset.split('"')[0] or "utf-8")
    except (LookupError, UnicodeError, ValueError):
        data = text.encode("utf-8")
    data += garbage
    if cte == "base64":
        return base64.encodebytes(data) if len(garbage) % 3 else base64.encodebytes(data)[:-3] + b"!*\n"
    if cte == "quoted-printable":
        return data.replace(b"=", b"=3D") + b"=ZZ=\r\n"
    return data


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(_TYPES))
    charset = draw(st.sampled_from(_CHARSETS))
    cte = draw(st.sampled_from(_ENCODINGS))
    text = draw(st.one_of(st.sampled_from(REQUESTS), st.text(max_size=200)))
    garbage = draw(st.binary(max_size=30))
    head = f"Content-Type: {ctype}; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n"
    if draw(st.booleans()):
        name = draw(header_value)
        head += f'Content-Disposition: attachment; filename="{name}"\r\n'
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + _encode(text, charset, cte, garbage)


def _multipart(children: st.SearchStrategy[list[bytes]]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        parts = draw(children)
        declared = draw(st.sampled_from(["b1", "", '"quoted b"', "b1 with space", "=_x", "b" * 90]))
        used = draw(st.sampled_from([declared.strip('"'), "b1", "other"]))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report", "signed"]))
        body = b"".join(b"--" + used.encode() + b"\r\n" + p + b"\r\n" for p in parts)
        if draw(st.booleans()):
            body += b"--" + used.encode() + b"--\r\n"
        return f"Content-Type: multipart/{subtype}; boundary={declared}\r\n\r\n".encode() + body

    return build()


plain_request = st.builds(
    lambda text, extra: f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n{extra}".encode(
        "utf-8", "surrogateescape"),
    st.sampled_from(REQUESTS), st.text(max_size=80))
mime_body = st.one_of(
    plain_request,
    st.recursive(st.one_of(leaf(), plain_request), lambda inner: _multipart(st.lists(inner, min_size=0, max_size=4)),
                 max_leaves=8),
)


@st.composite
def hostile_mail(draw: st.DrawFn) -> bytes:
    sender = draw(st.sampled_from(["fuzz{n}@example.org", "Fuzz{n}@Example.ORG", "noreply{n}@example.org",
                                   "x{n}@[127.0.0.1]", "a b{n}@example.org", "", "fuzz{n}@example.org",
                                   "f\u00fcz{n}@example.org"])).format(n=draw(st.integers(0, 10**6)))
    lines = [
        f"From: {draw(header_value)} <{sender}>",
        f"Subject: {draw(header_value)}",
        f"Authentication-Results: {TRUSTED}; dmarc={draw(st.sampled_from(['pass', 'fail', 'none']))}",
    ]
    if draw(st.booleans()):
        lines.append(f"Message-ID: {draw(st.sampled_from(['<a@b>', '', '<<>>', 'no-brackets', '<x' * 50]))}")
    if draw(st.booleans()):
        lines.append(f"Reply-To: {draw(header_value)} <reply@evil.example>")
    if draw(st.integers(0, 9)) == 0:
        lines.append("Auto-Submitted: auto-replied")
    lines += [f"X-Random-{i}: {v}" for i, v in enumerate(draw(st.lists(header_value, max_size=5)))]
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n"
    raw = head + draw(mime_body)
    newline = draw(st.sampled_from([b"\r\n", b"\n", b"mixed"]))
    if newline == b"\n":
        raw = raw.replace(b"\r\n", b"\n")
    elif newline == b"mixed":
        raw = raw.replace(b"\r\n\r\n", b"\n\r\n", 1)
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\x00" + raw[at:]
    return raw


@pytest.mark.integration
def test_generated_mime_never_crashes_and_what_goes_out_is_clean(
    agent: Agent, caplog: pytest.LogCaptureFixture, figures: Callable[..., None],
) -> None:
    caplog.set_level(logging.INFO, logger="inbox_agent")
    daemon = Daemon(agent.settings, agent.db, agent.classifier)
    seen = {"mails": 0, "processed": 0, "quarantined": 0, "answers": 0, "privacy": 0}
    reasons: Counter[str] = Counter()
    uid = iter(range(1, 10**9))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(raw=hostile_mail())
    def one(raw: bytes) -> None:
        before = len(agent.sink.messages)
        n = next(uid)
        (digest,) = push(daemon, [b"X-Fuzz-Run: %d\r\n" % n + raw], first_uid=n)  # never a known duplicate
        with agent.db.transaction() as session:
            row = session.scalars(select(StoredMessage).where(StoredMessage.sha256 == digest)).one()
            _assert_settled([row])
            seen["mails"] += 1
            seen["processed" if row.status == "processed" else "quarantined"] += 1
            seen["privacy"] += row.case_id is not None
            if row.quarantine_reason:
                reasons[row.quarantine_reason[:45]] += 1
        new = agent.sink.messages[before:]
        seen["answers"] += len(new)
        for mail in new:
            assert not header_problems(mail), (header_problems(mail), raw[:300])
            assert "victim@evil.example" not in mail.rcpt_tos and "reply@evil.example" not in mail.rcpt_tos

    one()
    assert seen["privacy"] > 20 and seen["answers"] > 20, seen  # the generator reaches the answering paths
    internal = [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()]
    assert not internal, internal
    figures(mails_fuzzed=seen["mails"], **{k: v for k, v in seen.items() if k != "mails"},
            quarantine_reasons=dict(reasons))
