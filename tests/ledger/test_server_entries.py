"""``POST /entries`` on the patient's ledger server (real uvicorn on 127.0.0.1, real signed requests):
practitioner entries of a write grantee are appended once; forged, tampered, out-of-scope, expired,
revoked, wrong-kind and grant-less entries are refused with a clear error and nothing appended."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from alertsvc.ledger import actions, grants, observations
from alertsvc.ledger.entries import SignedEntry, sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.practitioners import (
    Clinician,
    Hospital,
    no_known_allergies_entry,
    observation_body,
    practitioner_entry,
    reaction_body,
)
from alertsvc.ledger.remote_entries import Refusal, entries_body, post_entries
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.patient_server.server import create_ledger_app
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, STRANGER
from tests.servers import serve_app

NURSE = Clinician("Nia Brown", "nurse", "ward-5")
CSRF = "page-token"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Served:
    url: str
    path: Path
    clock: Clock
    write: SignedEntry  # a grant to HOSPITAL: read all, write reactions and allergies
    read_only: SignedEntry  # a grant to HOSPITAL: read only

    def entries(self) -> int:
        with Ledger.open(self.path) as ledger:
            snapshot = ledger.verify()
        return sum(len(t) for name, t in snapshot.trees.items() if name not in ("grants", "revocations"))

    def post(self, entries: list[SignedEntry], signer: Identity = HOSPITAL) -> dict[str, object]:
        return post_entries(
            self.url,
            [e.envelope() for e in entries],
            signer,
            patient=PATIENT.public_id,
            timeout=10,
            now=self.clock.now,
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    clock = Clock(NOW)
    path = tmp_path / "p.ledger"
    scope = ("medications", "allergies", "reactions")
    write = grants.new_grant(
        PATIENT,
        grantee=HOSPITAL.public_id,
        scope=scope,
        write_scope=("reactions", "allergies"),
        not_before=NOW,
        hours=48,
        now=NOW,
    )
    read_only = grants.new_grant(
        PATIENT, grantee=HOSPITAL.public_id, scope=scope, not_before=NOW, hours=48, now=NOW
    )
    with Ledger.init(path, PATIENT, now=NOW) as ledger:
        ledger.append([write, read_only], patient=PATIENT, now=NOW)
    for url in serve_app(create_ledger_app(path, PATIENT, clock=clock, csrf_token=CSRF)):
        yield Served(url, path, clock, write, read_only)


def rash(grant_id: str, *, signer: Identity = HOSPITAL, at: datetime = NOW) -> SignedEntry:
    body = reaction_body(
        patient=PATIENT.public_id,
        clinician=NURSE,
        hospital=Hospital(signer.public_id, "St Elsewhere"),
        drug="amoxicillin",
        rxcui="723",
        reaction="rash",
        severity="moderate",
        observed=at,
        recorded=at,
    )
    return practitioner_entry(
        signer, kind="reaction", patient=PATIENT.public_id, body=body, grant_id=grant_id, now=at
    )


def test_an_entry_is_appended_once_and_the_ledger_verifies(served: Served) -> None:
    entry = rash(served.write.id)
    first = served.post([entry])
    assert first["appended"] == [entry.id] and first["already"] == []
    again = served.post([entry])  # a retry after a lost answer: no duplicate
    assert again["appended"] == [] and again["already"] == [entry.id]
    assert served.entries() == 1
    with Ledger.open(served.path) as ledger:
        assert ledger.verify().trees["reactions"][0].id == entry.id
    # Her page names who recorded it, and it stays there after the grant ends.
    served.clock.now = NOW + timedelta(days=30)
    view = httpx.get(served.url + "/api/ledger", timeout=10).json()
    [shown] = view["reactions"]
    assert shown["entry"] == entry.id and shown["signed_by"] == "practitioner"
    assert shown["recorded_by"] == {
        "clinician": "Nia Brown",
        "role": "nurse",
        "ward": "ward-5",
        "hospital": "St Elsewhere",
        "hospital_id": HOSPITAL.public_id,
    }
    assert [g["status"] for g in view["grants"]] == ["expired", "expired"]


def refused(served: Served, entries: list[SignedEntry], signer: Identity = HOSPITAL) -> Refusal:
    with pytest.raises(Refusal) as caught:
        served.post(entries, signer)
    assert served.entries() == 0, "nothing is appended when an entry is refused"
    return caught.value


def tampered(entry: SignedEntry) -> dict[str, str]:
    envelope = entry.envelope()
    payload = base64.urlsafe_b64decode(envelope["payload"] + "==").replace(b"rash", b"rasp")
    envelope["payload"] = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return envelope


def test_a_tampered_entry_is_refused_and_nothing_is_appended(served: Served) -> None:
    good = rash(served.write.id)
    with pytest.raises(Refusal) as caught:
        post_entries(
            served.url,
            [good.envelope(), tampered(rash(served.write.id))],
            HOSPITAL,
            patient=PATIENT.public_id,
            timeout=10,
            now=NOW,
        )
    assert caught.value.code == "bad-signature" and "entries[1]" in str(caught.value)
    assert served.entries() == 0


@pytest.mark.parametrize(
    ("case", "code"),
    [
        pytest.param("read-only", "out-of-scope", id="no-write-grant"),
        pytest.param("stranger-author", "not-the-author", id="forged-author"),
        pytest.param("wrong-kind", "out-of-scope", id="wrong-kind"),
        pytest.param("unknown-grant", "no-such-grant", id="unknown-grant"),
        pytest.param("medication", "out-of-scope", id="out-of-scope-kind"),
    ],
)
def test_out_of_scope_and_forged_entries_are_refused(served: Served, case: str, code: str) -> None:
    if case == "read-only":
        entries = [rash(served.read_only.id)]
    elif case == "stranger-author":  # signed by a stranger, posted by the grantee
        entries = [rash(served.write.id, signer=STRANGER)]
    elif case == "wrong-kind":  # a grant is the patient's alone
        with Ledger.open(served.path) as ledger:
            body = ledger.verify().trees["grants"][0].body
        entries = [
            sign_entry(
                HOSPITAL,
                kind="grant",
                patient=PATIENT.public_id,
                body=body,
                created=NOW,
                grant=served.write.id,
            )
        ]
    elif case == "unknown-grant":
        entries = [rash("sha256:" + "1" * 64)]
    else:
        from tests.ledger.conftest import medication

        entries = [medication("warfarin", author=HOSPITAL, grant=served.write.id)]
    refusal = refused(served, entries)
    assert refusal.code == code, refusal
    assert str(refusal)  # a message naming what was wrong


def test_expired_and_revoked_grants_refuse_entries(served: Served) -> None:
    served.clock.now = NOW + timedelta(hours=49)
    late = rash(served.write.id, at=served.clock.now)
    assert refused(served, [late]).code == "outside-grant-period"
    assert refused(served, [rash(served.write.id, at=NOW + timedelta(hours=1))]).code == "grant-expired"
    served.clock.now = NOW + timedelta(hours=1)
    with Ledger.open(served.path) as ledger:
        terms = ledger.read().grants()[served.write.id]
        ledger.append([grants.new_revocation(PATIENT, terms, now=NOW)], patient=PATIENT, now=NOW)
    assert refused(served, [rash(served.write.id)]).code == "grant-revoked"


def test_requests_not_signed_by_a_grantee_are_refused(served: Served) -> None:
    entry = rash(served.write.id)
    body = entries_body([entry.envelope()])
    with httpx.Client(base_url=served.url) as client:
        bare = client.post("/entries", content=body)
        assert bare.status_code == 401 and bare.json()["error"]["message"] == "unauthorized"
        token = sign_request(
            STRANGER, method="POST", target="/entries", body=body, audience=PATIENT.public_id, now=NOW
        )
        stranger = client.post("/entries", content=body, headers={"Authorization": f"Bearer {token}"})
        assert stranger.status_code == 403
        token = sign_request(
            HOSPITAL, method="POST", target="/entries", body=b"{}", audience=PATIENT.public_id, now=NOW
        )
        swapped = client.post("/entries", content=body, headers={"Authorization": f"Bearer {token}"})
        assert swapped.status_code == 401  # the token covers another body
    assert served.entries() == 0


def test_she_adds_her_own_signed_note_and_the_hospitals_entry_is_unchanged(served: Served) -> None:
    entry = rash(served.write.id)
    served.post([entry])
    with httpx.Client(base_url=served.url) as client:
        refused = client.post(f"/api/entries/{entry.id}/notes", json={"text": "it was the co-amoxiclav too"})
        assert refused.status_code == 403  # no page token: another web site cannot write notes
        added = client.post(
            f"/api/entries/{entry.id}/notes",
            json={"text": "it was the co-amoxiclav too"},
            headers={"X-CSRF-Token": CSRF},
        )
        assert added.status_code == 201, added.text
        assert added.json()["about"] == entry.id
        on_grant = client.post(
            f"/api/entries/{served.write.id}/notes", json={"text": "x"}, headers={"X-CSRF-Token": CSRF}
        )
        assert on_grant.status_code == 400 and "practitioner" in on_grant.json()["error"]["message"]
        view = client.get("/api/ledger").json()
    [shown] = view["reactions"]  # her note is shown under the entry, not as a reaction of its own
    assert shown["entry"] == entry.id and shown["recorded_by"]["clinician"] == "Nia Brown"
    assert [n["text"] for n in shown["notes"]] == ["it was the co-amoxiclav too"]
    with Ledger.open(served.path) as ledger:
        reactions = ledger.verify().trees["reactions"]
    assert reactions[0].payload == entry.payload  # byte for byte
    assert reactions[1].author == PATIENT.public_id


def test_a_practitioners_no_known_allergies_is_refused_while_her_ledger_records_allergies(
    served: Served,
) -> None:
    assert_none = no_known_allergies_entry(
        HOSPITAL,
        patient=PATIENT.public_id,
        clinician=NURSE,
        hospital=Hospital(HOSPITAL.public_id, "St Elsewhere"),
        grant_id=served.write.id,
        now=NOW,
    )
    with Ledger.open(served.path) as ledger:
        ledger.append([actions.allergy(PATIENT, "penicillin", now=NOW)], patient=PATIENT, now=NOW)
    before = served.entries()
    with pytest.raises(Refusal) as refused:
        served.post([assert_none])
    assert refused.value.status == 409 and refused.value.code == "allergies-recorded"
    assert "penicillin" in str(refused.value)
    assert served.entries() == before


def test_an_observation_is_appended_under_a_grant_writing_observations(served: Served) -> None:
    observing = grants.new_grant(
        PATIENT,
        grantee=HOSPITAL.public_id,
        scope=("medications", "observations"),
        write_scope=("observations",),
        not_before=NOW,
        hours=48,
        now=NOW,
    )
    with Ledger.open(served.path) as ledger:
        ledger.append([observing], patient=PATIENT, now=NOW)

    def inr(grant_id: str) -> SignedEntry:
        body = observation_body(
            patient=PATIENT.public_id,
            clinician=NURSE,
            hospital=Hospital(HOSPITAL.public_id, "St Elsewhere"),
            quantity=observations.resolve("INR", 4.2, None),
            measured=NOW,
            recorded=NOW,
        )
        return practitioner_entry(
            HOSPITAL, kind="observation", patient=PATIENT.public_id, body=body, grant_id=grant_id, now=NOW
        )

    with pytest.raises(Refusal) as refused:  # the reactions-and-allergies grant does not write observations
        served.post([inr(served.write.id)])
    assert refused.value.code == "out-of-scope" and served.entries() == 0
    entry = inr(observing.id)
    assert served.post([entry])["appended"] == [entry.id]
    with Ledger.open(served.path) as ledger:
        [stored] = ledger.verify().trees["observations"]
    assert stored.id == entry.id and stored.author == HOSPITAL.public_id
