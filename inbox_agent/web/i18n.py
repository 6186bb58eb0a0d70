"""The officer's words on a page: the catalogue (``inbox_agent/messages``) in her language.

``Words`` is what templates call ``t``: ``t("case.state")`` for a fixed text, and one
method per kind of code the database holds (states, rights, mail kinds, event kinds,
reasons, task titles), so no page shows a raw code. A fixed text missing from the
catalogue raises (a typo fails the first render); a code written by another module that
the catalogue does not know yet is shown as it is and logged, so a new event kind never
takes the case page down (the page-walk test fails on it instead).
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from typing import Any

from ..actors import SYSTEM_ACTORS
from ..deadlines import AMSTERDAM
from ..messages import LANGUAGES, catalogue, read, say

TRANSITION_REFUSED = re.compile(r"case (?P<case>\S+) is (?P<state>\w+);")
"""cases.TransitionError's sentence: which case, in which state."""
log = logging.getLogger(__name__)


class Words:
    """The catalogue in one language (Dutch for anything unknown, the shop's own language)."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else LANGUAGES[0]
        self._entries = catalogue(self.language)

    def __call__(self, key: str, **params: object) -> str:
        return say(self.language, key, **params)

    def code(self, section: str, value: str | None) -> str:
        """The word for a stored code (``state``, ``right``, ``kind`` ...); the code itself if unknown."""
        if value is None:
            return ""
        text = self._entries.get(f"{section}.{value}")
        if text is None:
            log.warning("no %s word for %r in the %s catalogue", section, value, self.language)
            return value
        return text

    def codes(self, section: str, values: list[str]) -> str:
        return ", ".join(self.code(section, v) for v in values)

    def sentence(self, section: str, text: str | None) -> str:
        """An English sentence another module recorded (``reason``, ``note``), in this language.

        Reasons are joined with "; " (and some contain one), so the longest run of parts
        that is a known sentence is read at a time; a part that is none (an officer's own
        words) is kept as written.
        """
        if not text:
            return ""
        parts, said, start = text.split("; "), [], 0
        while start < len(parts):
            for end in range(len(parts), start, -1):
                found = self._known(section, "; ".join(parts[start:end]))
                if found is not None:
                    said.append(found)
                    start = end
                    break
            else:
                said.append(parts[start])
                start += 1
        return "; ".join(said)

    def _known(self, section: str, sentence: str) -> str | None:
        found = read(section, sentence)
        if found is None:
            return None
        key, values = found
        return self(key, **{name: self._value(name, value) for name, value in values.items()})

    def _value(self, name: str, value: str) -> str:
        """A placeholder that is itself a code (``{right}``) or a known reason (``{proof}``), in words."""
        section = {"right": "right", "decision": "decision", "state": "state"}.get(name)
        if section and f"{section}.{value}" in self._entries:
            return self.code(section, value)
        return self._known("reason", value) or self._known("task", value) or value

    def event(self, event: Any) -> str:
        """What a timeline step did, from its kind and data."""
        data = event.data or {}
        if event.kind == "transition":
            return self(
                "event.transition",
                **{"from": self.code("state", event.from_state), "to": self.code("state", event.to_state)},
            )
        key = f"event.{event.kind}"
        if key not in self._entries:
            log.warning("no word for event kind %r", event.kind)
            return str(event.kind)
        params = {"kind": self.code("kind", data.get("kind")), "right": self.code("right", data.get("right"))}
        return self(key, **{k: v for k, v in params.items() if "{" + k + "}" in self._entries[key]})

    def error(self, exc: Exception) -> str:
        """An OfficerError (key and values; a value that is itself such an error is said too) or a
        TransitionError (its case and state) as a flash."""
        key, params = getattr(exc, "key", None), getattr(exc, "params", None)
        if isinstance(key, str) and isinstance(params, dict):
            return self(key, **{name: self.error(v) if isinstance(getattr(v, "key", None), str)
                                else self._value(name, str(v)) for name, v in params.items()})
        refused = TRANSITION_REFUSED.match(str(exc))
        if refused:
            return self("officer_error.transition", case=refused["case"], state=self.code("state", refused["state"]))
        log.warning("an error without words: %s", exc)
        return self("error.other")

    def actor(self, name: str) -> str:
        return self(SYSTEM_ACTORS[name]) if name in SYSTEM_ACTORS else name

    def task(self, title: str) -> str:
        return self._known("task", title) or title

    def days_left(self, days: int) -> str:
        """ "3 dagen te laat", "vandaag", "1 dag": the deadline as a person says it."""
        if days < 0:
            return self("dash.overdue_one") if days == -1 else self("dash.overdue", days=-days)
        if days == 0:
            return self("dash.today")
        return self("dash.day") if days == 1 else self("dash.days", days=days)

    def size(self, size: int) -> str:
        if size < 1000:
            return self("confirm.bytes", n=size)
        if size < 1_000_000:
            return self("confirm.kb", n=round(size / 1000))
        return self("confirm.mb", n=f"{size / 1_000_000:.1f}")

    def when(self, moment: datetime | None) -> str:
        """Date and time in Amsterdam: "1 dec 2026 14:05"."""
        if moment is None:
            return ""
        local = moment.astimezone(AMSTERDAM)
        return f"{self.day(moment)} {local:%H:%M}"

    def day(self, moment: datetime | date | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(AMSTERDAM) if isinstance(moment, datetime) else moment
        return f"{local.day} {self(f'month.{local.month}')} {local.year}"

    def weekday(self, day: date) -> str:
        return self(f"weekday.{day.isoweekday()}")

    def step(self, key: str, values: dict[str, Any]) -> str:
        """A deadline step (present.deadline_steps): dates and codes in words."""
        said: dict[str, object] = {}
        for name, value in values.items():
            if isinstance(value, datetime):
                said[name] = self.when(value)
            elif isinstance(value, date):
                said[name] = f"{self.weekday(value)} {self.day(value)}"
            else:
                said[name] = self(value) if isinstance(value, str) and value in self._entries else value
        return self(key, **said)


def translator(language: str) -> Words:
    return Words(language)
