"""CDS Hooks 2.0 against a real alertsvc on 127.0.0.1: discovery, order-select/order-sign cards for R4,
STU3 and R5 shaped orders, prefetch or an admission's slice, feedback, and client JWTs (EdDSA from
``cds_clients``, ES384 and RS384 from a JWKS file) that are refused with a bare 401 when anything is off.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.config import Settings
from alertsvc.errors import ConfigError, Unauthorized
from alertsvc.knowledge.check import check
from alertsvc.knowledge.model import RXNORM_SYSTEM
from alertsvc.ledger import jws
from alertsvc.ledger.identity import Identity
from alertsvc.web.cds_auth import TrustedClients, read_client_token
from tests.postgres import reading
from tests.web.conftest import FakeClock, PatientCLI, RunningService, serve
from tests.web.test_story import WARD as STORY_WARD
from tests.web.test_story import admit, at

SELECT, SIGN = "alertsvc-medication-safety-select", "alertsvc-medication-safety-sign"
CLIENT, STRANGER = Identity.from_seed(b"c" * 32), Identity.from_seed(b"x" * 32)
ISSUER, ES_ISSUER, RS_ISSUER = (
    "https://ehr.example.org/",
    "https://es.example.org/",
    "https://rs.example.org/",
)
BARE_401 = {"error": {"code": "unauthorized", "message": "unauthorized"}}
SNOMED = "http://snomed.info/sct"


# --- the service, with trusted clients ---------------------------------------------------------------


@pytest.fixture(scope="module")
def es_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="module")
def rs_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def start(
    directory: Path, clock: FakeClock, es_key: ec.EllipticCurvePrivateKey, rs_key: rsa.RSAPrivateKey
) -> Iterator[RunningService]:
    """The service trusting an EdDSA client (``cds_clients``) and ES384/RS384 clients (a JWKS file)."""
    jwks = directory / "cds-clients.json"
    keys = {ES_ISSUER: {"keys": [es_jwk(es_key, "es-1")]}, RS_ISSUER: {"keys": [rs_jwk(rs_key, "rs-1")]}}
    jwks.write_text(json.dumps(keys))
    settings = Settings(
        db_path=directory / "service.db",
        service_key=directory / "service.key",
        ward_timezone="Europe/London",
        cds_clients=f"{ISSUER}={CLIENT.public_id}",
        cds_client_jwks=str(jwks),
    )
    for running in serve(settings, clock):
        # conftest's teardown gathers the server loop's leftover tasks, and asyncio.gather() with none
        # binds to another loop and fails: leave it one task to cancel.
        asyncio.run_coroutine_threadsafe(asyncio.sleep(3600), running.loop)
        yield running


@pytest.fixture(scope="module")
def cds(
    tmp_path_factory: pytest.TempPathFactory, es_key: ec.EllipticCurvePrivateKey, rs_key: rsa.RSAPrivateKey
) -> Iterator[RunningService]:
    """One service for the tests that neither move its clock nor change its files (start-up takes ~1 s)."""
    yield from start(tmp_path_factory.mktemp("cds"), FakeClock(), es_key, rs_key)


@pytest.fixture
def cds_alone(
    tmp_path: Path, clock: FakeClock, es_key: ec.EllipticCurvePrivateKey, rs_key: rsa.RSAPrivateKey
) -> Iterator[RunningService]:
    """A service of the test's own, on the test's ``clock``."""
    yield from start(tmp_path, clock, es_key, rs_key)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def es_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    x, y = (b64(n.to_bytes(48)) for n in (numbers.x, numbers.y))
    return {"kty": "EC", "crv": "P-384", "x": x, "y": y, "kid": kid, "alg": "ES384", "use": "sig"}


def rs_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    n, e = (b64(v.to_bytes((v.bit_length() + 7) // 8)) for v in (numbers.n, numbers.e))
    return {"kty": "RSA", "n": n, "e": e, "kid": kid, "alg": "RS384"}


def claims_for(audience: str, now: float, **changes: Any) -> dict[str, Any]:
    claims = {"iss": ISSUER, "sub": "ehr", "aud": audience, "iat": int(now), "exp": int(now) + 300}
    return {**claims, "jti": uuid.uuid4().hex, **changes}


def client_token(cds: RunningService, path: str, *, signer: Identity = CLIENT, **changes: Any) -> str:
    """An EdDSA client JWT for ``cds.url + path``, as the client's own signer would make it."""
    return jws.sign(claims_for(cds.url + path, cds.clock.now.timestamp(), **changes), signer, typ="JWT")


