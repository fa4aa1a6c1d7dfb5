"""The ward's view of each admitted patient's allergy status (known, none known, not recorded, not
shared), listed beside the ward's alerts so the night shift can tell "no allergies" from "nobody asked".

The status is computed from the admission's verified slice and grant (``ledger.allergy_status``, pure);
reading it is a read of the patient's data, so each admission listed is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alertsvc import admissions as adm
from alertsvc import audit, bedside, storage
from alertsvc.ledger.allergy_status import allergy_status
from alertsvc.web.auth import Staff, require

if TYPE_CHECKING:
    from alertsvc.service import Service


async def ward_admissions(service: Service, ward_id: str, staff: Staff) -> list[dict[str, Any]]:
    """Each active admission of the ward (by bed) with its ``allergy_status`` object."""
    require(staff, ward=ward_id, roles=("nurse",))
    now = service.clock()
    admitted = sorted(adm.active_admissions(service.db, ward=ward_id), key=lambda a: (a.bed, a.id))
    patients = await service.patients_of([a.id for a in admitted], now)
    listed = []
    for admission in admitted:
        verified = patients[admission.id].verified
        listed.append(
            {
                "admission": admission.id,
                "bed": admission.bed,
                "patient": admission.label,
                "allergy_status": allergy_status(
                    *bedside.allergy_trees(service.db, admission.id, verified)  # with the ward's own
                ).as_json(),
            }
        )
    with storage.write(service.db):
        for admission in admitted:
            audit.record(
                service.db,
                now=now,
                actor=staff.name,
                action="read-allergy-status",
                admission=admission.id,
                ward=ward_id,
            )
    return listed
