"""The desk: what every case operation is handed (one shop's settings, the clock, who acts).

A module of its own because every stage that changes cases (pipeline, scheduler, officer, web,
CLI) makes one, and importing it must not import the case operations behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..config import MailboxSettings, Settings
from ..withdrawal import Cues


@dataclass(frozen=True)
class Desk:
    """What case operations need to know: one shop's settings, the clock and who acts."""

    settings: Settings
    box: MailboxSettings
    now: datetime
    cues: Cues
    actor: str = "agent"

    @property
    def shop(self) -> str:
        return self.box.name

    @property
    def domain(self) -> str:
        return self.settings.smtp.from_address.rpartition("@")[2]