def foreign_token(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, kid: str, claims: dict[str, Any]
) -> str:
    """An ES384 or RS384 JWT made here with ``cryptography`` (r || s for ECDSA, as JWS wants)."""
    alg = "ES384" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS384"
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA384())))
        signature = r.to_bytes(48) + s.to_bytes(48)
    else:
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA384())
    return f"{signing_input}.{b64(signature)}"


def post(cds: RunningService, path: str, body: dict[str, Any], token: str | None = "") -> httpx.Response:
    """POST with a fresh valid client token (``token=""``), a given one, or none (``None``)."""
    token = client_token(cds, path) if token == "" else token
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with httpx.Client(base_url=cds.url, timeout=30) as client:
        return client.post(path, json=body, headers=headers)


def call(cds: RunningService, service: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = post(cds, f"/cds-services/{service}", body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


# --- FHIR the clients send ---------------------------------------------------------------------------


def rxnorm(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": RXNORM_SYSTEM, "code": code, "display": display}], "text": display}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def r4_order(rid: str, concept: dict[str, Any], status: str = "draft") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": concept,
    }


def hook_request(
    hook: str, drafts: list[dict[str, Any]], prefetch: dict[str, Any] | None = None, **context: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/dr-lee",
            "patientId": "p1",
            "draftOrders": bundle(*drafts),
            **context,
        },
    }
    return body | ({"prefetch": prefetch} if prefetch is not None else {})


IBUPROFEN = rxnorm("5640", "ibuprofen")
WARFARIN = rxnorm("855332", "warfarin sodium 5 MG Oral Tablet")


def r4_shape() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    prefetch = {"medications": bundle(r4_order("rx-9", WARFARIN, "active")), "allergies": None}
    return [r4_order("draft-1", IBUPROFEN)], prefetch


def stu3_shape() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """STU3: the draft names a contained Medication; the statement names a Medication in the Bundle."""
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "proposal",
        "contained": [{"resourceType": "Medication", "id": "med-1", "code": IBUPROFEN}],
        "medicationReference": {"reference": "#med-1"},
        "context": {"reference": "Encounter/e1"},
    }
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "taken": "y",
        "medicationReference": {"reference": "Medication/warf"},
    }
    medication = {"resourceType": "Medication", "id": "warf", "code": WARFARIN}
    return [draft], {"statements": bundle(statement, medication), "allergies": None}


def display_only_shape() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """R4 with the current medication named only by a Reference's display."""
    current = {"resourceType": "MedicationRequest", "id": "rx-9", "status": "active"}
    current["medicationReference"] = {"display": "Warfarin"}
    return [r4_order("draft-1", IBUPROFEN)], {"medications": bundle(current), "allergies": None}


def r5_shape() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """R5: ``medication`` is a CodeableReference; a Medication known only by its ingredient."""
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "medication": {"concept": IBUPROFEN},
    }
    current = {
        "resourceType": "MedicationRequest",
        "id": "rx-9",
        "status": "active",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "m",
                "ingredient": [{"item": {"concept": rxnorm("11289", "warfarin")}}],
            }
        ],
        "medication": {"reference": {"reference": "#m"}},
    }
    return [draft], {"medications": bundle(current), "allergies": None}


# --- discovery ---------------------------------------------------------------------------------------


def test_discovery_lists_both_services_with_their_prefetch_templates(cds: RunningService) -> None:
    with httpx.Client(base_url=cds.url) as client:
        response = client.get("/cds-services")
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert {sid: s["hook"] for sid, s in services.items()} == {SELECT: "order-select", SIGN: "order-sign"}
    for service in services.values():
        assert service["description"] and service["title"]
        assert set(service["prefetch"]) == {"medications", "statements", "allergies"}
        assert all("{{context.patientId}}" in template for template in service["prefetch"].values())


