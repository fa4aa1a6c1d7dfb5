"""What the patient's pages show, as plain JSON: pure functions of a verified ledger and ``now``.

Every clinical item says who signed it (``signed_by`` "patient" or "practitioner", and ``author``, the
signer's public id). Medications are the latest statement per medication, stopped ones included and
marked ``status: "stopped"``. Grants carry their status at ``now`` and ``expiring_soon`` when an active
grant ends within ``EXPIRY_WARNING``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from alertsvc.ledger import fhir
from alertsvc.ledger.allergy_status import allergy_status
from alertsvc.ledger.entries import format_time
from alertsvc.ledger.grants import SCOPES, Grant, Revocation
from alertsvc.ledger.log import LedgerSnapshot
from alertsvc.ledger.observations import Observation, current_observations
from alertsvc.ledger.practitioners import annotated, recorded_by
from alertsvc.ledger.remote import grant_link

EXPIRY_WARNING = timedelta(hours=2)
GRANT_FILE_TYPE = "alertsvc-grant"  # the format `alertsvc ledger grant --out` writes

GrantStatus = Literal["active", "not-yet-valid", "expired", "revoked"]


def _signer(patient: str, author: str) -> dict[str, str]:
    return {"signed_by": "patient" if author == patient else "practitioner", "author": author}


def _medication(patient: str, item: fhir.Medication) -> dict[str, Any]:
    return {
        "entry": item.entry_id,
        "resource": item.resource_id,
        "drug": item.drug,
        "rxcui": item.rxcui,
        "dose": item.dose,
        "status": item.status,
        "recorded": format_time(item.recorded),
        **_signer(patient, item.author),
    }


def _allergy(patient: str, item: fhir.Allergy) -> dict[str, Any]:
    return {
        "entry": item.entry_id,
        "resource": item.resource_id,
        "substance": item.substance,
        "rxcui": item.rxcui,
        "criticality": item.criticality,
        "category": item.category,
        "reaction": item.reaction,
        "recorded": format_time(item.recorded),
        **_signer(patient, item.author),
    }


def _reaction(patient: str, item: fhir.Reaction) -> dict[str, Any]:
    return {
        "entry": item.entry_id,
        "resource": item.resource_id,
        "drug": item.drug,
        "rxcui": item.rxcui,
        "reaction": item.reaction,
        "severity": item.severity,
        "observed": item.observed,
        "recorded": format_time(item.recorded),
        **_signer(patient, item.flagged_by),
    }


def _observation(patient: str, item: Observation) -> dict[str, Any]:
    code = item.quantity.code
    return {
        "entry": item.entry_id,
        "resource": item.resource_id,
        "code": code.code,
        "name": code.short,
        "value": item.quantity.value,
        "unit": code.unit_display if code.analyte != "inr" else "",
        "text": item.quantity.text,
        "measured": format_time(item.effective),
        "recorded": format_time(item.recorded),
        "performer": item.performer,
        **_signer(patient, item.author),
    }


def grant_status(grant: Grant, revocation: Revocation | None, *, now: datetime) -> GrantStatus:
    if revocation is not None:
        return "revoked"
    if now < grant.not_before:
        return "not-yet-valid"
    if now >= grant.expires_at:
        return "expired"
    return "active"


def grant_view(grant: Grant, revocation: Revocation | None, *, now: datetime, url: str) -> dict[str, Any]:
    """One grant for the pages: its terms, status, and where to get its files and QR code."""
    status = grant_status(grant, revocation, now=now)
    left = grant.expires_at - now
    base = f"/api/grants/{grant.id}"
    return {
        "id": grant.id,
        "grantee": grant.grantee,
        "scope": [s for s in SCOPES if s in grant.scope],
        "write": sorted(grant.write_scope),
        "purpose": grant.purpose,
        "created": format_time(grant.created),
        "not_before": format_time(grant.not_before),
        "expires_at": format_time(grant.expires_at),
        "status": status,
        "revoked_at": None if revocation is None else format_time(revocation.created),
        "seconds_left": max(int(left.total_seconds()), 0) if status != "revoked" else 0,
        "expiring_soon": status == "active" and left <= EXPIRY_WARNING,
        "link": grant_link(url, grant.id, grant.patient),
        "files": {
            "grant": f"{base}/grant.json",
            "slice": f"{base}/slice.json",
            "qr": f"{base}/qr.svg",
        },
    }


def revocations_by_grant(revocations: Iterable[Revocation]) -> dict[str, Revocation]:
    found: dict[str, Revocation] = {}
    for revocation in revocations:
        found.setdefault(revocation.grant_id, revocation)
    return found


def ledger_view(snapshot: LedgerSnapshot, *, now: datetime, url: str) -> dict[str, Any]:
    """The whole ledger for the pages: clinical items, grants (newest first), the head, ``now``."""
    patient = snapshot.patient
    medications = {m.resource_id: m for m in map(fhir.read_medication, snapshot.trees["medications"])}
    revoked = revocations_by_grant(snapshot.revocations())
    grants = sorted(snapshot.grants().values(), key=lambda g: (g.created, g.id), reverse=True)
    view = {
        "patient": patient,
        "now": format_time(now),
        "url": url,
        "head": {"seq": snapshot.latest.seq, "timestamp": format_time(snapshot.latest.timestamp)},
        "medications": [_medication(patient, m) for m in medications.values()],
        "allergies": [_allergy(patient, a) for a in fhir.current_allergies(snapshot.trees["allergies"])],
        "allergy_status": allergy_status(snapshot.trees, None).as_json(),
        "reactions": [_reaction(patient, r) for r in fhir.current_reactions(snapshot.trees["reactions"])],
        "observations": [
            _observation(patient, o) for o in current_observations(snapshot.trees["observations"])
        ],
        "grants": [grant_view(g, revoked.get(g.id), now=now, url=url) for g in grants],
        "expiry_warning_seconds": int(EXPIRY_WARNING.total_seconds()),
    }
    _name_recorders(snapshot, view)
    return view


def _name_recorders(snapshot: LedgerSnapshot, view: dict[str, Any]) -> None:
    """Each practitioner entry's ``recorded_by`` (clinician, role, ward, hospital), for "recorded by Nia
    Brown (nurse), ward-5, signed by St Elsewhere" (null on the patient's own), and her ``notes`` on it
    (her note entries are shown under the entry they are about, not as items of their own)."""
    recorders = {
        e.id: recorded_by(e)
        for tree in ("medications", "allergies", "reactions")
        for e in snapshot.trees[tree]
        if e.author != snapshot.patient
    }
    notes: dict[str, list[dict[str, Any]]] = {}
    note_ids: set[str] = set()
    for tree in ("allergies", "reactions"):
        for entry in snapshot.trees[tree]:
            target = annotated(entry)
            if target is not None:
                note_ids.add(entry.id)
                first = (entry.body.get("note") or [{}])[0]
                text = str(first.get("text", "")) if isinstance(first, dict) else ""
                notes.setdefault(target, []).append(
                    {"entry": entry.id, "text": text, "recorded": format_time(entry.created)}
                )
    for name in ("medications", "allergies", "reactions"):
        view[name] = [item for item in view[name] if item["entry"] not in note_ids]  # shown under theirs
        for item in view[name]:
            who = recorders.get(item["entry"])
            item["recorded_by"] = None if who is None else who.as_json()
            if who is not None:
                item["notes"] = notes.get(item["entry"], [])


def grant_file(grant: Grant, *, url: str) -> dict[str, Any]:
    """The grant file to hand to the hospital: the fields of ``alertsvc ledger grant --out`` and the
    ledger server's address (``ledger_url``) and grant link, instead of a local file path."""
    return {
        "type": GRANT_FILE_TYPE,
        "v": 1,
        "grant": grant.id,
        "patient": grant.patient,
        "grantee": grant.grantee,
        "scope": sorted(grant.scope),
        "write": sorted(grant.write_scope),
        "not_before": format_time(grant.not_before),
        "expires_at": format_time(grant.expires_at),
        "purpose": grant.purpose,
        "ledger_url": url,
        "link": grant_link(url, grant.id, grant.patient),
    }
