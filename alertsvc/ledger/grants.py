"""Grants and revocations: who may read (and write) which trees of a patient's ledger, and until when.

A grant is a patient-signed ``grant`` entry whose body is a FHIR Consent; its id is its entry id. A
revocation is a patient-signed ``revocation`` entry naming the grant id; it ends the grant early. A
practitioner may write medication, allergy, reaction or observation entries under a grant whose write
scope covers that kind and whose grantee is the practitioner; such entries carry ``grant`` = the grant id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from alertsvc.errors import (
    GrantExpired,
    GrantNotYetValid,
    GrantRevoked,
    InputError,
    OutOfScope,
    UnknownKind,
    UnknownSigner,
    WrongGrantee,
)
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import (
    CLINICAL_KINDS,
    TREE_OF_KIND,
    SignedEntry,
    format_time,
    parse_time,
    require_dict,
    require_list,
    require_str,
    sign_entry,
)
from alertsvc.ledger.identity import Identity, public_key_of

SCOPES = ("medications", "allergies", "reactions", "observations")
DEFAULT_PURPOSE = "admission"
HANDOVER_PURPOSE = "handover"
"""A write grant the patient signs when she imports entries handed over at discharge
(``ledger import-entries``): it endorses entries written under her grant to that grantee whose write
scope did not cover them (see ``authorising_grant``)."""


def parse_scope(text: str | Iterable[str], *, what: str = "scope") -> frozenset[str]:
    """``"medications,allergies"`` (or a list of names) -> a set of scope names; unknown names are refused."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in SCOPES]
    if unknown:
        raise UnknownKind(f"{what}: unknown scope {unknown[0]!r}: expected some of {', '.join(SCOPES)}")
    return frozenset(names)


@dataclass(frozen=True)
class Grant:
    """A verified grant: ``scope`` readable, ``write_scope`` writable, within [not_before, expires_at)."""

    id: str
    resource_id: str
    patient: str
    grantee: str
    scope: frozenset[str]
    write_scope: frozenset[str]
    not_before: datetime
    expires_at: datetime
    purpose: str
    created: datetime

    @property
    def trees(self) -> tuple[str, ...]:
        """The trees a slice for this grant carries whole: the scope, then always ``revocations``."""
        return (*(s for s in SCOPES if s in self.scope), "revocations")

    def may_write(self, kind: str) -> bool:
        return kind in CLINICAL_KINDS and TREE_OF_KIND[kind] in self.write_scope


@dataclass(frozen=True)
class Revocation:
    """A verified revocation: the patient ended grant ``grant_id`` at ``created``."""

    id: str
    grant_id: str
    patient: str
    created: datetime


def _patient_only(entry: SignedEntry, kind: str) -> str:
    what = f"{kind} entry {entry.id}"
    if entry.kind != kind:
        raise InputError(f"entry {entry.id} is a {entry.kind}, not a {kind}")
    if entry.author != entry.patient or entry.grant is not None:
        raise UnknownSigner(
            f"{what} is signed by {entry.author}; only the patient {entry.patient} signs {kind}s"
        )
    return what


