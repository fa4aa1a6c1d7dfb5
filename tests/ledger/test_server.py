"""The patient's ledger server, on a real uvicorn on 127.0.0.1 with an injected clock.

The pages' JSON endpoints (ledger view, drug search, flag, grant and its files, revoke, the audit trail
from a real alertsvc service), the hospital's ``/slices/{grant}`` endpoint with real signed requests,
and the protections: page token on every POST, loopback and address-only Host for the pages.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno
from starlette.types import ASGIApp, Receive, Scope, Send

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.model import Brand, Ingredient, KnowledgeBase, Product
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.ledger import fhir
from alertsvc.ledger.entries import sign_entry
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import read_grant_link
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.ledger.slices import verify_slice, verify_update
from alertsvc.patient_server.server import CSRF_PLACEHOLDER, create_ledger_app
from alertsvc.patient_server.server_state import CSRF_HEADER
from tests.ledger.conftest import (
    HOSPITAL,
    NOW,
    PATIENT,
    PRACTITIONER,
    REPO,
    STRANGER,
    add,
    grant_to,
    medication,
    reaction,
    run_cli,
)
from tests.servers import serve_app

# --- a small drug list (RxNorm's codes and names) ---

WARFARIN, IBUPROFEN, ACETAMINOPHEN, CODEINE = "11289", "5640", "161", "2670"
COUMADIN, WARFARIN_TABLET = "202421", "855332"


def small_knowledge() -> KnowledgeBase:
    ingredients = {
        r: Ingredient(r, n)
        for r, n in [
            (WARFARIN, "warfarin"),
            (IBUPROFEN, "ibuprofen"),
            (ACETAMINOPHEN, "acetaminophen"),
            (CODEINE, "codeine"),
        ]
    }
    products = {
        WARFARIN_TABLET: Product(
            WARFARIN_TABLET, "warfarin sodium 5 MG Oral Tablet", "SCD", (WARFARIN,), "oral", "Oral Tablet"
        )
    }
    names = {i.name: (i.rxcui,) for i in ingredients.values()}
    names.update({"paracetamol": (ACETAMINOPHEN,), "coumadin": (WARFARIN,), "warfarin sodium": (WARFARIN,)})
    return KnowledgeBase(
        version="kb-test",
        built="2026-01-01",
        sources={},
        ingredients=ingredients,
        salts={},
        products=products,
        brands={COUMADIN: Brand(COUMADIN, "Coumadin", (WARFARIN,))},
        names=names,
        ndc={},
        classes={},
        rules=(),
    )


# --- a real server in a thread ---


@dataclass
class FakeClock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningLedger:
    url: str
    clock: FakeClock
    path: Path
    csrf: str = "test-page-token"

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, headers=headers)

    def page(self) -> httpx.Client:
        """What the page's script sends: the page token on every call."""
        return self.client(**{CSRF_HEADER: self.csrf})

    def head(self) -> int:
        with Ledger.open(self.path) as ledger:
            return ledger.read().latest.seq