# --- cards -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(r4_shape, id="R4 medicationCodeableConcept"),
        pytest.param(stu3_shape, id="STU3 contained Medication and statement"),
        pytest.param(r5_shape, id="R5 CodeableReference and ingredient"),
        pytest.param(display_only_shape, id="R4 reference display only"),
    ],
)
@pytest.mark.parametrize("hook,service", [("order-select", SELECT), ("order-sign", SIGN)])
def test_warfarin_plus_ibuprofen_gives_one_warning_card(
    cds: RunningService, shape: Any, hook: str, service: str
) -> None:
    drafts, prefetch = shape()
    cards = call(cds, service, hook_request(hook, drafts, prefetch, selections=["MedicationRequest/draft-1"]))
    normalizer, graph = cds.service.normalizer, cds.service.graph
    [expected] = check(
        [normalizer.medication("warfarin", ref="a"), normalizer.medication("ibuprofen", ref="b")],
        [],
        [],
        graph,
    )
    [interaction] = cards
    assert interaction["summary"] == expected.summary
    assert "warfarin" in interaction["summary"].lower() and "ibuprofen" in interaction["summary"].lower()
    assert len(interaction["summary"]) < 140
    assert interaction["indicator"] in ("warning", "critical")
    assert interaction["source"]["label"] and interaction["source"]["topic"]["code"] == "interaction"
    assert interaction["overrideReasons"] and all(
        r["display"] and r["code"] for r in interaction["overrideReasons"]
    )
    assert uuid.UUID(interaction["uuid"])
    [suggestion] = interaction["suggestions"]
    assert suggestion["label"] == "Remove the draft order for ibuprofen"
    assert interaction["selectionBehavior"] == "at-most-one"
    assert suggestion["actions"] == [
        {
            "type": "delete",
            "description": "Remove MedicationRequest/draft-1",
            "resourceId": "MedicationRequest/draft-1",
        }
    ]


def test_the_same_hook_instance_gives_the_same_card_ids_and_another_gives_others(cds: RunningService) -> None:
    drafts, prefetch = r4_shape()
    body = hook_request("order-sign", drafts, prefetch)
    first, again = call(cds, SIGN, body), call(cds, SIGN, body)
    other = call(cds, SIGN, body | {"hookInstance": str(uuid.uuid4())})
    assert [c["uuid"] for c in first] == [c["uuid"] for c in again]
    assert not {c["uuid"] for c in first} & {c["uuid"] for c in other}


