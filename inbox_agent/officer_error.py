"""The error every officer action raises when it cannot be done, in words she understands.

A module of its own so that the cheap read paths (the work queue, the list to check) can
raise and catch it without importing the officer's actions and the desk behind them.
"""

from __future__ import annotations

from .messages import say


class OfficerError(ValueError):
    """An action that cannot be done, in words the officer understands.

    Raised with a catalogue key (section ``officer_error``) and its values: the CLI prints
    the English sentence (``str``), the web page says it in the officer's language.
    """

    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = f"officer_error.{key}", params
        super().__init__(say("en", self.key, **params))