def read_grant(entry: SignedEntry) -> Grant:
    """The grant terms in a grant entry's Consent body (InputError naming the entry if malformed)."""
    what = _patient_only(entry, "grant")
    body = entry.body
    if body.get("resourceType") != "Consent" or body.get("status") != "active":
        raise InputError(f"{what}: body must be an active Consent")
    if fhir.read_identity_ref(body.get("patient"), what=f"{what} patient") != entry.patient:
        raise InputError(f"{what}: Consent.patient is not the entry's patient")
    provision = require_dict(body.get("provision"), what=f"{what} provision")
    period = require_dict(provision.get("period"), what=f"{what} provision.period")
    actors = require_list(provision.get("actor"), what=f"{what} provision.actor")
    if len(actors) != 1:
        raise InputError(f"{what}: a grant names exactly one grantee in provision.actor")
    grantee = fhir.read_identity_ref(
        require_dict(actors[0], what=f"{what} actor").get("reference"), what=f"{what} grantee"
    )
    reads: set[str] = set()
    writes: set[str] = set()
    for concept in require_list(provision.get("code"), what=f"{what} provision.code"):
        for coding in require_list(
            require_dict(concept, what=f"{what} code").get("coding"), what=f"{what} code"
        ):
            coding = require_dict(coding, what=f"{what} coding")
            if coding.get("system") != fhir.SCOPE_SYSTEM:
                continue
            access, _, name = require_str(coding.get("code"), what=f"{what} scope code").partition(":")
            target = {"read": reads, "write": writes}.get(access)
            if target is None:
                raise UnknownKind(f"{what}: unknown access {access!r} in scope code")
            target.add(name)
    purposes = require_list(provision.get("purpose"), what=f"{what} provision.purpose")
    if not purposes:
        raise InputError(f"{what}: provision.purpose names no purpose")
    purpose = require_str(
        require_dict(purposes[0], what=f"{what} purpose").get("code"), what=f"{what} purpose"
    )
    if not purpose.strip():
        raise InputError(f"{what}: provision.purpose names no purpose")
    grant = Grant(
        id=entry.id,
        resource_id=require_str(body.get("id"), what=f"{what} id"),
        patient=entry.patient,
        grantee=grantee,
        scope=parse_scope(reads, what=what),
        write_scope=parse_scope(writes, what=what),
        not_before=parse_time(period.get("start"), what=f"{what} period.start"),
        expires_at=parse_time(period.get("end"), what=f"{what} period.end"),
        purpose=purpose,
        created=entry.created,
    )
    if grant.expires_at <= grant.not_before:
        raise InputError(f"{what}: period ends before it starts")
    return grant


def read_revocation(entry: SignedEntry) -> Revocation:
    what = _patient_only(entry, "revocation")
    body = entry.body
    if body.get("resourceType") != "Consent" or body.get("status") != "inactive":
        raise InputError(f"{what}: body must be an inactive Consent")
    source = require_dict(body.get("sourceReference"), what=f"{what} sourceReference")
    ident = require_dict(source.get("identifier"), what=f"{what} sourceReference.identifier")
    if ident.get("system") != fhir.ENTRY_SYSTEM:
        raise InputError(f"{what}: sourceReference must name a grant entry ({fhir.ENTRY_SYSTEM})")
    grant_id = require_str(ident.get("value"), what=f"{what} grant id")
    return Revocation(id=entry.id, grant_id=grant_id, patient=entry.patient, created=entry.created)


def new_grant(
    patient: Identity,
    *,
    grantee: str,
    scope: Iterable[str],
    write_scope: Iterable[str] = (),
    not_before: datetime,
    hours: float,
    now: datetime,
    purpose: str = DEFAULT_PURPOSE,
    resource_id: str | None = None,
) -> SignedEntry:
    """A signed grant entry for ``grantee`` lasting ``hours`` from ``not_before``."""
    reads, writes = parse_scope(scope), parse_scope(write_scope, what="write scope")
    if not reads and not writes:
        raise InputError(f"a grant needs at least one scope ({', '.join(SCOPES)})")
    if not hours > 0:
        raise InputError(f"a grant lasts a positive number of hours, not {hours}")
    if not purpose.strip():
        raise InputError("a grant needs a purpose (e.g. admission)")
    public_key_of(grantee)  # IdentityError naming a malformed grantee id
    start = parse_time(format_time(not_before), what="not_before")
    body = fhir.grant_consent(
        resource_id=resource_id or fhir.new_resource_id(),
        patient=patient.public_id,
        grantee=grantee,
        scope=reads,
        write_scope=writes,
        not_before=start,
        expires_at=start + timedelta(hours=hours),
        purpose=purpose,
        created=now,
    )
    return sign_entry(patient, kind="grant", patient=patient.public_id, body=body, created=now)