def penicillin_allergy(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": "al-1", "criticality": "high", **fields}


SNOMED_PENICILLIN = {"coding": [{"system": SNOMED, "code": "91936005", "display": "Allergy to penicillin"}]}
R4_ACTIVE = {"coding": [{"code": "active"}]}


@pytest.mark.parametrize(
    "allergy,critical",
    [
        pytest.param(
            penicillin_allergy(code={"text": "Penicillin"}, category=["medication"]), True, id="R4 text"
        ),
        pytest.param(penicillin_allergy(code=SNOMED_PENICILLIN), True, id="SNOMED coding display only"),
        pytest.param(
            penicillin_allergy(
                code={"text": "penicillin"}, clinicalStatus="active", verificationStatus="confirmed"
            ),
            True,
            id="STU3 status codes",
        ),
        pytest.param(penicillin_allergy(substance={"text": "penicillins"}), True, id="DSTU2 substance"),
        pytest.param(
            penicillin_allergy(
                code={"text": "Penicillin"}, verificationStatus={"coding": [{"code": "refuted"}]}
            ),
            False,
            id="refuted",
        ),
        pytest.param(
            penicillin_allergy(
                code={"text": "Penicillin"}, clinicalStatus={"coding": [{"code": "resolved"}]}
            ),
            False,
            id="resolved (delabelled)",
        ),
        pytest.param(
            penicillin_allergy(
                code={
                    "coding": [{"system": SNOMED, "code": "409137002", "display": "No known drug allergy"}]
                },
                category=["medication"],
            ),
            False,
            id="no known drug allergy (no allergen, no unchecked card)",
        ),
    ],
)
def test_a_penicillin_allergy_makes_a_draft_amoxicillin_critical(
    cds: RunningService, allergy: dict[str, Any], critical: bool
) -> None:
    prefetch = {"medications": None, "statements": None, "allergies": bundle(allergy)}
    cards = call(
        cds,
        SELECT,
        hook_request("order-select", [r4_order("d-amox", rxnorm("723", "amoxicillin"))], prefetch),
    )
    allergy_cards = [c for c in cards if c["source"]["topic"]["code"] == "allergy"]
    if critical:
        [card] = allergy_cards
        assert card["indicator"] == "critical" and "amoxicillin" in card["summary"].lower()
        assert card["overrideReasons"]
    else:
        assert cards == []


def test_without_prefetch_the_admissions_slice_and_flagged_reaction_are_used(
    cds_alone: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    cds = cds_alone
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    patient.ledger_cmd(
        "flag-reaction", "ibuprofen", "--reaction", "swollen lips and wheeze", "--severity", "severe"
    )
    clock.now = at(13)
    admission = str(admit(cds, patient)["admission"])
    draft = r4_order("draft-1", rxnorm("197806", "ibuprofen 600 MG Oral Tablet"))

    cards = call(cds, SELECT, hook_request("order-select", [draft], encounterId=admission))
    [reaction] = [c for c in cards if c["source"]["topic"]["code"] == "reaction"]
    assert reaction["indicator"] == "critical" and "ibuprofen" in reaction["summary"].lower()
    assert "swollen lips" in reaction["detail"]
    assert any("warfarin" in c["summary"].lower() for c in cards), "the slice's medications are checked too"

    # With prefetch as well, the patient's flagged reaction still reaches the prescriber.
    prefetch = {"medications": None, "statements": None, "allergies": None}
    cards = call(cds, SIGN, hook_request("order-sign", [draft], prefetch, encounterId=admission))
    assert [c["indicator"] for c in cards if c["source"]["topic"]["code"] == "reaction"] == ["critical"]

    with reading(cds.settings.db_path) as db:
        rows = db.execute("SELECT actor, admission, detail FROM audit WHERE action = 'cds-check'").fetchall()
    assert [(actor, adm) for actor, adm, _ in rows] == [(f"cds:{ISSUER}", admission)] * 2
    assert json.loads(rows[0][2])["user"] == "Practitioner/dr-lee"

    # The grant has run out (before any timer purged the admission): its slice is no longer used.
    clock.now = at(19, 1, days=1)
    response = post(
        cds, f"/cds-services/{SELECT}", hook_request("order-select", [draft], encounterId=admission)
    )
    assert response.status_code == 412 and "has ended" in response.json()["error"]["message"]


def test_no_prefetch_and_no_admission_is_412_naming_the_encounter(cds: RunningService) -> None:
    body = hook_request("order-select", [r4_order("d", IBUPROFEN)], encounterId="ehr-encounter-77")
    response = post(cds, f"/cds-services/{SELECT}", body)
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition-failed"
    assert "ehr-encounter-77" in response.json()["error"]["message"]


def test_missing_allergy_prefetch_is_announced_not_silently_skipped(cds: RunningService) -> None:
    prefetch = {"medications": bundle(r4_order("rx-9", WARFARIN, "active"))}
    cards = call(cds, SIGN, hook_request("order-sign", [r4_order("d", IBUPROFEN)], prefetch))
    [notice] = [c for c in cards if c["source"]["topic"]["code"] == "unchecked"]
    assert notice["indicator"] == "warning" and "allergies" in notice["summary"]
    assert any("warfarin" in c["summary"].lower() for c in cards)


def test_an_unknown_drug_gets_a_card_saying_it_was_not_checked_and_the_rest_is_checked(
    cds: RunningService,
) -> None:
    unknown = r4_order("d-2", {"text": "Zorblaxamab 10 mg injection"})
    unsent = {
        "resourceType": "MedicationRequest",
        "id": "d-3",
        "medicationReference": {"reference": "Medication/m9"},
    }
    unknown_current = r4_order("rx-8", {"text": "Grandma's tonic"}, "active")
    prefetch = {
        "medications": bundle(r4_order("rx-9", WARFARIN, "active"), unknown_current),
        "allergies": None,
    }
    cards = call(
        cds, SIGN, hook_request("order-sign", [r4_order("d-1", IBUPROFEN), unknown, unsent], prefetch)
    )
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for card in cards:
        by_topic.setdefault(card["source"]["topic"]["code"], []).append(card)
    assert [c["indicator"] for c in by_topic["interaction"]] == ["warning"]
    unchecked = {c["summary"]: c for c in by_topic["unchecked"]}
    # A draft that cannot be checked is the drug about to be given: critical, as a dose of it on the
    # ward interrupts; the prescriber is offered to remove it.
    zorblaxamab = unchecked[
        "Draft order Zorblaxamab 10 mg injection could not be checked: interactions, allergies and"
        " reactions unknown."
    ]
    assert zorblaxamab["indicator"] == "critical" and zorblaxamab["overrideReasons"]
    [remove] = zorblaxamab["suggestions"]
    assert remove["actions"] == [
        {
            "type": "delete",
            "description": "Remove MedicationRequest/d-2",
            "resourceId": "MedicationRequest/d-2",
        }
    ]
    assert "1. Choose the drug from the coded list" in zorblaxamab["detail"]
    unsent_card = unchecked[
        "Draft order Medication/m9 could not be checked: interactions, allergies and reactions unknown."
    ]
    assert unsent_card["indicator"] == "critical"
    # The patient's own medication that cannot be checked is at least major: a warning.
    tonic = unchecked[
        "Current medication Grandma's tonic could not be checked: its interactions with the order are"
        " unknown."
    ]
    assert tonic["indicator"] == "warning"
    assert all(len(summary) < 140 for summary in unchecked)


def test_an_admissions_unknown_flag_and_scheduled_dose_reach_the_prescriber(
    cds_alone: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    """The slice's unknown flagged reaction is critical when a draft names the same drug; the ward's
    scheduled dose of an unknown drug is a warning (its interactions with the order are unknown)."""
    cds = cds_alone
    patient.ledger_cmd("flag-reaction", "Frobnoxil", "--reaction", "swollen lips", "--severity", "severe")
    clock.now = at(13)
    admission = str(admit(cds, patient)["admission"])
    dose = {"admission": admission, "drug": "Quexapam", "due": at(20).isoformat()}
    with cds.client(cds.token(STORY_WARD, "Dana Day")) as client:
        response = client.post(f"/wards/{STORY_WARD}/schedule", json={"administrations": [dose]})
    assert response.status_code == 201, response.text

    unrelated = call(
        cds, SIGN, hook_request("order-sign", [r4_order("d-1", IBUPROFEN)], encounterId=admission)
    )
    by_summary = {
        c["summary"]: c["indicator"] for c in unrelated if c["source"]["topic"]["code"] == "unchecked"
    }
    assert by_summary == {
        "Flagged reaction to Frobnoxil could not be checked: no order can be checked against it.": "warning",
        "Scheduled dose of Quexapam could not be checked: its interactions with the order are unknown.": (
            "warning"
        ),
    }

    same_name = r4_order("d-2", {"text": "frobnoxil"})
    cards = call(cds, SIGN, hook_request("order-sign", [same_name], encounterId=admission))
    [flag] = [c for c in cards if "patient's flagged reaction" in c["summary"]]
    assert flag["indicator"] == "critical"
    assert (
        flag["summary"]
        == "The draft order names Frobnoxil, to which the patient's flagged reaction is unchecked."
    )
    assert "1. Make sure the order is not Frobnoxil" in flag["detail"]


def test_order_select_cards_concern_the_selected_order_only(cds: RunningService) -> None:
    drafts = [r4_order("d-ibu", IBUPROFEN), r4_order("d-nap", rxnorm("7258", "naproxen"))]
    prefetch = {"medications": bundle(r4_order("rx-9", WARFARIN, "active")), "allergies": None}
    selected = call(
        cds, SELECT, hook_request("order-select", drafts, prefetch, selections=["MedicationRequest/d-ibu"])
    )
    signing = call(cds, SIGN, hook_request("order-sign", drafts, prefetch))
    assert all("ibuprofen" in c["summary"].lower() for c in selected)
    assert any("naproxen" in c["summary"].lower() for c in selected), (
        "the other draft is still checked against it"
    )

    def both(cards: list[dict[str, Any]]) -> bool:
        return any("naproxen" in c["summary"].lower() and "warfarin" in c["summary"].lower() for c in cards)

    assert both(signing) and not both(selected)


def test_a_lab_order_only_gets_no_cards(cds: RunningService) -> None:
    lab = {"resourceType": "ServiceRequest", "id": "lab-1", "status": "draft", "code": {"text": "INR"}}
    prefetch = {"medications": None, "statements": None, "allergies": None}
    assert call(cds, SELECT, hook_request("order-select", [lab], prefetch)) == []


def test_a_request_for_another_hook_or_without_hook_instance_is_400(cds: RunningService) -> None:
    body = hook_request("order-sign", [r4_order("d", IBUPROFEN)], {"allergies": None})
    assert post(cds, f"/cds-services/{SELECT}", body).status_code == 400
    del body["hookInstance"]
    assert post(cds, f"/cds-services/{SIGN}", body).status_code == 400


# --- feedback ----------------------------------------------------------------------------------------


def feedback_rows(cds: RunningService, card: str) -> list[tuple[str, str, str]]:
    """The stored feedback on one card, read from the database file."""
    with reading(cds.settings.db_path) as db:
        query = "SELECT service, outcome, override_reason FROM cds_feedback WHERE card = ? ORDER BY outcome"
        return db.execute(query, [card]).fetchall()


def test_feedback_accepted_and_overridden_is_recorded(cds: RunningService) -> None:
    drafts, prefetch = r4_shape()
    [card] = call(cds, SELECT, hook_request("order-select", drafts, prefetch))
    reason = card["overrideReasons"][1]
    entries = [
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
            "outcomeTimestamp": "2030-01-15T12:00:05Z",
        },
        {
            "card": card["uuid"],
            "outcome": "overridden",
            "overrideReason": {"reason": reason, "userComment": "INR checked this morning"},
            "outcomeTimestamp": "2030-01-15T12:00:09Z",
        },
    ]
    path = f"/cds-services/{SELECT}/feedback"
    response = post(cds, path, {"feedback": entries})
    assert response.status_code == 200, response.text
    assert response.json() == {"recorded": 2}
    rejected = [
        {"card": card["uuid"], "outcome": "overridden"},
        {"card": "not-a-uuid", "outcome": "accepted"},
    ]
    for bad in rejected:
        answer = post(cds, path, {"feedback": [entries[0], bad]})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "input-error"
    assert feedback_rows(cds, card["uuid"]) == [
        (SELECT, "accepted", ""),
        (SELECT, "overridden", reason["code"]),
    ]


# --- client JWTs -------------------------------------------------------------------------------------


def bad_tokens(cds: RunningService, path: str) -> list[tuple[str, str | None]]:
    now = cds.clock.now.timestamp()
    staff_typ = jws.sign(claims_for(cds.url + path, now), CLIENT, typ="alertsvc-staff+jwt")
    return [
        ("missing", None),
        ("unknown issuer", client_token(cds, path, signer=STRANGER, iss="https://evil.example/")),
        ("forged for a trusted issuer", client_token(cds, path, signer=STRANGER)),
        ("expired", client_token(cds, path, exp=int(now) - 1)),
        ("another aud", client_token(cds, path, aud=f"{cds.url}/cds-services/another")),
        ("another host", client_token(cds, path, aud=f"https://other.example{path}")),
        ("lifetime over an hour", client_token(cds, path, exp=int(now) + 7200)),
        ("issued in the future", client_token(cds, path, iat=int(now) + 600)),
        ("not yet valid", client_token(cds, path, nbf=int(now) + 600)),
        ("no jti", client_token(cds, path, jti="")),
        ("typ not JWT", staff_typ),
        ("garbage", "a.b.c"),
    ]


@pytest.mark.parametrize("path", [f"/cds-services/{SELECT}", f"/cds-services/{SELECT}/feedback"])
def test_a_bad_client_token_is_a_bare_401(cds: RunningService, path: str) -> None:
    card = str(uuid.uuid4())
    body: dict[str, Any] = hook_request("order-select", [r4_order("d", IBUPROFEN)], {"allergies": None})
    if path.endswith("feedback"):
        body = {
            "feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2030-01-15T12:00:00Z"}]
        }
    for case, token in bad_tokens(cds, path):
        response = post(cds, path, body, token=token)
        assert (response.status_code, response.json()) == (401, BARE_401), case
        assert response.headers["www-authenticate"] == "Bearer"
    assert feedback_rows(cds, card) == []
    assert post(cds, path, body).status_code == 200, "the same request with a good token is served"


