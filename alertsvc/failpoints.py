"""Failpoints: named places where a crash test can make the process die at once (SIGKILL).

Enabled only by the ``failpoints`` setting (``ALERTSVC_FAILPOINTS``), which a hospital never sets: it
exists so a test can kill the real service at exactly the worst moment, e.g. after an alert is committed
to the outbox and before it is pushed to any stream, and then show that nothing was lost.
"""

from __future__ import annotations

import os
import signal

AFTER_COMMIT_BEFORE_PUBLISH = "after-commit-before-publish"
KNOWN = frozenset({AFTER_COMMIT_BEFORE_PUBLISH})


def hit(name: str, enabled: str) -> None:
    """Die here, as a power cut would, when failpoint ``name`` is in ``enabled`` (comma-separated)."""
    if name in {part.strip() for part in enabled.split(",")}:
        os.kill(os.getpid(), signal.SIGKILL)