class AppSwitch:
    """One uvicorn per test module, serving whichever ledger app the current test set (cheaper than a
    server per test). Not a stand-in for our code: each test's app is the real ``create_ledger_app``."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no ledger app set for this test"
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[tuple[str, AppSwitch]]:
    switch = AppSwitch()
    for url in serve_app(switch):
        yield url, switch


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer(small_knowledge())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def running(
    ledger: Ledger, clock: FakeClock, normalizer: Normalizer, shared_server: tuple[str, AppSwitch]
) -> Iterator[RunningLedger]:
    url, switch = shared_server
    switch.app = create_ledger_app(
        ledger.path, PATIENT, clock=clock, normalizer=normalizer, csrf_token="test-page-token"
    )
    yield RunningLedger(url, clock, ledger.path)
    switch.app = None


def create_grant(
    running: RunningLedger, grantee: Identity = HOSPITAL, hours: float = 24, **extra: Any
) -> dict[str, Any]:
    body = {
        "grantee": grantee.public_id,
        "scope": ["medications", "allergies", "reactions"],
        "hours": hours,
        **extra,
    }
    with running.page() as client:
        response = client.post("/api/grants", json=body)
    assert response.status_code == 201, response.text
    grant: dict[str, Any] = response.json()["grant"]
    return grant


def signed(
    signer: Identity, path: str, *, now: datetime, audience: str = PATIENT.public_id, method: str = "GET"
) -> dict[str, str]:
    token = sign_request(signer, method=method, target=path, audience=audience, now=now)
    return {"Authorization": f"Bearer {token}"}


# --- the patient's view ---


def test_the_ledger_view_says_who_signed_each_entry_and_marks_stopped_medications(
    running: RunningLedger, ledger: Ledger
) -> None:
    warfarin, aspirin = medication("warfarin"), medication("aspirin")
    add(ledger, warfarin, aspirin)
    stopped = sign_entry(
        PATIENT,
        kind="medication",
        patient=PATIENT.public_id,
        body=fhir.stopped_statement(aspirin.body, now=NOW),
        created=NOW,
    )
    write_grant = grant_to(PRACTITIONER, scope=("reactions",), write=("reactions",))
    add(ledger, stopped, write_grant)
    add(ledger, reaction("codeine"), reaction("morphine", author=PRACTITIONER, grant=write_grant.id))

    with running.page() as client:
        view = client.get("/api/ledger").json()

    assert view["patient"] == PATIENT.public_id
    by_drug = {m["drug"]: m for m in view["medications"]}
    assert (by_drug["warfarin"]["status"], by_drug["aspirin"]["status"]) == ("active", "stopped")
    assert by_drug["aspirin"]["entry"] == stopped.id
    flagged = {r["drug"]: r for r in view["reactions"]}
    assert (flagged["codeine"]["signed_by"], flagged["codeine"]["author"]) == ("patient", PATIENT.public_id)
    assert (flagged["morphine"]["signed_by"], flagged["morphine"]["author"]) == (
        "practitioner",
        PRACTITIONER.public_id,
    )
    [grant] = view["grants"]
    assert (grant["id"], grant["grantee"], grant["status"]) == (
        write_grant.id,
        PRACTITIONER.public_id,
        "active",
    )
    assert view["head"]["seq"] == running.head()


@pytest.mark.parametrize(
    ("query", "first_label", "first_rxcui", "kind"),
    [
        pytest.param("war", "warfarin", WARFARIN, "ingredient", id="ingredient-prefix"),
        pytest.param("Coum", "Coumadin", COUMADIN, "brand", id="brand-prefix"),
        pytest.param("paracet", "paracetamol", ACETAMINOPHEN, "name", id="synonym-means-acetaminophen"),
        pytest.param(
            WARFARIN_TABLET,
            "warfarin sodium 5 MG Oral Tablet",
            WARFARIN_TABLET,
            "product",
            id="product-rxcui",
        ),
    ],
)
def test_drug_search_finds_ingredients_brands_and_products(
    running: RunningLedger, query: str, first_label: str, first_rxcui: str, kind: str
) -> None:
    with running.page() as client:
        answer = client.get("/api/drugs", params={"q": query}).json()
    first = answer["matches"][0]
    assert (first["label"], first["rxcui"], first["kind"]) == (first_label, first_rxcui, kind)
    assert {i["rxcui"] for i in first["ingredients"]} <= {WARFARIN, ACETAMINOPHEN}


def test_drug_search_lists_every_name_starting_with_the_query(running: RunningLedger) -> None:
    with running.page() as client:
        labels = [m["label"] for m in client.get("/api/drugs", params={"q": "warf"}).json()["matches"]]
        too_short = client.get("/api/drugs", params={"q": "w"}).json()["matches"]
    assert labels[0] == "warfarin"
    # "warfarin sodium" (another name of warfarin) is left out: warfarin itself is listed
    assert set(labels) == {"warfarin", "warfarin sodium 5 MG Oral Tablet"}
    assert too_short == []


def test_flagging_a_reaction_appends_a_signed_entry_the_ledger_verifies(
    running: RunningLedger, ledger_path: Path
) -> None:
    before = running.head()
    with running.page() as client:
        response = client.post(
            "/api/reactions",
            json={"drug": "Coumadin", "rxcui": COUMADIN, "reaction": "nosebleed", "severity": "severe"},
        )
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["drug"], answer["rxcui"], answer["head"]) == ("Coumadin", COUMADIN, before + 1)
    assert [i["name"] for i in answer["ingredients"]] == ["warfarin"]

    with Ledger.open(ledger_path) as opened:
        [flagged] = fhir.current_reactions(opened.verify().trees["reactions"])
    assert (flagged.entry_id, flagged.drug, flagged.rxcui) == (answer["entry"], "Coumadin", COUMADIN)
    assert (flagged.reaction, flagged.severity, flagged.flagged_by) == (
        "nosebleed",
        "severe",
        PATIENT.public_id,
    )
    result = run_cli("ledger", "verify", ledger_path, cwd=ledger_path.parent)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("body", "drug", "rxcui", "unresolved"),
    [
        pytest.param({"drug": "paracetamol"}, "paracetamol", ACETAMINOPHEN, False, id="synonym-typed"),
        pytest.param(
            {"drug": "warfarin", "rxcui": WARFARIN_TABLET},
            "warfarin",
            WARFARIN_TABLET,
            False,
            id="same-drug-kept",
        ),
        pytest.param(
            {"drug": "ibuprofen", "rxcui": WARFARIN},
            "warfarin",
            WARFARIN,
            False,
            id="text-contradicting-code",
        ),
        pytest.param({"drug": "grandma's tonic"}, "grandma's tonic", None, True, id="unknown-kept-as-text"),
    ],
)
def test_flagging_records_the_drug_the_patient_meant(
    running: RunningLedger, body: dict[str, str], drug: str, rxcui: str | None, unresolved: bool
) -> None:
    with running.page() as client:
        response = client.post("/api/reactions", json={**body, "reaction": "rash"})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["drug"], answer["rxcui"], answer["unresolved"] is not None) == (drug, rxcui, unresolved)


def test_without_a_knowledge_base_search_is_off_and_flags_are_kept_as_text(
    ledger: Ledger, clock: FakeClock, shared_server: tuple[str, AppSwitch]
) -> None:
    url, switch = shared_server
    switch.app = create_ledger_app(ledger.path, PATIENT, clock=clock, csrf_token="t")
    running = RunningLedger(url, clock, ledger.path, csrf="t")
    with running.page() as client:
        search = client.get("/api/drugs", params={"q": "warf"})
        typed = client.post("/api/reactions", json={"drug": "warfarin", "reaction": "bruising"})
        coded = client.post(
            "/api/reactions", json={"drug": "warfarin", "rxcui": WARFARIN, "reaction": "bleeding"}
        )
        view = client.get("/api/ledger").json()
    assert (search.status_code, search.json()["error"]["code"]) == (503, "terminology-unavailable")
    assert (typed.status_code, typed.json()["rxcui"], coded.json()["rxcui"]) == (201, None, WARFARIN)
    assert view["search"] is False
    assert [(r["drug"], r["rxcui"]) for r in view["reactions"]] == [
        ("warfarin", None),
        ("warfarin", WARFARIN),
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"drug": "warfarin", "reaction": "rash", "severity": "deadly"}, id="unknown-severity"),
        pytest.param({"drug": "warfarin", "rxcui": "999999", "reaction": "rash"}, id="unknown-rxcui"),
        pytest.param({"drug": "warfarin", "rxcui": "12ab", "reaction": "rash"}, id="rxcui-not-digits"),
        pytest.param({"drug": "warfarin"}, id="no-reaction"),
        pytest.param({"drug": "", "reaction": "rash"}, id="no-drug"),
    ],
)
def test_a_malformed_flag_is_refused_and_nothing_is_written(
    running: RunningLedger, body: dict[str, str]
) -> None:
    before = running.head()
    with running.page() as client:
        response = client.post("/api/reactions", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"]
    assert running.head() == before


# --- sharing ---


def test_a_grant_gives_a_grant_file_a_verifiable_slice_and_a_qr_link(
    running: RunningLedger, ledger: Ledger
) -> None:
    add(ledger, medication("warfarin"), reaction("codeine"))
    grant = create_grant(running, hours=12)
    assert (grant["grantee"], grant["status"], grant["expiring_soon"]) == (
        HOSPITAL.public_id,
        "active",
        False,
    )
    assert grant["expires_at"] == "2026-03-08T14:00:00Z"

    with running.page() as client:
        grant_file = client.get(grant["files"]["grant"])
        slice_file = client.get(grant["files"]["slice"])
        qr = client.get(grant["files"]["qr"])
    assert "attachment" in grant_file.headers["content-disposition"]
    document = grant_file.json()
    assert (document["type"], document["grant"], document["ledger_url"]) == (
        "alertsvc-grant",
        grant["id"],
        running.url,
    )
    assert slice_file.headers["content-type"] == "application/json"
    verified = verify_slice(
        slice_file.content, patient=PATIENT.public_id, now=NOW, grantee=HOSPITAL.public_id
    )
    assert verified.grant.id == grant["id"]
    assert [m.drug for m in verified.medications] == ["warfarin"]
    assert [r.drug for r in verified.reactions] == ["codeine"]

    link = read_grant_link(grant["link"])
    assert (link.url, link.grant, link.patient) == (running.url, grant["id"], PATIENT.public_id)
    assert qr.headers["content-type"].startswith("image/svg+xml")
    expected = segno.make(grant["link"], error="m")
    assert qr.text.startswith("<svg") and f'width="{(expected.symbol_size(scale=4, border=4))[0]}"' in qr.text


def test_grant_files_name_the_public_url_when_one_is_given(ledger: Ledger, clock: FakeClock) -> None:
    app = create_ledger_app(
        ledger.path, PATIENT, clock=clock, public_url="https://ledger.example:8443/", csrf_token="t"
    )
    for url in serve_app(app):
        running = RunningLedger(url, clock, ledger.path, csrf="t")
        grant = create_grant(running)
        assert read_grant_link(grant["link"]).url == "https://ledger.example:8443"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"grantee": "ed25519:nope", "scope": ["medications"], "hours": 4}, id="bad-grantee"),
        pytest.param({"grantee": PATIENT.public_id, "scope": ["medications"], "hours": 4}, id="self"),
        pytest.param({"grantee": HOSPITAL.public_id, "scope": [], "hours": 4}, id="nothing-shared"),
        pytest.param({"grantee": HOSPITAL.public_id, "scope": ["genome"], "hours": 4}, id="unknown-scope"),
        pytest.param(
            {"grantee": HOSPITAL.public_id, "scope": "medications", "hours": 4}, id="scope-not-a-list"
        ),
        pytest.param({"grantee": HOSPITAL.public_id, "scope": ["medications"], "hours": 0}, id="zero-hours"),
        pytest.param(
            {"grantee": HOSPITAL.public_id, "scope": ["medications"], "hours": "4"}, id="hours-as-text"
        ),
    ],
)
def test_a_malformed_grant_is_refused_and_nothing_is_written(
    running: RunningLedger, body: dict[str, Any]
) -> None:
    before = running.head()
    with running.page() as client:
        response = client.post("/api/grants", json=body)
    assert response.status_code == 400, response.text
    assert running.head() == before


def test_grants_expiring_within_two_hours_are_flagged_then_expire(
    running: RunningLedger, clock: FakeClock
) -> None:
    long = create_grant(running, hours=24)
    short = create_grant(running, hours=1.5)
    with running.page() as client:
        grants = {g["id"]: g for g in client.get("/api/ledger").json()["grants"]}
        assert (grants[short["id"]]["expiring_soon"], grants[long["id"]]["expiring_soon"]) == (True, False)
        assert grants[short["id"]]["seconds_left"] == 90 * 60
        clock.now = NOW + timedelta(hours=2)
        grants = {g["id"]: g for g in client.get("/api/ledger").json()["grants"]}
        assert (grants[short["id"]]["status"], grants[short["id"]]["expiring_soon"]) == ("expired", False)
        assert grants[long["id"]]["status"] == "active"
        assert client.get(short["files"]["slice"]).status_code == 403


def test_revoking_a_grant_appends_a_revocation_once(running: RunningLedger, ledger_path: Path) -> None:
    grant = create_grant(running)
    with running.page() as client:
        response = client.post(f"/api/grants/{grant['id']}/revoke")
        again = client.post(f"/api/grants/{grant['id']}/revoke")
        unknown = client.post(f"/api/grants/sha256:{'0' * 64}/revoke")
        [listed] = client.get("/api/ledger").json()["grants"]
        slice_after = client.get(grant["files"]["slice"])
    assert response.status_code == 201, response.text
    assert (again.status_code, unknown.status_code) == (409, 404)
    assert (listed["status"], listed["revoked_at"]) == ("revoked", "2026-03-08T02:00:00Z")
    assert (slice_after.status_code, slice_after.json()["error"]["code"]) == (403, "grant-revoked")
    with Ledger.open(ledger_path) as opened:
        [revocation] = opened.verify().revocations()
    assert (revocation.id, revocation.grant_id) == (response.json()["entry"], grant["id"])


# --- protections of the pages ---


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/api/reactions", {"drug": "warfarin", "reaction": "rash"}, id="flag"),
        pytest.param(
            "/api/grants", {"grantee": HOSPITAL.public_id, "scope": ["medications"], "hours": 4}, id="grant"
        ),
        pytest.param(
            "/api/audit", {"grant": "x", "hospital_url": "http://127.0.0.1:9", "admission": "a"}, id="audit"
        ),
    ],
)
@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no-token", "wrong-token"])
def test_a_state_changing_request_without_the_page_token_is_forbidden(
    running: RunningLedger, path: str, body: dict[str, Any], token: str | None
) -> None:
    before = running.head()
    headers = {"Origin": "https://evil.example"} | ({CSRF_HEADER: token} if token else {})
    with running.client(**headers) as client:
        response = client.post(path, json=body)
    assert response.status_code == 403, response.text
    assert running.head() == before


def test_revoking_without_the_page_token_is_forbidden(running: RunningLedger) -> None:
    grant = create_grant(running)
    with running.client() as client:
        assert client.post(f"/api/grants/{grant['id']}/revoke").status_code == 403
    with running.page() as client:
        assert client.get("/api/ledger").json()["grants"][0]["status"] == "active"


def test_the_page_carries_its_token_and_strict_headers(running: RunningLedger) -> None:
    with running.client() as client:
        page = client.get("/")
        script = client.get("/js/main.js")
    assert page.status_code == 200
    assert f'content="{running.csrf}"' in page.text and CSRF_PLACEHOLDER not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_each_server_process_makes_its_own_page_token(ledger: Ledger, clock: FakeClock) -> None:
    tokens = []
    for _ in range(2):
        for url in serve_app(create_ledger_app(ledger.path, PATIENT, clock=clock)):
            with httpx.Client(base_url=url) as client:
                tokens.append(re.search(r'name="alertsvc-csrf" content="([^"]+)"', client.get("/").text))
    first, second = (m.group(1) for m in tokens if m)
    assert len(first) >= 40 and first != second


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.nip.io"])
def test_pages_refuse_a_host_name_that_could_be_dns_rebinding(running: RunningLedger, host: str) -> None:
    with running.page() as client:
        page = client.get("/", headers={"Host": host})
        data = client.get("/api/ledger", headers={"Host": host})
        slices = client.get(f"/slices/sha256:{'0' * 64}", headers={"Host": host})
    assert (page.status_code, data.status_code) == (403, 403)
    assert slices.status_code == 401  # the hospital's endpoint is reached, and wants a signed request


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]:80"])
def test_pages_answer_to_a_host_named_by_address(running: RunningLedger, host: str) -> None:
    with running.page() as client:
        assert client.get("/api/ledger", headers={"Host": host}).status_code == 200


def test_the_server_refuses_a_key_that_is_not_the_ledgers_patient(ledger: Ledger) -> None:
    from alertsvc.errors import IdentityError

    with pytest.raises(IdentityError, match="is not the patient"):
        create_ledger_app(ledger.path, STRANGER)


# --- the hospital's endpoint: /slices/{grant} ---


def test_the_grantee_reads_the_slice_then_an_update_with_a_consistency_proof(
    running: RunningLedger, ledger: Ledger
) -> None:
    add(ledger, medication("warfarin"))
    grant = create_grant(running)
    path = f"/slices/{grant['id']}"
    with running.client() as client:
        first = client.get(path, headers=signed(HOSPITAL, path, now=NOW))
        assert first.status_code == 200, first.text
        assert first.headers["content-type"] == "application/json"
        accepted = verify_slice(first.content, patient=PATIENT.public_id, now=NOW, grantee=HOSPITAL.public_id)

        flagged = reaction("ibuprofen", at=NOW + timedelta(minutes=5))
        add(ledger, flagged, at=NOW + timedelta(minutes=5))
        running.clock.now = NOW + timedelta(minutes=10)
        later = running.clock.now
        update = client.get(
            path,
            params={"since": accepted.head.seq},
            headers=signed(HOSPITAL, f"{path}?since={accepted.head.seq}", now=later),
        )
    assert update.status_code == 200, update.text
    updated = verify_update(accepted, update.content, now=later)
    assert updated.head.seq == accepted.head.seq + 1
    assert [r.entry_id for r in updated.reactions] == [flagged.id]
    assert [m.drug for m in updated.medications] == ["warfarin"]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        pytest.param("unsigned", 401, id="unsigned"),
        pytest.param("not-bearer", 401, id="basic-auth"),
        pytest.param("garbage", 401, id="garbage-token"),
        pytest.param("wrong-path", 401, id="signed-for-another-path"),
        pytest.param("wrong-audience", 401, id="signed-for-another-patient"),
        pytest.param("wrong-method", 401, id="signed-for-post"),
        pytest.param("stale", 401, id="signed-ten-minutes-ago"),
        pytest.param("for-another-query", 401, id="signed-for-another-query"),
        pytest.param("ahead", 401, id="signed-a-minute-ahead"),
        pytest.param("stranger", 403, id="signed-by-someone-else"),
        pytest.param("unknown-grant", 404, id="unknown-grant"),
        pytest.param("since-beyond-head", 400, id="since-beyond-head"),
        pytest.param("since-not-a-number", 400, id="since-not-a-number"),
    ],
)
def test_slice_requests_that_are_not_the_grantees_are_refused(
    running: RunningLedger, case: str, status: int
) -> None:
    grant = create_grant(running)
    path = f"/slices/{grant['id']}"
    target, params = path, {}
    headers = {
        "unsigned": {},
        "not-bearer": {"Authorization": "Basic aG9zcGl0YWw6cGFzc3dvcmQ="},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "wrong-path": signed(HOSPITAL, f"/slices/sha256:{'1' * 64}", now=NOW),
        "wrong-audience": signed(HOSPITAL, path, now=NOW, audience=STRANGER.public_id),
        "wrong-method": signed(HOSPITAL, path, now=NOW, method="POST"),
        "stale": signed(HOSPITAL, path, now=NOW - timedelta(minutes=10)),
        "for-another-query": signed(HOSPITAL, f"{path}?since=0", now=NOW),
        "ahead": signed(HOSPITAL, path, now=NOW + timedelta(minutes=1)),
        "stranger": signed(STRANGER, path, now=NOW),
    }.get(case, signed(HOSPITAL, path, now=NOW))
    if case == "unknown-grant":
        target = f"/slices/sha256:{'0' * 64}"
        headers = signed(HOSPITAL, target, now=NOW)
    if case == "since-beyond-head":
        params = {"since": "99"}
        headers = signed(HOSPITAL, f"{path}?since=99", now=NOW)
    if case == "since-not-a-number":
        params = {"since": "HEAD"}
        headers = signed(HOSPITAL, f"{path}?since=HEAD", now=NOW)
    with running.client() as client:
        response = client.get(target, params=params, headers=headers)
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json() == {"error": {"code": "unauthorized", "message": "unauthorized"}}
        assert response.headers["www-authenticate"] == "Bearer"


def test_an_expired_grant_is_forbidden_even_to_its_grantee(running: RunningLedger, clock: FakeClock) -> None:
    grant = create_grant(running, hours=4)
    path = f"/slices/{grant['id']}"
    clock.now = NOW + timedelta(hours=4)
    with running.client() as client:
        whole = client.get(path, headers=signed(HOSPITAL, path, now=clock.now))
        update = client.get(
            path, params={"since": "0"}, headers=signed(HOSPITAL, f"{path}?since=0", now=clock.now)
        )
    assert (whole.status_code, update.status_code) == (403, 403)
    assert whole.json()["error"]["code"] == "grant-expired"


def test_a_revoked_grant_yields_only_the_signed_revocation_to_its_grantee(
    running: RunningLedger, clock: FakeClock
) -> None:
    grant = create_grant(running, hours=4)
    path = f"/slices/{grant['id']}"
    with running.client() as client:
        first = client.get(path, headers=signed(HOSPITAL, path, now=clock.now))
    accepted = verify_slice(
        first.content, patient=PATIENT.public_id, now=clock.now, grantee=HOSPITAL.public_id
    )
    with running.page() as client:
        assert client.post(f"/api/grants/{grant['id']}/revoke").status_code == 201
        after = client.post("/api/reactions", json={"drug": "warfarin", "reaction": "written after revoking"})
        assert after.status_code == 201, after.text
    since = str(accepted.head.seq)
    with running.client() as client:
        whole = client.get(path, headers=signed(HOSPITAL, path, now=clock.now))
        update = client.get(
            path, params={"since": since}, headers=signed(HOSPITAL, f"{path}?since={since}", now=clock.now)
        )
        again = client.get(
            path, params={"since": "99"}, headers=signed(HOSPITAL, f"{path}?since=99", now=clock.now)
        )
    assert whole.status_code == 403 and whole.json()["error"]["code"] == "grant-revoked"
    assert update.status_code == 200, update.text
    ended = verify_update(accepted, update.content, now=clock.now)
    assert ended.revoked and ended.revocation is not None
    # nothing the patient wrote after the revocation
    assert "reactions" in ended.grant.scope
    assert len(ended.entries["reactions"]) == len(accepted.entries["reactions"])
    assert again.status_code in (400, 403)


# --- the command ---


def test_ledger_serve_prints_the_url_serves_the_pages_and_never_the_secret(
    tmp_path: Path, ledger: Ledger
) -> None:
    key_file = tmp_path / "patient.key"
    PATIENT.save(key_file)
    data_dir = tmp_path / "data"
    kb_files.save(small_knowledge(), data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "alertsvc", "ledger", "serve", str(ledger.path), "--key", str(key_file),
         "--port", "0", "--data-dir", str(data_dir)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        match = re.search(r"open (http://127\.0\.0\.1:\d+)/ in your browser", "".join(lines))
        assert match, lines
        with httpx.Client(base_url=match.group(1), timeout=10) as client:
            assert 'name="alertsvc-csrf"' in client.get("/").text
            assert client.get("/api/drugs", params={"q": "coum"}).json()["matches"][0]["rxcui"] == COUMADIN
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    seed = json.loads(key_file.read_text())["seed"]
    assert seed not in "".join(lines) + out + err
    assert PATIENT.public_id in lines[0]
