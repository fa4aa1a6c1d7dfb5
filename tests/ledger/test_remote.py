"""The hospital's client for a patient's ledger server, against the real ledger server on 127.0.0.1;
its deadline against a server that drips its answer; the grant link; the patient's read of a real
alertsvc service's audit trail."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.access import issue_staff_token
from alertsvc.config import Settings
from alertsvc.errors import (
    GrantExpired,
    GrantRevoked,
    InputError,
    LedgerError,
    NotFound,
    ServiceError,
    WrongGrantee,
)
from alertsvc.ledger.canonical import b64url
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.remote import (
    GRANT_LINK_PREFIX,
    fetch_audit,
    fetch_slice,
    fetch_update,
    grant_link,
    read_grant_link,
)
from alertsvc.ledger.slices import verify_slice, verify_update
from alertsvc.patient_server.server import create_ledger_app
from alertsvc.web.app import create_app
from tests.ledger.conftest import HOSPITAL, NOW, PATIENT, STRANGER, add, medication, reaction
from tests.ledger.test_server import AppSwitch, FakeClock, RunningLedger, create_grant
from tests.servers import serve_app

GRANT = "sha256:" + "ab" * 32
P = PATIENT.public_id


@pytest.fixture(scope="module")
def ledger_server() -> Iterator[tuple[str, AppSwitch]]:
    switch = AppSwitch()
    for url in serve_app(switch):
        yield url, switch


@pytest.fixture
def running(ledger: Ledger, ledger_server: tuple[str, AppSwitch]) -> Iterator[RunningLedger]:
    url, switch = ledger_server
    clock = FakeClock()
    switch.app = create_ledger_app(ledger.path, PATIENT, clock=clock, csrf_token="t")
    yield RunningLedger(url, clock, ledger.path, csrf="t")
    switch.app = None


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the grant link ---


@settings(max_examples=60, deadline=None)
@given(
    host=st.sampled_from(["127.0.0.1", "localhost", "[::1]", "ledger.example"]),
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["http", "https"]),
    digest=st.binary(min_size=32, max_size=32),
)
def test_a_grant_link_round_trips(host: str, port: int, scheme: str, digest: bytes) -> None:
    url, grant = f"{scheme}://{host}:{port}", "sha256:" + digest.hex()
    link = grant_link(url + "/", grant, PATIENT.public_id)
    assert link.startswith(GRANT_LINK_PREFIX) and "=" not in link
    decoded = read_grant_link(link)
    assert (decoded.url, decoded.grant, decoded.patient) == (url, grant, PATIENT.public_id)


def link_of(document: str) -> str:
    return GRANT_LINK_PREFIX + b64url(document.encode())


@pytest.mark.parametrize(
    "link",
    [
        pytest.param("https://127.0.0.1:8765", id="not-a-grant-link"),
        pytest.param(GRANT_LINK_PREFIX + "!!!", id="not-base64url"),
        pytest.param(link_of("[1, 2]"), id="not-an-object"),
        pytest.param(
            link_of(f'{{"grant": "sha256:ab", "patient": "{P}", "url": "http://a"}}'), id="short-grant"
        ),
        pytest.param(
            link_of(f'{{"grant": "{GRANT}", "patient": "{P}", "url": "file:///etc"}}'), id="file-url"
        ),
        pytest.param(
            link_of(f'{{"grant": "{GRANT}", "patient": "ed25519:AAAA", "url": "http://a"}}'), id="bad-id"
        ),
        pytest.param(link_of(f'{{"grant": "{GRANT}", "url": "http://a"}}'), id="no-patient"),
        pytest.param(
            link_of(f'{{"grant": "{GRANT}", "patient": "{P}", "url": "http://a", "x": 1}}'), id="extra"
        ),
        pytest.param(
            link_of(f'{{"grant": "{GRANT}", "grant": "{GRANT}", "patient": "{P}", "url": "http://a"}}'),
            id="twice",
        ),
    ],
)
def test_a_malformed_grant_link_is_refused(link: str) -> None:
    with pytest.raises(InputError):
        read_grant_link(link)


# --- fetching slices and updates ---


def test_fetch_slice_and_update_give_what_verify_accepts(running: RunningLedger, ledger: Ledger) -> None:
    add(ledger, medication("warfarin"))
    grant = create_grant(running)
    data = fetch_slice(running.url, grant["id"], HOSPITAL, patient=PATIENT.public_id, timeout=5, now=NOW)
    accepted = verify_slice(data, patient=PATIENT.public_id, now=NOW, grantee=HOSPITAL.public_id)
    assert [m.drug for m in accepted.medications] == ["warfarin"]

    later = NOW + timedelta(minutes=3)
    add(ledger, reaction("ibuprofen", at=later), at=later)
    running.clock.now = later
    update = fetch_update(
        running.url, grant["id"], accepted.head.seq, HOSPITAL, patient=PATIENT.public_id, timeout=5, now=later
    )
    updated = verify_update(accepted, update, now=later)
    assert [r.drug for r in updated.reactions] == ["ibuprofen"]


def test_a_revoked_grant_raises_grant_revoked_and_an_update_carries_the_revocation(
    running: RunningLedger,
) -> None:
    grant = create_grant(running)
    accepted = verify_slice(
        fetch_slice(running.url, grant["id"], HOSPITAL, patient=PATIENT.public_id, timeout=5, now=NOW),
        patient=PATIENT.public_id,
        now=NOW,
        grantee=HOSPITAL.public_id,
    )
    with running.page() as client:
        assert client.post(f"/api/grants/{grant['id']}/revoke").status_code == 201
    with pytest.raises(GrantRevoked, match=grant["id"]):
        fetch_slice(running.url, grant["id"], HOSPITAL, patient=PATIENT.public_id, timeout=5, now=NOW)
    since = accepted.head.seq
    update = fetch_update(
        running.url, grant["id"], since, HOSPITAL, patient=PATIENT.public_id, timeout=5, now=NOW
    )
    assert verify_update(accepted, update, now=NOW).revoked


def test_an_expired_grant_raises_grant_expired(running: RunningLedger) -> None:
    grant = create_grant(running, hours=1)
    running.clock.now = later = NOW + timedelta(hours=1)
    with pytest.raises(GrantExpired):
        fetch_slice(running.url, grant["id"], HOSPITAL, patient=PATIENT.public_id, timeout=5, now=later)


def test_someone_else_than_the_grantee_gets_wrong_grantee(running: RunningLedger) -> None:
    grant = create_grant(running)
    with pytest.raises(WrongGrantee):
        fetch_slice(running.url, grant["id"], STRANGER, patient=PATIENT.public_id, timeout=5, now=NOW)


def test_an_unknown_grant_is_a_bad_answer(running: RunningLedger) -> None:
    with pytest.raises(InputError, match="holds no grant"):
        fetch_slice(running.url, GRANT, HOSPITAL, patient=PATIENT.public_id, timeout=5, now=NOW)


def test_the_wrong_patient_id_is_refused_by_the_server(running: RunningLedger) -> None:
    grant = create_grant(running)
    with pytest.raises(LedgerError, match="401"):
        fetch_slice(running.url, grant["id"], HOSPITAL, patient=STRANGER.public_id, timeout=5, now=NOW)


def test_an_unreachable_server_is_a_ledger_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(LedgerError, match=r"127\.0\.0\.1"):
        fetch_slice(url, GRANT, HOSPITAL, patient=PATIENT.public_id, timeout=2, now=NOW)


@pytest.mark.parametrize(
    ("url", "grant", "since"),
    [
        pytest.param("ftp://127.0.0.1", GRANT, 0, id="not-http"),
        pytest.param("http://127.0.0.1/?x=1", GRANT, 0, id="query-in-base"),
        pytest.param("http://127.0.0.1", "sha256:../../admin", 0, id="grant-id-with-a-path"),
        pytest.param("http://127.0.0.1", GRANT, -1, id="negative-since"),
    ],
)
def test_malformed_arguments_are_refused_before_any_request(url: str, grant: str, since: int) -> None:
    with pytest.raises(InputError):
        fetch_update(url, grant, since, HOSPITAL, patient=PATIENT.public_id, timeout=1, now=NOW)


# --- servers that misbehave (plain sockets: not alertsvc code) ---


def raw_server(answer: bytes, *, drip_seconds: float = 0.0) -> Iterator[str]:
    """A one-thread HTTP server that sends ``answer`` to every connection, byte by byte if asked."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                try:
                    if drip_seconds:
                        for byte in answer:
                            if stop.is_set():
                                break
                            conn.sendall(bytes([byte]))
                            time.sleep(drip_seconds)
                    else:
                        conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def http_answer(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


def test_a_server_dripping_its_answer_is_cut_off_at_the_deadline() -> None:
    answer = http_answer("200 OK", b'{"v": 1, "padding": "' + b"x" * 200 + b'"}')
    for url in raw_server(answer, drip_seconds=0.05):
        started = time.monotonic()
        with pytest.raises(LedgerError, match=r"within 0\.5 s"):
            fetch_slice(url, GRANT, HOSPITAL, patient=PATIENT.public_id, timeout=0.5, now=NOW)
        assert time.monotonic() - started < 3  # the drip alone would take over 10 s


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(http_answer("200 OK", b"<html>hello</html>", "text/html"), InputError, id="not-json"),
        pytest.param(http_answer("200 OK", b"[1, 2, 3]"), InputError, id="not-an-object"),
        pytest.param(http_answer("500 Oops", b"oops", "text/plain"), LedgerError, id="server-error"),
        pytest.param(http_answer("302 Found", b""), InputError, id="redirect-not-followed"),
        pytest.param(b"garbage\r\n\r\n", LedgerError, id="not-http"),
    ],
)  # fmt: skip
def test_a_bad_answer_raises_the_error_saying_so(answer: bytes, error: type[Exception]) -> None:
    for url in raw_server(answer):
        with pytest.raises(error):
            fetch_slice(url, GRANT, HOSPITAL, patient=PATIENT.public_id, timeout=5, now=NOW)


