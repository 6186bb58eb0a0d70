"""``import spacy`` without spaCy's command line: imported before the first ``import spacy`` (``classify`` does).

spaCy's package ``__init__`` imports ``spacy.cli.info`` for ``spacy.info``, and with it every command of spaCy's CLI
(weasel, typer, httpx, requests, rich, jinja2): about a third of ``import spacy`` (0.35-0.4 s of 0.8-1.2 s on the dev
machine), paid by every cold ``inbox-agent classify``. The classifier uses none of it. ``spacy.cli`` and
``spacy.cli.info`` stand in as modules that import the real ones at the first name asked of them, so
``spacy.cli.download`` or ``spacy.info()`` still work. Nothing happens when spaCy is already imported.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

DEFERRED = ("spacy.cli", "spacy.cli.info")


class _Deferred(types.ModuleType):
    """A stand-in for a spaCy CLI module: the first name asked of it imports the real module (for the package also
    its ``__path__``, which ``import spacy.cli.download`` asks for). Other dunder names are the import machinery's
    questions ("is ``spacy.cli.info`` a package?" while spaCy imports it): no real module for those."""

    def __init__(self, name: str, package: bool) -> None:
        super().__init__(name)
        self._package = package

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and not (name == "__path__" and self._package):
            raise AttributeError(name)
        return getattr(_real(self.__name__), name)


def _real(name: str) -> types.ModuleType:
    """The real module ``name``, imported now in place of the stand-ins."""
    for stub in DEFERRED:
        if isinstance(sys.modules.get(stub), _Deferred):
            del sys.modules[stub]
    return importlib.import_module(name)


def _info(*args: Any, **kwargs: Any) -> Any:
    """``spacy.info`` as spaCy binds it at import: the real one, imported at the first call."""
    return _real("spacy.cli.info").info(*args, **kwargs)


def defer_cli() -> None:
    """Stand-ins for ``spacy.cli`` and ``spacy.cli.info`` while spaCy is imported, unless it already is."""
    if "spacy" in sys.modules:
        return
    cli, info = _Deferred("spacy.cli", package=True), _Deferred("spacy.cli.info", package=False)
    info.info = _info  # type: ignore[attr-defined]  # what ``from .cli.info import info`` in spaCy's __init__ takes
    sys.modules.update({"spacy.cli": cli, "spacy.cli.info": info})
    import spacy

    spacy.cli = cli  # type: ignore[attr-defined]  # the package attribute the import of a submodule would set


defer_cli()
