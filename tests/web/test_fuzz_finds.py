"""What schemathesis found against a real server, each reproduced on its own (they failed before the
fix named in the commit that added them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.web.conftest import FakeClock, PatientCLI, RunningService
from tests.web.test_admissions import InProcessPatient, admit
from tests.web.test_cds_hooks import IBUPROFEN, SIGN, hook_request, post, r4_order, start

WARD = "ward-1"


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH"])
def test_a_method_a_route_does_not_take_is_a_405_naming_the_allowed_ones(
    running: RunningService, method: str
) -> None:
    response = httpx.request(method, running.url + f"/wards/{WARD}/schedule", timeout=10)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
    assert response.json() == {"error": {"code": "method-not-allowed", "message": "Method Not Allowed"}}
    nowhere = httpx.request(method, running.url + "/no/such/route", timeout=10)
    assert nowhere.status_code == 404
    assert nowhere.json() == {"error": {"code": "not-found", "message": "Not Found"}}


@pytest.mark.parametrize("path", ["/admissions", "/alerts/a-1/acknowledgements", "/cds-services/x/feedback"])
def test_a_get_of_a_post_only_route_is_a_405_not_a_missing_dashboard_file(
    running: RunningService, path: str
) -> None:
    response = httpx.get(running.url + path, timeout=10)
    assert response.status_code == 405
    assert response.headers["allow"].replace(" ", "") == "POST"
    assert response.json()["error"]["code"] == "method-not-allowed"
    page = httpx.get(running.url + "/", timeout=10)  # the dashboards are still served
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize(
    "value", ["093946525036332365451881", str(2**63), "99999999999999999999999999999999999999"]
)
def test_a_last_event_id_beyond_any_sequence_number_is_a_400_not_a_500(
    running: RunningService, value: str
) -> None:
    token = running.token(WARD, "Nia")
    for headers, params in (({"Last-Event-ID": value}, {}), ({}, {"last_event_id": value})):
        response = httpx.get(
            running.url + f"/wards/{WARD}/alerts/stream",
            headers={"Authorization": f"Bearer {token}", **headers},
            params=params,
            timeout=10,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "input-error"
        assert value[:20] in response.json()["error"]["message"]


OUT_OF_RANGE = [
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:30:00Z",
    "9999-12-31T23:59:59Z",
]
"""Instants Python reads but cannot move to UTC (year 1 east of Greenwich, year 9999 west of it), or
whose year, printed unpadded ('1-01-01T...'), could not be read back, or that a lead time overflows."""


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


@pytest.fixture
def admitted(running: RunningService, patient: PatientCLI) -> tuple[str, str]:
    """An admission on WARD with one dose of ibuprofen scheduled: (admission id, dose id)."""
    patient.ledger_cmd("add-medication", "warfarin")
    admission = admit(running, patient, ward=WARD)["admission"]
    due = (running.clock.now + timedelta(hours=2)).isoformat()
    with running.client(running.token(WARD, "Nia")) as client:
        planned = client.post(
            f"/wards/{WARD}/schedule",
            json={"administrations": [{"admission": admission, "drug": "ibuprofen", "due": due}]},
        )
    assert planned.status_code == 201, planned.text
    return admission, planned.json()["administrations"][0]["id"]


@pytest.mark.parametrize("instant", OUT_OF_RANGE)
def test_a_dose_time_out_of_range_is_a_400_naming_the_field_and_stores_nothing(
    running: RunningService, admitted: tuple[str, str], instant: str
) -> None:
    admission, dose = admitted
    with running.client(running.token(WARD, "Nia")) as client:
        before = client.get(f"/wards/{WARD}/schedule").json()["administrations"]
        planned = client.post(
            f"/wards/{WARD}/schedule",
            json={"administrations": [{"admission": admission, "drug": "paracetamol", "due": instant}]},
        )
        assert planned.status_code == 400, planned.text
        assert planned.json()["error"]["message"].startswith("administrations[0].due:")
        recorded = client.post(
            f"/wards/{WARD}/schedule/{dose}/outcome", json={"status": "held", "at": instant}
        )
        assert recorded.status_code == 400, recorded.text
        assert recorded.json()["error"]["message"].startswith("'at':")
        assert client.get(f"/wards/{WARD}/schedule").json()["administrations"] == before


@pytest.mark.parametrize("value", ["1_0", " 3", "+3", "٣", "-1", "3.0", "0x10"])
def test_a_last_event_id_is_digits_only(running: RunningService, value: str) -> None:
    """Event ids are what the stream sent: ASCII digits. Python's int() also reads '1_0', ' 3', '+3' and
    Arabic-Indic digits; the stream must not."""
    token = running.token(WARD, "Nia")
    response = httpx.get(
        running.url + f"/wards/{WARD}/alerts/stream",
        headers={"Authorization": f"Bearer {token}"},
        params={"last_event_id": value},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert "Last-Event-ID" in response.json()["error"]["message"]
    both = httpx.get(
        running.url + f"/wards/{WARD}/alerts/stream",
        headers={"Authorization": f"Bearer {token}", "Last-Event-ID": "5"},
        params={"last_event_id": value},
        timeout=10,
    )
    assert both.status_code == 400, both.text


@pytest.fixture(scope="module")
def cds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A service trusting test_cds_hooks' CDS clients."""
    es_key, rs_key = ec.generate_private_key(ec.SECP384R1()), rsa.generate_private_key(65537, 2048)
    yield from start(tmp_path_factory.mktemp("cds"), FakeClock(), es_key, rs_key)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param({"context": {"encounterId": [{}]}}, "context.encounterId", id="encounter-a-list"),
        pytest.param({"context": {"encounterId": 42}}, "context.encounterId", id="encounter-a-number"),
        pytest.param({"context": {"selections": [7]}}, "context.selections", id="selection-a-number"),
        pytest.param({"context": {"selections": "draft-1"}}, "context.selections", id="selections-text"),
        pytest.param({"prefetch": []}, "prefetch", id="prefetch-a-list"),
    ],
)
def test_a_cds_call_with_a_field_of_the_wrong_type_is_a_400_naming_it(
    cds: RunningService, change: dict[str, Any], named: str
) -> None:
    """A malformed encounterId was read as no admission: the check ran without the patient's slice (her
    flagged reactions unseen) or answered 412; a malformed selection or prefetch was read as none."""
    body = hook_request("order-sign", [r4_order("draft-1", IBUPROFEN)], prefetch={"medications": None})
    body["context"] |= change.get("context", {})
    body |= {k: v for k, v in change.items() if k != "context"}
    response = post(cds, f"/cds-services/{SIGN}", body)
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]["message"]
