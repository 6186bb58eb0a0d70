import base64

import pytest

from inbox_agent.parse import ParseError, parse


def mail(headers: str, body: bytes = b"hello\r\n") -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 binary garbage without any header"])
def test_nothing_usable_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse(raw)


def test_unknown_charset_and_bad_base64_are_worked_around() -> None:
    raw = mail("From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=x-klingon\nContent-Transfer-Encoding: base64\n",
               b"aGFsbG8gd2VyZWxk!!!not base64***\r\n")
    msg = parse(raw)
    assert any("charset" in d for d in msg.defects)
    assert isinstance(msg.text, str)


def test_html_only_mail_becomes_text_without_scripts() -> None:
    raw = mail("From: a@example.org\nSubject: x\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n",
               b"<html><head><style>p{}</style></head><body><p>Verwijder</p><p>mijn account</p>"
               b"<script>alert(1)</script></body></html>")
    msg = parse(raw)
    assert msg.from_html
    assert msg.text.split() == ["Verwijder", "mijn", "account"]


def test_attached_message_text_is_offered_separately() -> None:
    inner = b"From: b@example.org\r\nSubject: inner\r\n\r\nPlease delete my data.\r\n"
    raw = mail("From: a@example.org\nSubject: Fwd\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n",
               b"--XX\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\n"
               + inner + b"--XX--\r\n")
    msg = parse(raw)
    assert msg.text.strip() == "see attached"
    assert any("Please delete my data." in t for t in msg.embedded_texts)


def test_header_values_are_single_line_and_encoded_words_decoded() -> None:
    subject = "=?utf-8?b?" + base64.b64encode("Löschung\r\nBcc: evil@example.org".encode()).decode() + "?="
    msg = parse(mail(f"From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\nSubject: {subject}\n"))
    assert "\n" not in msg.subject and "\r" not in msg.subject
    assert msg.subject.startswith("Löschung")
    assert msg.from_ is not None and msg.from_.name == "Jürgen"


def test_null_return_path_and_auth_results_are_read() -> None:
    msg = parse(mail("Return-Path: <>\nAuthentication-Results: mx1.shop.example; spf=fail smtp.mailfrom=x;\n"
                     " dkim=none; dmarc=fail header.from=x\nFrom: MAILER-DAEMON@x.example\nSubject: failure\n"))
    assert msg.return_path == ""
    assert msg.auth_results[0].authserv_id == "mx1.shop.example"
    assert (msg.auth_results[0].dmarc, msg.auth_results[0].spf) == ("fail", "fail")


def test_ten_thousand_headers_and_nul_bytes_do_not_break_it() -> None:
    headers = "From: a@example.org\nSubject: many\n" + "".join(f"X-H{i}: v\n" for i in range(10_000))
    msg = parse(mail(headers, b"text with \x00 nul\r\n"))
    assert "\x00" not in msg.text and "nul" in msg.text
