"""Where the shipped rules and mail texts are read from, and where rebuildable caches go.

``classifiers/`` and ``templates/`` live at the top of the repository, where the officer edits
them. A wheel carries them inside the package (pyproject's force-include), so an installed agent
finds them through importlib.resources; an editable checkout has no copy inside the package and
reads the repository's own folders, so an edit there shows at the next start.

Nothing is ever written into the package: an install may be read-only (``ProtectSystem=strict``).
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Literal

Shipped = Literal["classifiers", "templates"]


def shipped(name: Shipped) -> Path:
    """The folder of shipped ``classifiers`` or ``templates``, installed or in the checkout."""
    package = files(__package__ or "inbox_agent")
    if not isinstance(package, Path):  # pragma: no cover - pip installs packages as files, never zipped
        raise RuntimeError(f"inbox-agent must be installed as files, not inside {package}")
    inside = package / name
    return inside if inside.is_dir() else package.parent / name


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/inbox-agent`` (default ``~/.cache/inbox-agent``): caches when no state_dir is known."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inbox-agent"
