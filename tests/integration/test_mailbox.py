"""ImapMailbox against a real Dovecot and a real Cyrus: what it reads, what it leaves alone, how it fails.

The shared tests run once per server (``imap_server``); the TLS ones need Dovecot's certificate,
and the Cyrus ones at the end pin what only Cyrus does (folders under INBOX., 100 keywords at
most, no response code on a wrong password).
"""

from __future__ import annotations

import imaplib
import socket
import struct
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
    MailboxRefused,
    MailboxTlsError,
    MailboxUnreachable,
    check_mailbox,
)
from inbox_agent.sandbox import CyrusServer, DovecotServer, ImapSandbox, SandboxAccount, free_port

pytestmark = pytest.mark.integration

MakeMail = Callable[..., bytes]
MB = 1024 * 1024


@pytest.fixture
def imap_account(imap_server: ImapSandbox, make_account: Callable[..., ImapSettings]) -> ImapSettings:
    """A fresh account on the server of this run (overrides the Dovecot-only one of conftest)."""
    return make_account(imap_server)


@pytest.fixture
def imap_peer(imap_server: ImapSandbox, imap_account: ImapSettings) -> SandboxAccount:
    return imap_server.account(imap_account.username)


@pytest.fixture
def fresh_server(imap_server: ImapSandbox) -> Iterator[ImapSandbox]:
    """A server of the same kind of the test's own, for tests that fail logins or stop it."""
    with type(imap_server)() as server:
        yield server


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
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail, imap_server: ImapSandbox
) -> None:
    raws = [make_mail(subject=f"m{n}") for n in range(3)]
    uids = [imap_peer.append(raw) for raw in raws]
    assert box.new_uids(0) == uids

    folder = box.move([uids[1]], "Privacy")

    assert folder == imap_server.personal_prefix + "Privacy"  # Cyrus: INBOX.Privacy
    assert imap_peer.uids() == [uids[0], uids[2]]
    [moved] = imap_peer.uids(folder)
    assert imap_peer.raw(moved, folder) == raws[1]
    assert box.new_uids(0) == [uids[0], uids[2]]


def test_a_folder_named_in_full_is_used_as_named(
    box: ImapMailbox, imap_peer: SandboxAccount, make_mail: MakeMail, imap_server: ImapSandbox
) -> None:
    full = imap_server.personal_prefix + "Requests"
    uid = imap_peer.append(make_mail())
    box.fetch([uid], max_bytes=MB)
    assert box.move([uid], full) == full
    assert len(imap_peer.uids(full)) == 1


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