def test_a_token_is_used_once(cds: RunningService) -> None:
    path = f"/cds-services/{SIGN}"
    token = client_token(cds, path)
    body = hook_request("order-sign", [r4_order("d", IBUPROFEN)], {"allergies": None})
    assert post(cds, path, body, token=token).status_code == 200
    assert (post(cds, path, body, token=token).json(), post(cds, path, body).status_code) == (BARE_401, 200)


def test_feedback_accepts_a_token_for_its_service_url(cds: RunningService) -> None:
    path = f"/cds-services/{SIGN}/feedback"
    token = client_token(cds, path, aud=[f"{cds.url}/cds-services/{SIGN}"])
    entry = {
        "card": str(uuid.uuid4()),
        "outcome": "overridden",
        "outcomeTimestamp": "2030-01-15T12:00:00+01:00",
    }
    assert post(cds, path, {"feedback": [entry]}, token=token).json() == {"recorded": 1}
    assert feedback_rows(cds, entry["card"]) == [(SIGN, "overridden", "")]


def test_es384_and_rs384_clients_from_the_jwks_file(
    cds_alone: RunningService, es_key: ec.EllipticCurvePrivateKey, rs_key: rsa.RSAPrivateKey
) -> None:
    cds = cds_alone  # its JWKS file is rewritten
    path = f"/cds-services/{SIGN}"
    body = hook_request("order-sign", [r4_order("d", IBUPROFEN)], {"allergies": None})
    now = cds.clock.now.timestamp()

    def status(token: str) -> int:
        return post(cds, path, body, token=token).status_code

    assert status(foreign_token(es_key, "es-1", claims_for(cds.url + path, now, iss=ES_ISSUER))) == 200
    assert status(foreign_token(rs_key, "rs-1", claims_for(cds.url + path, now, iss=RS_ISSUER))) == 200
    rotated = ec.generate_private_key(ec.SECP384R1())
    assert status(foreign_token(rotated, "es-1", claims_for(cds.url + path, now, iss=ES_ISSUER))) == 401
    assert status(foreign_token(es_key, "es-1", claims_for(cds.url + path, now, iss=RS_ISSUER))) == 401

    # The client rotates its key: the file changes and is read again, no restart.
    jwks = Path(cds.settings.cds_client_jwks)
    jwks.write_text(json.dumps({ES_ISSUER: {"keys": [es_jwk(rotated, "es-2")]}}))
    stamp = jwks.stat().st_mtime_ns + 10**9
    os.utime(jwks, ns=(stamp, stamp))
    assert status(foreign_token(rotated, "es-2", claims_for(cds.url + path, now, iss=ES_ISSUER))) == 200
    assert status(foreign_token(es_key, "es-1", claims_for(cds.url + path, now, iss=ES_ISSUER))) == 401


