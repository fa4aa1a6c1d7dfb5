"""A measured value, recorded in the patient's ledger or on the ward, as the check's modifiers take it.

The ledger knows LOINC codes and UCUM units (``alertsvc.ledger.observations``); the knowledge knows what a
value means for a drug pair (``alertsvc.knowledge.observations``). Neither imports the other: this module
is where the service side and the ``check`` command join them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from alertsvc.knowledge.observations import LabValue
from alertsvc.ledger.observations import Observation, Quantity


def lab_value(quantity: Quantity, *, measured: datetime, ref: str) -> LabValue:
    """A checked value as the check's modifiers take it (``alertsvc.knowledge.observations``)."""
    code = quantity.code
    unit = "" if code.analyte == "inr" else code.unit_display
    return LabValue(code.analyte, quantity.value, unit, measured, code.code, ref, code.short)


def lab_values(found: Iterable[Observation], *, ref_prefix: str = "entry:") -> list[LabValue]:
    """Verified observation entries (or ward-recorded ones) as the check's modifiers take them."""
    return [lab_value(o.quantity, measured=o.effective, ref=ref_prefix + o.entry_id) for o in found]
