"""The daemon limits glibc's malloc arenas where there is a glibc, and starts anyway where there is none."""

from __future__ import annotations

import ctypes
import platform

import pytest

from inbox_agent import malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_limit() -> None:
    assert malloc_arenas.limit() is True


def test_without_mallopt_the_daemon_still_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMallopt:
        def __init__(self, name: object) -> None:
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert malloc_arenas.limit() is False