AUDIENCE, NOW = "https://cds.example.org/cds-services/x", 1_900_000_000.0


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_changed_character_of_a_token_is_refused(data: st.DataObject) -> None:
    clients = TrustedClients(Settings(cds_clients=f"{ISSUER}={CLIENT.public_id}"))
    # A fixed jti: a random one changes the token between Hypothesis's runs of one example (flaky).
    token = jws.sign(claims_for(AUDIENCE, NOW, jti="one-token"), CLIENT, typ="JWT")
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("AQgw_-.x").filter(lambda c: c != token[position]))
    changed = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(Unauthorized):
        read_client_token(changed, clients, audiences=[AUDIENCE], now=NOW)
    assert read_client_token(token, clients, audiences=[AUDIENCE], now=NOW) == ISSUER


@pytest.mark.parametrize(
    "clients,jwks",
    [
        pytest.param("https://ehr.example/=ed25519:nope", None, id="cds_clients entry without a key"),
        pytest.param("", "[1, 2]", id="JWKS file not an object"),
        pytest.param("", '{"https://ehr.example/": {"keys": "none"}}', id="issuer without a JWKS"),
    ],
)
def test_a_malformed_client_setting_is_a_config_error_naming_it(
    tmp_path: Path, clients: str, jwks: str | None
) -> None:
    path = tmp_path / "clients.json"
    if jwks is not None:
        path.write_text(jwks)
    trusted = TrustedClients(Settings(cds_clients=clients, cds_client_jwks=str(path) if jwks else ""))
    with pytest.raises(ConfigError, match="cds_client"):
        trusted.keys("https://ehr.example/")


def test_an_admissions_observations_reach_the_prescriber(
    cds_alone: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    cds = cds_alone
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    clock.now = at(13)
    admission = str(admit(cds, patient)["admission"])
    with cds.client(cds.token(STORY_WARD, "Nina Nurse")) as client:
        recorded = client.post(
            f"/admissions/{admission}/observations",
            json={"code": "eGFR", "value": 25, "unit": "mL/min/1.73m2"},
        )
    assert recorded.status_code == 201, recorded.text
    draft = r4_order("draft-m", rxnorm("6809", "metformin"))
    cards = call(cds, SELECT, hook_request("order-select", [draft], encounterId=admission))
    [renal] = [c for c in cards if c["source"]["topic"]["code"] == "renal-dose"]
    assert renal["indicator"] == "critical" and "eGFR 25 mL/min/1.73m2" in renal["summary"]
    assert "Glucophage" in renal["source"]["label"]