def new_revocation(patient: Identity, grant: Grant, *, now: datetime) -> SignedEntry:
    body = fhir.revocation_consent(
        grant_resource_id=grant.resource_id, patient=patient.public_id, grant_entry_id=grant.id, created=now
    )
    return sign_entry(patient, kind="revocation", patient=patient.public_id, body=body, created=now)


def check_current(grant: Grant, *, now: datetime, revocations: Iterable[Revocation]) -> None:
    """Raise GrantRevoked, GrantNotYetValid or GrantExpired unless ``grant`` holds at ``now``."""
    for revocation in revocations:
        if revocation.grant_id == grant.id:
            raise GrantRevoked(f"grant {grant.id} was revoked at {format_time(revocation.created)}")
    if now < grant.not_before:
        raise GrantNotYetValid(f"grant {grant.id} is valid from {format_time(grant.not_before)}")
    if now >= grant.expires_at:
        raise GrantExpired(f"grant {grant.id} expired at {format_time(grant.expires_at)}")


def check_grantee(grant: Grant, grantee: str | None) -> None:
    if grantee is not None and grant.grantee != grantee:
        raise WrongGrantee(f"grant {grant.id} is for {grant.grantee}, not {grantee}")


def check_practitioner_write(
    entry: SignedEntry, grants: Mapping[str, Grant], *, now: datetime, revocations: Iterable[Revocation]
) -> None:
    """At append time: may ``entry`` (not by the patient) be written under its grant at ``now``?"""
    problem = write_problem(entry, grants)
    if problem is not None:
        error = OutOfScope if "write scope" in problem else UnknownSigner
        raise error(f"{entry.kind} entry {entry.id}: {problem}")
    assert entry.grant is not None
    authority = authorising_grant(entry, grants)
    assert authority is not None
    check_current(authority, now=now, revocations=revocations)


def authorising_grant(entry: SignedEntry, grants: Mapping[str, Grant]) -> Grant | None:
    """The grant a practitioner entry is written under: the grant it names when that grant's write scope
    covers its kind; else a handover grant (purpose ``handover``) the patient signed to the same grantee
    whose write scope covers the kind and whose period holds the entry's time, so entries recorded in
    hospital without a write grant enter her ledger only when she imports them herself."""
    if entry.grant is None:
        return None
    named = grants.get(entry.grant)
    if named is None or named.grantee != entry.author or named.may_write(entry.kind):
        return named
    for grant in grants.values():
        if (
            grant.purpose == HANDOVER_PURPOSE
            and grant.grantee == entry.author
            and grant.may_write(entry.kind)
            and grant.not_before <= entry.created < grant.expires_at
        ):
            return grant
    return named


def write_problem(entry: SignedEntry, grants: Mapping[str, Grant]) -> str | None:
    """Why ``entry``'s author may not have written it (None when the patient or a write grantee did).

    Checks authorship only (grantee, write scope, entry time within the grant's period); whether the
    grant was revoked before the entry is for the caller, who knows the order of events.
    """
    if entry.author == entry.patient:
        return None
    if entry.kind not in CLINICAL_KINDS:
        return f"signed by {entry.author}; only the patient signs {entry.kind}s"
    if entry.grant is None:
        return f"signed by {entry.author}, who is not the patient and names no write grant"
    grant = authorising_grant(entry, grants)
    if grant is None:
        return (
            f"signed by {entry.author} under grant {entry.grant}, which is not a known grant of this ledger"
        )
    if grant.grantee != entry.author:
        return f"signed by {entry.author}, but grant {grant.id} is for {grant.grantee}"
    if not grant.may_write(entry.kind):
        return f"grant {grant.id}'s write scope does not cover {entry.kind} entries"
    if not grant.not_before <= entry.created < grant.expires_at:
        return f"written at {format_time(entry.created)}, outside grant {grant.id}'s period"
    return None
