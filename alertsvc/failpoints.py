"""Failpoints: named places where a crash test can make the process die at once (SIGKILL).

Enabled only by the ``failpoints`` setting (``ALERTSVC_FAILPOINTS``), which a hospital never sets: it
exists so a test can kill the real service at exactly the worst moment, e.g. after an alert is committed
to the outbox and before it is pushed to any stream, and then show that nothing was lost.

The setting is a comma-separated list of names, each optionally ``@N``: die at the N-th time the process
reaches that place (the first time without ``@N``), e.g. ``answer-stored-before-commit@3``.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

from alertsvc.errors import ConfigError

AFTER_COMMIT_BEFORE_PUBLISH = "after-commit-before-publish"
"""An alert is committed to the outbox and not yet pushed to any stream."""
ANSWER_STORED_BEFORE_COMMIT = "answer-stored-before-commit"
"""A write and its Idempotency-Key answer are in the transaction, which has not committed."""
AFTER_COMMIT_BEFORE_ANSWER = "after-commit-before-answer"
"""A keyed write has committed and its answer is not yet sent to the client."""
KEY_DESTROYED_BEFORE_PURGE = "key-destroyed-before-purge"
"""A purge has committed the destruction of the admission's data key and not yet deleted its rows."""
KNOWN = frozenset(
    {
        AFTER_COMMIT_BEFORE_PUBLISH,
        ANSWER_STORED_BEFORE_COMMIT,
        AFTER_COMMIT_BEFORE_ANSWER,
        KEY_DESTROYED_BEFORE_PURGE,
    }
)


class Failpoints:
    """The failpoints a process was started with, and how often each has been reached."""

    def __init__(self, enabled: str) -> None:
        self.armed: dict[str, int] = {}
        for part in (p.strip() for p in enabled.split(",")):
            if part:
                name, _, nth = (p.strip() for p in part.partition("@"))
                if name not in KNOWN or not (nth.isdigit() or not nth):
                    raise ConfigError(
                        f"failpoint {part!r}: one of {', '.join(sorted(KNOWN))}, then @N or nothing"
                    )
                self.armed[name] = int(nth) if nth else 1
        self.reached: Counter[str] = Counter()

    def hit(self, name: str) -> None:
        """Die here, as a power cut would, when ``name`` is armed and reached for the N-th time."""
        if name in self.armed:
            self.reached[name] += 1
            if self.reached[name] >= self.armed[name]:
                os.kill(os.getpid(), signal.SIGKILL)


def hit(name: str, enabled: str) -> None:
    """Die here when failpoint ``name`` is in ``enabled`` (the first time it is reached)."""
    Failpoints(enabled).hit(name)