# --- the patient's read of a real hospital's audit trail ---


def test_the_patient_reads_the_audit_trail_of_a_real_service(tmp_path: Path, ledger: Ledger) -> None:
    """Grant and slice from the patient's pages, admission at a real alertsvc, then the audit trail
    through the pages (signed by the patient's key) and directly through ``fetch_audit``."""
    clock = FakeClock(datetime(2030, 1, 15, 12, 0, tzinfo=UTC))  # the service's timers stay in the future
    add(ledger, medication("warfarin"))
    service_settings = Settings(
        db_path=tmp_path / "service.db", service_key=tmp_path / "service.key", ward_timezone="Europe/London"
    )
    hospital_app = create_app(service_settings, clock=clock)
    service = hospital_app.state.service
    hospital_id = service.identity.public_id
    for hospital_url in serve_app(hospital_app, lifespan="on"):
        for url in serve_app(create_ledger_app(ledger.path, PATIENT, clock=clock, csrf_token="t")):
            patient = RunningLedger(url, FakeClock(), ledger.path, csrf="t")
            grant = create_grant(patient, grantee=service.identity)
            with patient.page() as client:
                grant_file = client.get(grant["files"]["grant"]).json()
                slice_document = client.get(grant["files"]["slice"]).json()
            staff = issue_staff_token(
                service.identity, ward="ward-7", name="Adam", role="admission", now=clock.now, hours=1
            )
            with httpx.Client(base_url=hospital_url, headers={"Authorization": f"Bearer {staff}"}) as client:
                admitted = client.post(
                    "/admissions",
                    json={"grant": grant_file, "slice": slice_document, "ward": "ward-7", "bed": "3",
                          "ledger_url": grant_file["ledger_url"]},
                )  # fmt: skip
            assert admitted.status_code == 201, admitted.text
            admission = admitted.json()["admission"]

            with patient.page() as client:
                response = client.post(
                    "/api/audit",
                    json={"grant": grant["id"], "hospital_url": hospital_url, "admission": admission},
                )
                unknown = client.post(
                    "/api/audit",
                    json={"grant": grant["id"], "hospital_url": hospital_url, "admission": "adm-nope"},
                )
            assert response.status_code == 200, response.text
            trail = response.json()
            assert (trail["admission"], trail["hospital"]) == (admission, hospital_id)
            assert [(r["actor"], r["action"]) for r in trail["audit"]][:1] == [("Adam", "admit")]
            assert (unknown.status_code, unknown.json()["error"]["code"]) == (502, "not-found")

            direct = fetch_audit(
                hospital_url,
                admission,
                PATIENT,
                hospital=hospital_id,
                timeout=5,
                now=clock.now,
            )
            assert ("patient", "read-audit") in [(r["actor"], r["action"]) for r in direct["audit"]]
            with pytest.raises(NotFound):  # another patient's admission is one that does not exist
                fetch_audit(hospital_url, admission, STRANGER, hospital=hospital_id, timeout=5, now=clock.now)
            with pytest.raises(NotFound):
                fetch_audit(hospital_url, "adm-nope", PATIENT, hospital=hospital_id, timeout=5, now=clock.now)
            with pytest.raises(ServiceError, match="401"):
                fetch_audit(
                    hospital_url, admission, PATIENT, hospital=STRANGER.public_id, timeout=5, now=clock.now
                )


def test_an_unreachable_hospital_is_a_service_error_on_the_page(running: RunningLedger) -> None:
    grant = create_grant(running)
    hospital_url = f"http://127.0.0.1:{closed_port()}"
    with running.page() as client:
        response = client.post(
            "/api/audit", json={"grant": grant["id"], "hospital_url": hospital_url, "admission": "adm-1"}
        )
    assert response.status_code == 502
    assert hospital_url in response.json()["error"]["message"]
    with pytest.raises(ServiceError):
        fetch_audit(hospital_url, "adm-1", PATIENT, hospital=HOSPITAL.public_id, timeout=2, now=NOW)
