"""What the ward's list carries with each alert beside its signed claims (acknowledgements, follow-ups,
doses given under it, upstream decisions), and which alerts it keeps whatever a check finds: reads of the
service database that the check (``alertsvc.reconciling``), the ward's views and the actions on an alert
(``alertsvc.alert_actions``) share.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alertsvc.alerts import follow_up_store as fu_store
from alertsvc.alerts import store as alert_store
from alertsvc.alerts.follow_up_store import KEEP_ANSWERED
from alertsvc.clock import iso
from alertsvc.store import Database
from alertsvc.upstream import upstream_overrides


def listed_extras(db: Database, alert_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the ward's list carries with each alert beside its signed claims: every acknowledgement,
    follow-up, dose given under it with its reason, and upstream (CDS Hooks) overrides."""
    acks = alert_store.acknowledgements(db, alert_ids)
    follow = fu_store.follow_ups(db, alert_ids)
    given = fu_store.overrides(db, alert_ids)
    upstream = upstream_overrides(db, alert_ids)
    return {
        a: {
            "acknowledgements": [x.as_json() for x in acks[a]],
            "follow_ups": [x.as_json() for x in follow[a]],
            "overrides": [x.as_json() for x in given[a]],
            "upstream": upstream[a],
        }
        for a in alert_ids
    }


def kept_alerts(db: Database, admission: str, now: datetime) -> set[str]:
    """Alerts that stay listed whatever the check finds: a follow-up open, or answered within a day."""
    rows = db.execute(
        "SELECT alert FROM follow_ups WHERE admission = ? AND (state = 'open' OR closed_at > ?)",
        [admission, iso(now - KEEP_ANSWERED)],
    ).fetchall()
    return {row[0] for row in rows}
