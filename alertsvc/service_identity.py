"""The service's own Ed25519 identity: created (mode 0600) on first start if absent, loaded after."""

from __future__ import annotations

import logging
from pathlib import Path

from alertsvc.ledger.identity import Identity

log = logging.getLogger("alertsvc.service")


def load_or_create(path: Path) -> Identity:
    """The identity in ``path``; a new one written there (0600, never overwriting) when there is none."""
    if path.exists():
        return Identity.load(path)
    identity = Identity.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    identity.save(path)
    log.info("created the service identity %s in %s", identity.public_id, path)
    return identity
