"""ImapMailbox against a real Dovecot: what it reads, what it leaves alone, how it fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from inbox_agent import mailbox as mailbox_module
from inbox_agent.config import ImapSettings
from inbox_agent.mailbox import (
    ImapMailbox,
    MailboxConnectionLost,
    MailboxFolderError,
    MailboxLoginError,
    MailboxTlsError,
    MailboxUnreachable,
    check_login,
)
from inbox_agent.sandbox import DovecotServer, SandboxAccount, free_port

pytestmark = pytest.mark.integration

MakeMail = Callable[..., bytes]
MB = 1024 * 1024


@pytest.fixture
def box(imap_account: ImapSettings) -> Iterator[ImapMailbox]:
    with ImapMailbox(imap_account) as mailbox:
        mailbox.select()
        yield mailbox


def test_new_uids_and_fetch_return_the_appended_mail(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    cet = timezone(timedelta(hours=1))
    dates = [datetime(2026, 1, 5, 9, n, 30, tzinfo=cet) for n in range(3)]
    raws = [make_mail(subject=f"Mail {n}") for n in range(3)]
    uids = [imap_peer.append(raw, internal_date=d) for raw, d in zip(raws, dates, strict=True)]

    assert box.new_uids(0) == uids
    assert box.new_uids(uids[1]) == [uids[2]]
    assert box.new_uids(uids[2]) == []  # "UID n:*" would still answer the highest UID

    mails = box.fetch(uids, max_bytes=MB)
    assert [m.uid for m in mails] == uids
    assert [m.raw for m in mails] == raws
    assert [m.internal_date for m in mails] == dates
    assert all(m.internal_date.tzinfo is not None for m in mails)
    assert [m.size for m in mails] == [len(r) for r in raws]
    assert {m.uidvalidity for m in mails} == {imap_peer.uidvalidity()}
    assert not any(m.truncated for m in mails)


def test_select_reports_the_folders_uidvalidity(
    imap_account: ImapSettings, imap_peer: SandboxAccount
) -> None:
    with ImapMailbox(imap_account) as mailbox:
        assert mailbox.select() == imap_peer.uidvalidity()


def test_fetch_in_several_batches_returns_everything_once(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mailbox_module, "FETCH_BATCH_MESSAGES", 2)
    uids = [imap_peer.append(make_mail(subject=f"n{n}")) for n in range(5)]
    assert [m.uid for m in box.fetch(uids, max_bytes=MB)] == uids


def test_fetch_skips_uids_that_do_not_exist(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    uid = imap_peer.append(make_mail())
    assert [m.uid for m in box.fetch([uid, uid + 50], max_bytes=MB)] == [uid]


def test_fetch_leaves_unread_mail_unread(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    unread = imap_peer.append(make_mail())
    read = imap_peer.append(make_mail(), flags=("\\Seen",))

    fetched = {m.uid: m.flags for m in box.fetch([unread, read], max_bytes=MB)}

    assert "\\Seen" not in fetched[unread]
    assert "\\Seen" in fetched[read]
    assert imap_peer.flags(unread) == set()
    assert imap_peer.flags(read) == {"\\Seen"}


def test_oversize_mail_is_fetched_partially_and_marked_truncated(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    big_raw = make_mail(body="x" * 5000 + "\n")
    small_raw = make_mail()
    big, small = imap_peer.append(big_raw), imap_peer.append(small_raw)

    mails = {m.uid: m for m in box.fetch([big, small], max_bytes=1000)}

    assert mails[big].truncated
    assert mails[big].raw == big_raw[:1000]
    assert mails[big].size == len(big_raw)
    assert not mails[small].truncated
    assert mails[small].raw == small_raw
    assert imap_peer.flags(big) == set()


def test_add_keyword_adds_only_our_keyword(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    before = {
        imap_peer.append(make_mail()): set(),
        imap_peer.append(make_mail(), flags=("\\Seen",)): {"\\Seen"},
        imap_peer.append(make_mail(), flags=("\\Flagged", "$Label1")): {"\\Flagged", "$Label1"},
    }

    box.fetch(list(before), max_bytes=MB)  # the daemon marks only what it has fetched
    assert box.add_keyword(list(before))

    for uid, flags in before.items():
        assert imap_peer.flags(uid) == flags | {"$PrivacyTriaged"}


def test_add_keyword_refuses_system_flags(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    uid = imap_peer.append(make_mail())
    box.fetch([uid], max_bytes=MB)
    with pytest.raises(ValueError, match="system flag"):
        box.add_keyword([uid], "\\Seen")
    assert imap_peer.flags(uid) == set()


def test_move_creates_the_folder_and_moves_only_those_mails(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    raws = [make_mail(subject=f"m{n}") for n in range(3)]
    uids = [imap_peer.append(raw) for raw in raws]
    assert box.new_uids(0) == uids

    box.move([uids[1]], "Privacy")

    assert imap_peer.uids() == [uids[0], uids[2]]
    [moved] = imap_peer.uids("Privacy")
    assert imap_peer.raw(moved, "Privacy") == raws[1]
    assert box.new_uids(0) == [uids[0], uids[2]]


def test_move_without_move_capability_expunges_only_the_moved_mail(make_mail: MakeMail) -> None:
    """COPY + \\Deleted + UID EXPUNGE must leave another person's \\Deleted mail alone."""
    with DovecotServer(extra_config="imap_capability = IMAP4rev1 IDLE UIDPLUS") as server:
        server.add_user("shop", "pw")
        peer = server.account("shop")
        keep, go, deleted_by_someone = (peer.append(make_mail()) for _ in range(3))
        with server.imap_client("shop") as client:
            client.select_folder("INBOX")
            client.add_flags([deleted_by_someone], ["\\Deleted"])
        with ImapMailbox(server.settings("shop")) as mailbox:
            mailbox.select()
            assert not mailbox._c.has_capability("MOVE")
            mailbox.fetch([go], max_bytes=MB)
            mailbox.move([go], "Privacy")

        assert peer.uids() == [keep, deleted_by_someone]
        assert len(peer.uids("Privacy")) == 1


