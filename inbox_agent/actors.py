"""The actors that are no person: what the audit trail and the timelines name instead of an officer.

Kept apart from accounts.py (password hashing, SQLAlchemy) so the page words (web/i18n.py) can
name them without loading either; accounts.py refuses these names for an officer account.
"""

CLI_ACTOR = "command line"
"""The actor of an account change made with ``inbox-agent officer`` (``AccountEvent``): no account logs in there."""
SYSTEM_ACTORS = {"agent": "timeline.agent", "scheduler": "timeline.scheduler", CLI_ACTOR: "history.command_line"}
"""Actors that are no person, and the catalogue key of their words (the others are officers' names)."""
