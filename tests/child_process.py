"""Processes a test starts must not outlive the test run.

A daemon or server started with ``start_new_session`` (so a test can SIGKILL its whole group)
is no longer in pytest's process group: when the run itself is killed (a CI timeout, Ctrl-C
twice, a crashed xdist worker) nothing stops it, and orphaned ``inbox-agent run`` processes
were seen polling for half an hour afterwards. Linux's parent-death signal ends them with
the process that started them.

The signal follows the *thread* that started the child: use it only for children started from
the test's own thread, never from a scenario thread that ends before the test does.
"""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def ends_with_the_tests() -> None:
    """``preexec_fn`` for Popen: the child gets SIGKILL when the test process dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