def test_wait_returns_true_soon_after_new_mail_arrives(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    assert box.has_idle()
    raw = make_mail()
    delivery = threading.Timer(0.2, imap_peer.append, args=(raw,))
    started = time.monotonic()
    delivery.start()
    try:
        assert box.wait(10)
    finally:
        delivery.join()
    assert time.monotonic() - started < 2.5
    [uid] = box.new_uids(0)
    assert box.fetch([uid], max_bytes=MB)[0].raw == raw


def test_mail_announced_during_a_fetch_is_not_left_for_the_next_idle_timeout(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    first = imap_peer.append(make_mail(subject="first"))
    assert box.new_uids(0) == [first]
    second = imap_peer.append(make_mail(subject="second"))  # after the search, before the fetch
    time.sleep(0.6)  # Dovecot announces new mail to a session about half a second late
    box.fetch([first], max_bytes=MB)  # its NOOP hears of the second mail: that news must be kept
    started = time.monotonic()
    assert box.wait(10)
    assert time.monotonic() - started < 1.0  # not the 10 s of an IDLE that will never hear of it again
    assert box.new_uids(first) == [second]


def test_mail_delivered_just_before_idle_is_reported_at_once(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail
) -> None:
    first = imap_peer.append(make_mail(subject="first"))
    assert box.new_uids(0) == [first]
    box.fetch([first], max_bytes=MB)
    second = imap_peer.append(make_mail(subject="second"))  # while we would be storing the first
    started = time.monotonic()
    assert box.wait(5)  # Dovecot's IDLE alone would not report it before the 5 s are over
    assert time.monotonic() - started < 1.5
    assert box.new_uids(first) == [second]


def test_wait_returns_false_on_timeout(box: ImapMailbox) -> None:
    started = time.monotonic()
    assert not box.wait(0.3)
    assert 0.3 <= time.monotonic() - started < 1.5
    box.noop()  # the connection is usable after IDLE


def test_wait_ends_early_when_stop_is_set(box: ImapMailbox) -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert not box.wait(30, stop)
    assert time.monotonic() - started < 2


def test_wait_without_idle_sleeps_and_says_maybe(make_imap_settings: Callable[..., ImapSettings]) -> None:
    with ImapMailbox(make_imap_settings(idle=False)) as mailbox:
        mailbox.select()
        assert not mailbox.has_idle()
        started = time.monotonic()
        assert mailbox.wait(0.2)
        assert time.monotonic() - started >= 0.2


def test_wrong_password_is_reported_as_such(fresh_dovecot: DovecotServer) -> None:
    fresh_dovecot.add_user("shop", "right")
    wrong = fresh_dovecot.settings("shop", password="wrong")
    with pytest.raises(MailboxLoginError) as err:
        ImapMailbox(wrong).connect()
    assert str(err.value) == (f"IMAP login failed for user shop at 127.0.0.1:{fresh_dovecot.port}: "
                              "wrong username or password")
    assert not err.value.retryable


def test_server_going_away_during_idle_is_a_retryable_error(fresh_dovecot: DovecotServer) -> None:
    fresh_dovecot.add_user("shop", "pw")
    settings = fresh_dovecot.settings("shop")
    with ImapMailbox(settings) as mailbox:
        mailbox.select()
        threading.Timer(0.2, fresh_dovecot.stop).start()
        started = time.monotonic()
        with pytest.raises(MailboxConnectionLost, match="lost during idle") as err:
            mailbox.wait(10)
        assert time.monotonic() - started < 2
        assert err.value.retryable
        with pytest.raises(MailboxUnreachable, match="connection refused"):
            mailbox.connect()


def test_closed_port_is_reported_as_unreachable(imap_account: ImapSettings) -> None:
    port = free_port()
    closed = imap_account.model_copy(update={"port": port})
    with pytest.raises(MailboxUnreachable, match=f"cannot reach IMAP 127.0.0.1:{port}: connection refused"):
        ImapMailbox(closed).connect()
    assert check_login(closed) == f"cannot reach IMAP 127.0.0.1:{port}: connection refused"


def test_check_login(imap_account: ImapSettings) -> None:
    assert check_login(imap_account) is None
    message = check_login(imap_account.model_copy(update={"folder": "Nowhere"}))
    assert message is not None
    assert message.startswith(f"cannot open IMAP folder 'Nowhere' for user {imap_account.username}")


def test_missing_folder_raises_folder_error(imap_account: ImapSettings) -> None:
    with ImapMailbox(imap_account.model_copy(update={"folder": "Nowhere"})) as mailbox, \
            pytest.raises(MailboxFolderError, match="Mailbox doesn't exist"):
        mailbox.select()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_modes_work_with_a_trusted_certificate(
    dovecot: DovecotServer, imap_account: ImapSettings, imap_peer: SandboxAccount, make_mail: MakeMail,
    security: str,
) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    settings = imap_account.model_copy(update={"security": security, "port": port})
    uid = imap_peer.append(make_mail())
    with ImapMailbox(settings, ssl_context=dovecot.client_ssl_context()) as mailbox:
        mailbox.select()
        assert mailbox.new_uids(0) == [uid]


def test_tls_against_a_plain_port_explains_itself(imap_account: ImapSettings) -> None:
    with pytest.raises(MailboxTlsError, match=r'TLS handshake failed with 127\.0\.0\.1:\d+ \(server speaks '
                                               r'plain text\? try security = "starttls" or "none"\)'):
        ImapMailbox(imap_account.model_copy(update={"security": "tls"})).connect()


def test_untrusted_certificate_is_refused(dovecot: DovecotServer, imap_account: ImapSettings) -> None:
    settings = imap_account.model_copy(update={"security": "tls", "port": dovecot.tls_port})
    with pytest.raises(MailboxTlsError, match=r"certificate .* is not trusted: self.signed"):
        ImapMailbox(settings).connect()
