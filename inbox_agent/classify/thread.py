"""A short reply about the request its thread names: chased or taken back, it is a matter of the request's handling.

"En?" or "Any news on this? It's been over five weeks." above the writer's own quoted access request, and "Laat maar,
hoeft niet meer" under the desk's acknowledgement of an erasure, ask for no right: the first chases a request that
stands, the second takes it back. Both are for the officer (privacy_other), and neither is the request again: the
quote and the Re: subject are context, never a trigger (issue 15). Only a reply whose own words find nothing, hold a
``chase`` cue (markers.toml) or a withdrawal (conversation.toml, as the desk reads it in an open case) and stay short
is read this way, and only when the thread (the Re: subject and the first quoted message) names a right.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..language import fold, phrase_pattern
from ..withdrawal import Cues, withdraws

THREAD_WORDS = 60
"""A reply of more own words than this says what it wants in its own words."""


class ThreadCues:
    """The ``chase`` cues of every language and the withdrawal cues."""

    def __init__(self, markers: Iterable[dict[str, Any]], withdrawal: Cues) -> None:
        self.chase = phrase_pattern(p for m in markers for p in m.get("chase", []))
        self.withdrawal = withdrawal

    def about_request(self, own: str) -> tuple[str, str] | None:
        """("withdrawn" or "chase", the words) when the short new text takes its request back or chases it."""
        if len(own.split()) > THREAD_WORDS:
            return None
        if withdraws(own, self.withdrawal):
            return "withdrawn", own
        found = self.chase.search(" ".join(fold(own).split()))
        return ("chase", found.group(0)) if found else None
