"""Who may do what, through HTTP against a real server: ward-bound nurse tokens, bare 401s for bad
tokens, the admission role, the service's JWKS and key file, the patient's audit trail, and
acknowledgements (coded reasons; shown to later shifts, never hiding the alert).
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alertsvc.access import issue_staff_token
from alertsvc.ledger.identity import Identity
from tests.postgres import open_reader
from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, verify_with_cryptography
from tests.web.test_admissions import (
    InProcessPatient,
    admit,
    alerts,
    audit_trail,
    grant,
    make_slice,
    service_settings,
    serving,
)

WARD_A, WARD_B = "ward-a", "ward-b"
BARE_401 = {"error": {"code": "unauthorized", "message": "unauthorized"}}


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    (tmp_path / "patient").mkdir()
    return InProcessPatient(tmp_path / "patient")


@pytest.fixture
def on_ward_b(running: RunningService, patient: PatientCLI) -> dict[str, Any]:
    """A patient on ward B taking warfarin, with a flagged reaction to it: one critical alert there."""
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe")
    admission = admit(running, patient, ward=WARD_B)
    [critical] = [a for a in alerts(running, WARD_B) if a["alert"]["severity"] == "critical"]
    return {"admission": admission["admission"], "alert": critical["id"]}


def count(running: RunningService, table: str) -> int:
    connection = open_reader(running.settings.db_path)
    try:
        rows: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return rows
    finally:
        connection.close()


def assert_forbidden(response: httpx.Response, *names: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "forbidden", error
    for name in names:
        assert name in error["message"], (name, error)


# -- ward-bound tokens ----------------------------------------------------------------------------


def test_a_nurse_of_ward_a_is_forbidden_everything_on_ward_b(
    running: RunningService, on_ward_b: dict[str, Any], clock: FakeClock
) -> None:
    nurse_b = running.token(WARD_B, "Bea B")
    with running.client(nurse_b) as client:
        due = (clock.now + timedelta(hours=3)).isoformat()
        planned = client.post(
            f"/wards/{WARD_B}/schedule",
            json={
                "administrations": [{"admission": on_ward_b["admission"], "drug": "paracetamol", "due": due}]
            },
        )
    assert planned.status_code == 201, planned.text
    [dose] = planned.json()["administrations"]
    acknowledgements, doses = count(running, "acknowledgements"), count(running, "doses")

    with running.client(running.token(WARD_A, "Ana A")) as client:
        assert_forbidden(client.get(f"/wards/{WARD_B}/alerts"), f"'{WARD_A}'", f"'{WARD_B}'")
        assert_forbidden(client.get(f"/wards/{WARD_B}/alerts", params={"shift": "night"}))
        assert_forbidden(client.get(f"/wards/{WARD_B}/alerts/stream"), f"'{WARD_B}'")
        assert_forbidden(client.get(f"/wards/{WARD_B}/schedule"), f"'{WARD_B}'")
        assert_forbidden(
            client.post(
                f"/wards/{WARD_B}/schedule",
                json={
                    "administrations": [
                        {"admission": on_ward_b["admission"], "drug": "ibuprofen", "due": due}
                    ]
                },
            )
        )
        assert_forbidden(
            client.post(f"/wards/{WARD_B}/schedule/{dose['id']}/outcome", json={"status": "given"})
        )
        # An alert or admission of ward B is, to ward A, one that does not exist (see test_token_rules).
        reason = {"code": "prescriber-informed", "display": "Prescriber informed"}
        ack = client.post(f"/alerts/{on_ward_b['alert']}/acknowledgements", json={"reason": reason})
        assert ack.status_code == 404 and WARD_B not in ack.text, ack.text
        entries = client.post(f"/admissions/{on_ward_b['admission']}/entries", json={"v": 1})
        assert entries.status_code == 404 and WARD_B not in entries.text, entries.text
    assert (count(running, "acknowledgements"), count(running, "doses")) == (acknowledgements, doses)

    # Ward B's own nurse still sees the alert, unacknowledged, and the dose unrecorded.
    [listed] = [a for a in alerts(running, WARD_B) if a["id"] == on_ward_b["alert"]]
    assert listed["acknowledgements"] == []
    with running.client(nurse_b) as client:
        [still] = client.get(f"/wards/{WARD_B}/schedule").json()["administrations"]
    assert still["outcome"] is None


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad_tokens(running: RunningService) -> dict[str, str | None]:
    now = running.clock.now
    expired = issue_staff_token(
        running.service.identity, ward=WARD_B, name="Old", role="nurse", now=now - timedelta(hours=2), hours=1
    )
    good = running.token(WARD_B, "Bea B")
    header, payload, signature = good.split(".")
    claims = json.loads(_b64(payload)) | {"role": "admission"}
    raised = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {
        "expired": f"Bearer {expired}",
        "garbled": "Bearer not-a-token",
        "truncated": f"Bearer {good[:-3]}",
        "claims-edited": f"Bearer {header}.{raised}.{signature}",
        "signed-by-another-key": "Bearer "
        + issue_staff_token(Identity.generate(), ward=WARD_B, name="Eve", role="nurse", now=now, hours=8),
        "not-bearer": f"Basic {good}",
        "none": None,
    }


def test_bad_tokens_get_a_bare_401_everywhere(running: RunningService, on_ward_b: dict[str, Any]) -> None:
    requests = [
        ("GET", f"/wards/{WARD_B}/alerts", None),
        ("GET", f"/wards/{WARD_B}/alerts/stream", None),
        ("GET", f"/wards/{WARD_B}/schedule", None),
        ("POST", f"/wards/{WARD_B}/schedule", {"administrations": []}),
        ("POST", f"/alerts/{on_ward_b['alert']}/acknowledgements", {"reason": {"code": "monitoring"}}),
        ("POST", "/admissions", {"ward": WARD_B, "bed": "1", "slice": {}}),
        ("POST", f"/admissions/{on_ward_b['admission']}/entries", {"v": 1}),
        ("GET", f"/admissions/{on_ward_b['admission']}/audit", None),
    ]
    acknowledgements = count(running, "acknowledgements")
    with httpx.Client(base_url=running.url, timeout=10) as client:
        for name, authorization in _bad_tokens(running).items():
            headers = {} if authorization is None else {"Authorization": authorization}
            for method, path, body in requests:
                response = client.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (name, method, path, response.text)
                assert response.json() == BARE_401, (name, method, path)
                assert response.headers["www-authenticate"] == "Bearer"
    assert count(running, "acknowledgements") == acknowledgements


def test_admitting_needs_the_admission_role_for_that_ward(
    running: RunningService, patient: PatientCLI
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    body = {"grant": grant_doc, "slice": make_slice(patient), "ward": WARD_A, "bed": "4"}
    admissions = count(running, "admissions")
    with running.client(running.token(WARD_A, "Ana A")) as client:
        assert_forbidden(client.post("/admissions", json=body), "'nurse'", "admission")
    with running.client(running.token(WARD_B, "Adam B", role="admission")) as client:
        assert_forbidden(client.post("/admissions", json=body), f"'{WARD_B}'", f"'{WARD_A}'")
    assert count(running, "admissions") == admissions
    with running.client(running.token(WARD_A, "Adam A", role="admission")) as client:
        assert client.post("/admissions", json=body).status_code == 201
        # ... and the admission role does not read the ward's alerts.
        assert_forbidden(client.get(f"/wards/{WARD_A}/alerts"), "'admission'")


# -- the service's key ----------------------------------------------------------------------------


def test_the_jwks_serves_the_one_key_that_signs_alerts(
    running: RunningService, on_ward_b: dict[str, Any]
) -> None:
    with httpx.Client(base_url=running.url, timeout=10) as client:
        jwks = client.get("/.well-known/jwks.json").json()
    [key] = jwks["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert _b64(key["x"]) == running.service.identity.public_key
    assert "d" not in key
    [listed] = [a for a in alerts(running, WARD_B) if a["id"] == on_ward_b["alert"]]
    header = json.loads(_b64(listed["jws"].split(".")[0]))
    assert header["kid"] == key["kid"]
    assert verify_with_cryptography(listed["jws"], jwks)["id"] == on_ward_b["alert"]
    streamed = read_events(
        running, WARD_B, running.token(WARD_B, "Bea B"), until=lambda evs: evs[-1]["event"] == "alert"
    )
    assert json.loads(_b64(streamed[-1]["data"]["jws"].split(".")[0]))["kid"] == key["kid"]


def test_the_service_key_file_is_0600_and_kept_across_restarts(tmp_path: Path, clock: FakeClock) -> None:
    settings = service_settings(tmp_path)
    assert not settings.service_key.exists()
    with serving(settings, clock) as first, httpx.Client(base_url=first.url, timeout=10) as client:
        jwks = client.get("/.well-known/jwks.json").json()
    assert stat.S_IMODE(settings.service_key.stat().st_mode) == 0o600
    key_bytes = settings.service_key.read_bytes()
    with serving(settings, clock) as second, httpx.Client(base_url=second.url, timeout=10) as client:
        assert client.get("/.well-known/jwks.json").json() == jwks
    assert settings.service_key.read_bytes() == key_bytes
    assert stat.S_IMODE(settings.service_key.stat().st_mode) == 0o600
    assert json.loads(key_bytes)["public_id"] == "ed25519:" + jwks["keys"][0]["x"]


# -- the patient's audit trail --------------------------------------------------------------------


def test_only_the_patient_reads_their_audit_trail(
    running: RunningService, on_ward_b: dict[str, Any], patient: PatientCLI
) -> None:
    service_id, admission = running.service.identity.public_id, on_ward_b["admission"]
    mine = Identity.load(patient.key)
    response = audit_trail(running.url, admission, mine, audience=service_id, now=running.clock.now)
    assert response.status_code == 200, response.text
    actions = [r["action"] for r in response.json()["audit"]]
    assert actions[0] == "admit" and "read-alerts" in actions
    for record in response.json()["audit"]:
        assert "warfarin" not in json.dumps(record)

    someone_else = Identity.generate()
    response = audit_trail(running.url, admission, someone_else, audience=service_id, now=running.clock.now)
    assert response.status_code == 404, response.text  # as an admission that does not exist
    assert response.json()["error"] == {"code": "not-found", "message": f"no admission {admission}"}
    # Signed for another service, or too long ago: a bare 401.
    for signed in (
        audit_trail(running.url, admission, mine, audience=someone_else.public_id, now=running.clock.now),
        audit_trail(
            running.url, admission, mine, audience=service_id, now=running.clock.now - timedelta(minutes=6)
        ),
    ):
        assert signed.status_code == 401 and signed.json() == BARE_401
    # A staff token is no patient signature.
    with running.client(running.token(WARD_B, "Bea B")) as client:
        response = client.get(f"/admissions/{admission}/audit")
    assert response.status_code == 401 and response.json() == BARE_401


# -- acknowledgements -----------------------------------------------------------------------------


def acknowledge(
    running: RunningService, alert: str, body: dict[str, Any], nurse: str = "Dana Day"
) -> httpx.Response:
    with running.client(running.token(WARD_B, nurse)) as client:
        return client.post(f"/alerts/{alert}/acknowledgements", json=body)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        pytest.param({}, ("critical", "reason"), id="no-reason"),
        pytest.param({"comment": "ok"}, ("critical", "reason"), id="comment-only"),
        pytest.param({"reason": {"code": "seen", "display": "Seen"}}, ("critical", "'seen'"), id="seen"),
        pytest.param({"reason": {"code": "whatever"}}, ("'whatever'",), id="unknown-code"),
        pytest.param({"reason": "dose-held"}, ("'reason'",), id="reason-not-an-object"),
        pytest.param(
            {"reason": {"code": "dose-held"}, "shift": "night"},
            ("'night'", "day"),
            id="not-the-current-shift",
        ),
    ],
)
def test_a_critical_alert_needs_a_coded_reason(
    running: RunningService, on_ward_b: dict[str, Any], body: dict[str, Any], names: tuple[str, ...]
) -> None:
    before = (count(running, "acknowledgements"), count(running, "events"))
    response = acknowledge(running, on_ward_b["alert"], body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "input-error"
    for name in names:
        assert name in error["message"], (name, error)
    assert (count(running, "acknowledgements"), count(running, "events")) == before
    [listed] = [a for a in alerts(running, WARD_B) if a["id"] == on_ward_b["alert"]]
    assert listed["acknowledgements"] == []


def test_a_day_acknowledgement_is_shown_to_later_shifts_and_hides_nothing(
    running: RunningService, on_ward_b: dict[str, Any], clock: FakeClock
) -> None:
    alert = on_ward_b["alert"]
    reason = {"code": "prescriber-informed", "display": "Prescriber informed"}
    response = acknowledge(running, alert, {"shift": "day", "reason": reason, "comment": "Dr Lee to review"})
    assert response.status_code == 201, response.text

    def seen(shift: str | None) -> dict[str, Any]:
        listed = alerts(running, WARD_B, **({"shift": shift} if shift else {}))
        [entry] = [a for a in listed if a["id"] == alert]
        return entry

    day = seen("day")
    [ack] = day["acknowledgements"]
    assert (ack["nurse"], ack["shift"], ack["earlier_shift"]) == ("Dana Day", "day", False)
    assert ack["reason"] == reason
    assert day["acknowledged_this_shift"]
    for shift in ("evening", "night"):
        later = seen(shift)
        [ack] = later["acknowledgements"]
        assert (ack["nurse"], ack["shift"], ack["earlier_shift"]) == ("Dana Day", "day", True), shift
        assert ack["comment"] == "Dr Lee to review"
        assert not later["acknowledged_this_shift"], shift
        assert later["alert"]["severity"] == "critical"

    # At 00:30 the night nurse's own view (no shift named) still lists it, with the day's acknowledgement.
    clock.now = clock.now.replace(hour=0, minute=30) + timedelta(days=1)
    running.run(running.service.tick())
    night = seen(None)
    [ack] = night["acknowledgements"]
    assert ack["earlier_shift"] and not night["acknowledged_this_shift"]