def test_a_start_costs_login_select_search_noop_and_idle(
    imap_server: ImapSandbox, imap_account: ImapSettings, imap_peer: SandboxAccount, make_mail: MakeMail,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A daemon starts a thousand of these: no CAPABILITY command where the greeting names them (Dovecot;
    the capabilities after LOGIN still count, MOVE among them), no NOOP between SELECT and SEARCH, and
    without TLS no loading of the system's CA store."""
    sent: list[str] = []
    send = imaplib.IMAP4.send

    def recorded(self: imaplib.IMAP4, data: bytes) -> None:
        words = data.split()  # imapclient sends a command's CRLF apart
        if words:
            sent.append(words[0 if words == [b"DONE"] else 1].decode())
        send(self, data)

    uid, uidvalidity = imap_peer.append(make_mail()), imap_peer.uidvalidity()
    monkeypatch.setattr(imaplib.IMAP4, "send", recorded)
    mailbox_module._system_trust.cache_clear()
    with ImapMailbox(imap_account) as mailbox:
        assert mailbox.has_idle()  # as the daemon asks: before SELECT, which drops LOGIN's capabilities
        assert mailbox.select_new(0) == (uidvalidity, [uid])
        assert not mailbox.begin_idle()
        assert not mailbox.end_idle()
        moves = mailbox._c.has_capability("MOVE")
    asked = [] if isinstance(imap_server, DovecotServer) else ["CAPABILITY"]  # Cyrus: none in its greeting
    assert [c for c in sent if c not in asked] == ["LOGIN", "SELECT", "UID", "NOOP", "IDLE", "DONE", "LOGOUT"], sent
    assert moves or not isinstance(imap_server, DovecotServer)
    assert imap_account.security == "none" and not mailbox_module._system_trust.cache_info().currsize  # no CA store


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


def test_wait_without_idle_sleeps_and_says_maybe(
    imap_server: ImapSandbox, make_account: Callable[..., ImapSettings]
) -> None:
    with ImapMailbox(make_account(imap_server, idle=False)) as mailbox:
        mailbox.select()
        assert not mailbox.has_idle()
        started = time.monotonic()
        assert mailbox.wait(0.2)
        assert time.monotonic() - started >= 0.2


def test_wrong_password_is_reported_as_such(fresh_server: ImapSandbox) -> None:
    fresh_server.add_user("shop", "right")
    wrong = fresh_server.settings("shop", password="wrong")
    with pytest.raises(MailboxLoginError) as err:
        ImapMailbox(wrong).connect()
    assert str(err.value).startswith(f"IMAP login failed for user shop at 127.0.0.1:{fresh_server.port}: "
                                     "wrong username or password")
    assert not err.value.retryable


def test_server_going_away_during_idle_is_a_retryable_error(fresh_server: ImapSandbox) -> None:
    fresh_server.add_user("shop", "pw")
    settings = fresh_server.settings("shop")
    with ImapMailbox(settings) as mailbox:
        mailbox.select()
        threading.Timer(0.2, fresh_server.stop).start()
        started = time.monotonic()
        with pytest.raises(MailboxConnectionLost, match="lost during idle") as err:
            mailbox.wait(10)
        assert time.monotonic() - started < 2
        assert err.value.retryable
        # refused once the port is closed; reset when the connect came while a dying server process still held it
        with pytest.raises(MailboxUnreachable, match=r"connection refused|connection reset by peer"):
            mailbox.connect()


def test_a_connection_reset_is_worded_not_numbered(imap_account: ImapSettings) -> None:
    """A server that accepts and resets at once (a crashing or dying server): the line names the reset, as the
    operator reads it; it said "cannot reach IMAP 127.0.0.1:PORT: 104"."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def reset_one() -> None:
        conn, _ = listener.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
        conn.close()

    threading.Thread(target=reset_one, daemon=True).start()
    try:
        with pytest.raises(MailboxUnreachable) as err:
            ImapMailbox(imap_account.model_copy(update={"port": port})).connect()
    finally:
        listener.close()
    assert str(err.value) == f"cannot reach IMAP 127.0.0.1:{port}: connection reset by peer"
    assert err.value.retryable


def test_closed_port_is_reported_as_unreachable(imap_account: ImapSettings) -> None:
    port = free_port()
    closed = imap_account.model_copy(update={"port": port})
    with pytest.raises(MailboxUnreachable, match=f"cannot reach IMAP 127.0.0.1:{port}: connection refused"):
        ImapMailbox(closed).connect()
    assert check_mailbox(closed).problem == f"cannot reach IMAP 127.0.0.1:{port}: connection refused"


def test_check_mailbox(imap_account: ImapSettings) -> None:
    assert check_mailbox(imap_account) == check_mailbox(imap_account).model_copy(update={"problem": None})
    message = check_mailbox(imap_account.model_copy(update={"folder": "Nowhere"})).problem
    assert message is not None
    assert message.startswith(f"cannot open IMAP folder 'Nowhere' for user {imap_account.username}")


def test_check_mailbox_finds_or_creates_the_privacy_folder_and_names_it(
    imap_account: ImapSettings, imap_peer: SandboxAccount, imap_server: ImapSandbox
) -> None:
    settings = imap_account.model_copy(update={"move_privacy_to": "Privacy"})
    folder = imap_server.personal_prefix + "Privacy"
    first, again = check_mailbox(settings), check_mailbox(settings)
    assert first.problem is None
    assert first.notes == (f"IMAP {settings.username} at 127.0.0.1:{settings.port}: move_privacy_to 'Privacy' "
                           f"is folder {folder!r} (created)",)
    assert again.notes[0].endswith(f"is folder {folder!r} (found)")
    assert imap_peer.uids(folder) == []


def test_missing_folder_raises_folder_error(imap_account: ImapSettings) -> None:
    with ImapMailbox(imap_account.model_copy(update={"folder": "Nowhere"})) as mailbox, \
            pytest.raises(MailboxFolderError, match=r"Mailbox does(n't| not) exist"):
        mailbox.select()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_modes_work_with_a_trusted_certificate(
    dovecot: DovecotServer, make_imap_settings: Callable[..., ImapSettings], make_mail: MakeMail, security: str,
) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    plain = make_imap_settings()
    imap_peer = dovecot.account(plain.username)
    settings = plain.model_copy(update={"security": security, "port": port})
    uid = imap_peer.append(make_mail())
    with ImapMailbox(settings, ssl_context=dovecot.client_ssl_context()) as mailbox:
        mailbox.select()
        assert mailbox.new_uids(0) == [uid]


def test_tls_against_a_plain_port_explains_itself(imap_account: ImapSettings) -> None:  # both servers
    with pytest.raises(MailboxTlsError, match=r'TLS handshake failed with 127\.0\.0\.1:\d+ \(server speaks '
                                               r'plain text\? try security = "starttls" or "none"\)'):
        ImapMailbox(imap_account.model_copy(update={"security": "tls"})).connect()


def test_untrusted_certificate_is_refused(dovecot: DovecotServer,
                                         make_imap_settings: Callable[..., ImapSettings]) -> None:
    settings = make_imap_settings().model_copy(update={"security": "tls", "port": dovecot.tls_port})
    with pytest.raises(MailboxTlsError, match=r"certificate .* is not trusted: self.signed"):
        ImapMailbox(settings).connect()


# -- what only Cyrus does ------------------------------------------------------------------------


@pytest.fixture
def cyrus_box(cyrus: CyrusServer, make_account: Callable[..., ImapSettings]) -> Iterator[ImapMailbox]:
    with ImapMailbox(make_account(cyrus)) as mailbox:
        mailbox.select()
        yield mailbox


def test_cyrus_privacy_resolves_to_inbox_privacy_through_namespace(
    cyrus: CyrusServer, cyrus_box: ImapMailbox, make_mail: MakeMail
) -> None:
    peer = cyrus.account(cyrus_box.settings.username)
    with cyrus.imap_client(peer.user) as client, pytest.raises(Exception, match="Permission denied"):
        client.create_folder("Privacy")  # what the old code sent, and what Cyrus says to it
    uid = peer.append(make_mail())
    cyrus_box.fetch([uid], max_bytes=MB)
    assert cyrus_box.resolve_folder("Privacy") == "INBOX.Privacy"
    assert cyrus_box.move([uid], "Privacy") == "INBOX.Privacy"
    assert peer.uids() == []
    assert len(peer.uids("INBOX.Privacy")) == 1


def test_cyrus_refusing_a_folder_is_a_refusal_of_create(cyrus_box: ImapMailbox) -> None:
    with pytest.raises(MailboxRefused, match=r"refuses to create folder 'user\.someone-else'") as err:
        cyrus_box.ensure_folder("user.someone-else")  # outside the personal namespace: not ours
    assert err.value.operation == "create"
    cyrus_box.noop()  # the connection is fine: a refusal is not an outage


def test_check_mailbox_fails_clearly_when_the_server_refuses_the_folder(
    cyrus: CyrusServer, make_account: Callable[..., ImapSettings]
) -> None:
    settings = make_account(cyrus, move_privacy_to="user.someone-else")
    problem = check_mailbox(settings).problem
    assert problem == (f"IMAP server 127.0.0.1:{cyrus.port} refuses to create folder 'user.someone-else': "
                       "Permission denied")


def fill_keywords(cyrus: CyrusServer, user: str, uid: int) -> None:
    """Use up the folder's 100 keywords, as a busy team's mail program may have done."""
    with cyrus.imap_client(user) as client:
        client.select_folder("INBOX")
        client.add_flags([uid], [f"$Label{n}" for n in range(100)], silent=True)


def test_cyrus_too_many_keywords_is_a_refusal_of_store(
    cyrus: CyrusServer, cyrus_box: ImapMailbox, make_mail: MakeMail
) -> None:
    peer = cyrus.account(cyrus_box.settings.username)
    labelled, ours = peer.append(make_mail()), peer.append(make_mail())
    fill_keywords(cyrus, peer.user, labelled)
    cyrus_box.select()
    assert b"\\*" in cyrus_box._permanent_flags  # it still claims any keyword may be added
    cyrus_box.fetch([ours], max_bytes=MB)
    with pytest.raises(MailboxRefused, match="Too many user flags in mailbox") as err:
        cyrus_box.add_keyword([ours])
    assert err.value.operation == "store"
    assert peer.flags(ours) == set()
    cyrus_box.noop()


def test_cyrus_wrong_password_without_a_response_code(cyrus: CyrusServer) -> None:
    cyrus.add_user("shop-cyrus", "right")
    with pytest.raises(MailboxLoginError) as err:
        ImapMailbox(cyrus.settings("shop-cyrus", password="wrong")).connect()
    assert str(err.value) == (f"IMAP login failed for user shop-cyrus at 127.0.0.1:{cyrus.port}: wrong username "
                              "or password (the server says: Login failed: authentication failure)")
