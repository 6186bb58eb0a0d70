"""Our own Message-IDs, signed with the agent's secret.

A module of its own because two stages use it: the outbox gives every mail it queues a signed
Message-ID, and the pipeline checks the In-Reply-To/References of incoming mail against it, so a
customer's reply finds its case without anyone trusting the subject line or the sender. Neither
stage reaches into the other for it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_SIGNED_ID = re.compile(r"^<ia\.([A-Z]{1,8}-\d{4}-\d{6})\.([a-z_]+)\.([0-9a-f]{12})\.([0-9a-f]{16})@[^>]+>$")


def _signature(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()[:16]


def make_message_id(secret: str, reference: str, kind: str, domain: str) -> str:
    token = f"{reference}.{kind}.{secrets.token_hex(6)}"
    return f"<ia.{token}.{_signature(secret, token)}@{domain}>"


def reference_from_message_id(secret: str, message_id: str) -> str | None:
    """The case reference of one of OUR Message-IDs, if its signature holds."""
    match = _SIGNED_ID.match(message_id.strip())
    if not match:
        return None
    reference, kind, rand, sig = match.groups()
    if not hmac.compare_digest(sig, _signature(secret, f"{reference}.{kind}.{rand}")):
        return None
    return reference
