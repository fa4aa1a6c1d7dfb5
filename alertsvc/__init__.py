"""alertsvc: clinical-safety interaction alerting.

The patient owns a signed health ledger; the hospital service verifies a time-limited grant and slice of
it, checks the slice against a drug interaction graph, the patient's flagged reactions and the ward's
medication administration schedule, and pushes signed alerts to every shift's ward view.
"""

__version__ = "0.1.0"
