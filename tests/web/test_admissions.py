"""Admissions through HTTP: what is refused (with nothing stored), what an update adds, and how an update
carrying a revocation ends the admission.

The patient's side is the real command line; the hospital is a real uvicorn on 127.0.0.1 with an injected
clock. "Nothing stored" is checked by counting the rows of every table a slice could reach, read from the
SQLite file through a separate read-only connection.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alertsvc import cli
from alertsvc.config import Settings
from alertsvc.ledger.canonical import b64url, canonical
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.ledger.slices import SLICE_TYPE, _grant_proof
from tests.postgres import open_reader, reading, stored_bytes
from tests.web.conftest import FakeClock, PatientCLI, RunningService, read_events, serve

WARD = "ward-a"
TABLES = ("admissions", "slices", "slice_updates", "doses", "alerts", "acknowledgements", "events", "audit")
"""Every table a slice, or anything derived from it, could reach."""


def service_settings(directory: Path, **changes: Any) -> Settings:
    """The settings of a service whose database and key live in ``directory``."""
    defaults: dict[str, Any] = {
        "db_path": directory / "service.db",
        "service_key": directory / "service.key",
        "ward_timezone": "Europe/London",
    }
    return Settings(**(defaults | changes))


@contextmanager
def serving(settings: Settings, clock: FakeClock) -> Iterator[RunningService]:
    """``conftest.serve`` as a context manager: a real service until the block ends, then stopped.

    Works around its teardown, which runs ``asyncio.gather(*pending)``: with no task left pending that
    makes a future on another loop and fails, so a sleeping task is left pending for it to cancel.
    """
    generator = serve(settings, clock)
    running = next(generator)
    try:
        yield running
    finally:
        running.loop.call_soon_threadsafe(lambda: running.loop.create_task(asyncio.sleep(3600)))
        generator.close()


@pytest.fixture
def running(tmp_path: Path, clock: FakeClock) -> Iterator[RunningService]:
    with serving(service_settings(tmp_path), clock) as service:
        yield service


class InProcessPatient(PatientCLI):
    """The patient's same command line, run in this process by click's ``CliRunner`` (in the patient's
    directory, as ``PatientCLI`` runs it) rather than one interpreter start-up per command."""

    def __call__(self, *args: str, check: bool = True) -> str:
        with contextlib.chdir(self.directory):
            result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
        if check and result.exit_code != 0:
            raise AssertionError(f"alertsvc {' '.join(args)} failed: {result.output}")
        return result.output


@pytest.fixture
def patient(tmp_path: Path) -> PatientCLI:
    directory = tmp_path / "patient"
    directory.mkdir()
    return InProcessPatient(directory)


# -- the patient's side ---------------------------------------------------------------------------


def grant(
    patient: PatientCLI,
    to: str,
    *,
    not_before: datetime,
    hours: float = 48,
    out: str = "grant.json",
) -> dict[str, Any]:
    """``alertsvc ledger grant``: the patient grants ``to`` their medications, allergies and reactions."""
    patient.ledger_cmd(
        "grant",
        "--to",
        to,
        "--scope",
        "medications,allergies,reactions",
        "--hours",
        str(hours),
        "--not-before",
        not_before.isoformat(),
        "--out",
        out,
    )
    return patient.read_json(out)


def make_slice(
    patient: PatientCLI, *, grant_file: str = "grant.json", out: str = "slice.json"
) -> dict[str, Any]:
    patient("ledger", "slice", str(patient.ledger), "--grant", grant_file, "--out", out)
    return patient.read_json(out)


def make_update(
    patient: PatientCLI, since: object, *, out: str, grant_file: str = "grant.json"
) -> dict[str, Any]:
    """``alertsvc ledger slice --since HEAD``: the entries added since head ``since``."""
    patient(
        "ledger", "slice", str(patient.ledger), "--grant", grant_file, "--since", str(since), "--out", out
    )
    return patient.read_json(out)


# -- the hospital's side --------------------------------------------------------------------------


def present(
    running: RunningService,
    grant_doc: dict[str, Any] | None,
    slice_doc: dict[str, Any],
    *,
    ward: str = WARD,
    bed: str = "1",
) -> httpx.Response:
    """Admission staff of ``ward`` present a grant and slice."""
    body: dict[str, Any] = {"slice": slice_doc, "ward": ward, "bed": bed}
    if grant_doc is not None:
        body["grant"] = grant_doc
    with running.client(running.token(ward, "Adam Admissions", role="admission")) as client:
        return client.post("/admissions", json=body)


def admit(
    running: RunningService,
    patient: PatientCLI,
    *,
    ward: str = WARD,
    hours: float = 48,
    not_before: datetime | None = None,
) -> dict[str, Any]:
    """Grant this service access from ``not_before`` (default: the clock), slice, admit; the 201 body."""
    grant_doc = grant(
        patient, running.service.identity.public_id, not_before=not_before or running.clock.now, hours=hours
    )
    response = present(running, grant_doc, make_slice(patient), ward=ward)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def post_update(running: RunningService, admission: str, update: dict[str, Any]) -> httpx.Response:
    with running.client(running.token(WARD, "Dana Day")) as client:
        return client.post(f"/admissions/{admission}/entries", json=update)


def alerts(running: RunningService, ward: str = WARD, **params: str) -> list[dict[str, Any]]:
    with running.client(running.token(ward, "Nico Nurse")) as client:
        response = client.get(f"/wards/{ward}/alerts", params=params)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["alerts"]
    return listed


def row_counts(db_path: Path) -> dict[str, int]:
    """Row counts of every table in ``TABLES``, through a separate read-only connection. The audit's
    records of refused requests are left out: a refusal is audited, and stores nothing else."""
    connection = open_reader(db_path)
    try:
        where = {"audit": " WHERE action != 'refused'"}
        return {
            t: connection.execute(f"SELECT count(*) FROM {t}{where.get(t, '')}").fetchone()[0] for t in TABLES
        }
    finally:
        connection.close()


def assert_refused(
    running: RunningService, response: httpx.Response, status: int, code: str, *names: str
) -> None:
    """The response is ``status`` with error ``code`` and a message naming each of ``names``."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    for name in names:
        assert name in error["message"], (name, error)


def drug_names_in(path: Path, names: tuple[str, ...]) -> list[str]:
    """The ``names`` the service's database holds in clear (its file and -wal, or its PostgreSQL rows)."""
    data = stored_bytes(path).lower()
    return [f"{n} in {path.name}" for n in names if n.encode() in data]


# -- entry surgery (for forgeries and tampering) --------------------------------------------------


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def resigned(envelope: dict[str, str], signer: Identity, **changes: Any) -> dict[str, str]:
    """The entry with ``changes`` made to its payload, signed by ``signer`` (not the author)."""
    payload = json.loads(_b64(envelope["payload"])) | changes
    data = canonical(payload)
    return {"payload": b64url(data), "signature": b64url(signer.sign(data))}


def with_one_byte_changed(envelope: dict[str, str], within: bytes) -> dict[str, str]:
    """The entry with the first byte of the text ``within`` in its payload changed (its signature kept)."""
    payload = _b64(envelope["payload"])
    index = payload.index(within)
    changed = payload[:index] + bytes([payload[index] ^ 0x01]) + payload[index + 1 :]
    return {**envelope, "payload": b64url(changed)}


# -- refusals -------------------------------------------------------------------------------------


@pytest.fixture
def other(tmp_path: Path) -> PatientCLI:
    """A second patient with their own key and ledger."""
    directory = tmp_path / "other"
    directory.mkdir()
    return InProcessPatient(directory)


def test_forged_grants_are_refused_and_nothing_is_stored(
    running: RunningService, patient: PatientCLI, other: PatientCLI
) -> None:
    service_id = running.service.identity.public_id
    now = running.clock.now
    patient.ledger_cmd("add-medication", "warfarin")
    other.ledger_cmd("add-medication", "ibuprofen")
    grant_doc = grant(patient, service_id, not_before=now)
    genuine = make_slice(patient)
    other_grant = grant(other, service_id, not_before=now)
    other_slice = make_slice(other)
    mallory = Identity.generate()
    later = (now + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = row_counts(running.settings.db_path)

    # Another patient's slice, passed off as this patient's.
    relabelled = other_slice | {"patient": patient.public_id}
    assert_refused(running, present(running, None, relabelled), 422, "unknown-signer", "slice head")

    # The grant entry's terms changed (a year longer) and signed again by someone else's key.
    forged_grant = genuine | {
        "grant": genuine["grant"]
        | {"entry": resigned(genuine["grant"]["entry"], mallory, body=_later(genuine, later))}
    }
    assert_refused(running, present(running, None, forged_grant), 422, "bad-signature", "slice grant")

    # A grant entry written and signed by someone else as its author.
    foreign = genuine | {
        "grant": genuine["grant"]
        | {"entry": resigned(genuine["grant"]["entry"], mallory, author=mallory.public_id)}
    }
    response = present(running, None, foreign)
    assert_refused(running, response, 422, "unknown-signer", mallory.public_id, "only the patient")

    # The grant file of one grant with the slice of another.
    response = present(running, other_grant, genuine)
    assert_refused(running, response, 400, "input-error", str(other_grant["grant"]), str(grant_doc["grant"]))

    assert row_counts(running.settings.db_path) == before


def _later(slice_doc: dict[str, Any], expires_at: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_b64(slice_doc["grant"]["entry"]["payload"]))["body"]
    return body | {"expires_at": expires_at}


def test_a_grant_for_another_hospital_is_refused(running: RunningService, patient: PatientCLI) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    elsewhere = Identity.generate().public_id
    grant_doc = grant(patient, elsewhere, not_before=running.clock.now)
    slice_doc = make_slice(patient)
    before = row_counts(running.settings.db_path)
    response = present(running, grant_doc, slice_doc)
    assert_refused(running, response, 403, "wrong-grantee", elsewhere)
    assert row_counts(running.settings.db_path) == before


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        pytest.param(timedelta(hours=48, seconds=1), "grant-expired", id="expired"),
        pytest.param(timedelta(hours=48), "grant-expired", id="at-expires-at"),
        pytest.param(timedelta(hours=-1), "grant-not-yet-valid", id="not-yet-valid"),
    ],
)
def test_a_grant_outside_its_period_is_refused(
    running: RunningService, patient: PatientCLI, clock: FakeClock, offset: timedelta, code: str
) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    start = clock.now
    grant_doc = grant(patient, running.service.identity.public_id, not_before=start, hours=48)
    slice_doc = make_slice(patient)
    before = row_counts(running.settings.db_path)
    clock.now = start + offset
    response = present(running, grant_doc, slice_doc)
    assert_refused(running, response, 403, code, str(grant_doc["grant"]))
    assert row_counts(running.settings.db_path) == before


def test_a_tampered_slice_is_refused(running: RunningService, patient: PatientCLI) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    slice_doc = make_slice(patient)
    [entry] = slice_doc["trees"]["medications"]
    tampered = slice_doc | {
        "trees": slice_doc["trees"] | {"medications": [with_one_byte_changed(entry, b"warfarin")]}
    }
    before = row_counts(running.settings.db_path)
    response = present(running, grant_doc, tampered)
    assert_refused(running, response, 422, "bad-signature", "medications[0]")
    assert row_counts(running.settings.db_path) == before


@pytest.fixture
def presentable(running: RunningService, patient: PatientCLI) -> tuple[bytes, bytes]:
    """A grant and slice (as the body's JSON text before and after the slice) that would be admitted."""
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("add-allergy", "penicillin", "--reaction", "hives")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    make_slice(patient)
    return json.dumps({"grant": grant_doc, "ward": WARD, "bed": "1"}).encode(), (
        patient.directory / "slice.json"
    ).read_bytes()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_of_a_slice_is_refused_and_nothing_is_stored(
    running: RunningService, presentable: tuple[bytes, bytes], position: int, bit: int
) -> None:
    rest, slice_bytes = presentable
    index = position % len(slice_bytes)
    flipped = slice_bytes[:index] + bytes([slice_bytes[index] ^ (1 << bit)]) + slice_bytes[index + 1 :]
    body = rest[:-1] + b', "slice": ' + flipped + b"}"
    before = row_counts(running.settings.db_path)
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post("/admissions", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 403, 422), (index, response.text)
    assert row_counts(running.settings.db_path) == before


@pytest.mark.parametrize(
    ("body", "names"),
    [
        pytest.param(b'{"ward": "ward-a", "bed": ', ("admission",), id="truncated-json"),
        pytest.param(b'{"ward": "ward-a", "ward": "ward-b"}', ("ward",), id="duplicate-key"),
        pytest.param(b"[]", ("JSON object",), id="not-an-object"),
        pytest.param(b"", ("empty",), id="empty"),
    ],
)
def test_a_malformed_body_is_400(running: RunningService, body: bytes, names: tuple[str, ...]) -> None:
    before = row_counts(running.settings.db_path)
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post("/admissions", content=body, headers={"Content-Type": "application/json"})
    assert_refused(running, response, 400, "input-error", *names)
    assert row_counts(running.settings.db_path) == before


@pytest.mark.parametrize("missing", ["ward", "bed"])
def test_an_admission_without_ward_or_bed_is_400(
    running: RunningService, patient: PatientCLI, missing: str
) -> None:
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    body = {"grant": grant_doc, "slice": make_slice(patient), "ward": WARD, "bed": "3"}
    del body[missing]
    before = row_counts(running.settings.db_path)
    with running.client(running.token(WARD, "Adam Admissions", role="admission")) as client:
        response = client.post("/admissions", json=body)
    assert_refused(running, response, 400, "input-error", f"'{missing}'")
    assert row_counts(running.settings.db_path) == before


def test_an_admission_presented_twice_is_409(running: RunningService, patient: PatientCLI) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    admission = admit(running, patient)
    before = row_counts(running.settings.db_path)
    response = present(running, patient.read_json("grant.json"), patient.read_json("slice.json"), bed="9")
    assert_refused(running, response, 409, "conflict", str(patient.read_json("grant.json")["grant"]))
    assert row_counts(running.settings.db_path) == before
    assert admission["admission"].startswith("adm-")


def test_a_slice_carrying_its_own_revocation_is_refused(running: RunningService, patient: PatientCLI) -> None:
    """The CLI will not slice a revoked grant; a slice built anyway carries the revocation and is refused."""
    patient.ledger_cmd("add-medication", "warfarin")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=running.clock.now)
    patient.ledger_cmd("revoke", "grant.json")
    refused = patient(
        "ledger", "slice", str(patient.ledger), "--grant", "grant.json", "--out", "s.json", check=False
    )
    assert not (patient.directory / "s.json").exists(), refused
    slice_doc = _slice_ignoring_revocation(patient.ledger, str(grant_doc["grant"]))
    before = row_counts(running.settings.db_path)
    response = present(running, grant_doc, slice_doc)
    assert_refused(running, response, 403, "grant-revoked", str(grant_doc["grant"]))
    assert row_counts(running.settings.db_path) == before


def _slice_ignoring_revocation(ledger_path: Path, grant_id: str) -> dict[str, Any]:
    """A slice document built as ``make_slice`` builds one, without its refusal of a revoked grant."""
    with Ledger.open(ledger_path) as ledger:
        snapshot = ledger.read()
    head = snapshot.latest
    trees = ("medications", "allergies", "reactions", "revocations")
    return {
        "v": 1,
        "type": SLICE_TYPE,
        "patient": snapshot.patient,
        "head": head.envelope(),
        "grant": _grant_proof(snapshot, grant_id, head),
        "trees": {tree: [e.envelope() for e in snapshot.trees[tree]] for tree in trees},
        "write_grants": [],
    }


# -- updates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["on-the-ledger", "scheduled"])
def test_an_update_flagging_a_drug_in_use_raises_a_critical_alert_at_once(
    running: RunningService, patient: PatientCLI, clock: FakeClock, how: str
) -> None:
    """A reaction flagged mid-stay to a drug the patient takes, or that the ward has scheduled."""
    patient.ledger_cmd("add-medication", "warfarin", "--dose", "5 mg daily")
    admission = admit(running, patient)
    drug, dose = "warfarin", None
    if how == "scheduled":
        drug = "ibuprofen"
        with running.client(running.token(WARD, "Dana Day")) as client:
            item = {
                "admission": admission["admission"],
                "drug": drug,
                "due": (clock.now + timedelta(hours=8)).isoformat(),
            }
            response = client.post(f"/wards/{WARD}/schedule", json={"administrations": [item]})
        assert response.status_code == 201, response.text
        [dose] = response.json()["administrations"]
    assert [a for a in alerts(running) if a["alert"]["severity"] == "critical"] == []
    patient.ledger_cmd("flag-reaction", drug, "--reaction", "nosebleeds", "--severity", "severe")
    update = make_update(patient, admission["head"], out="update.json")
    response = post_update(running, admission["admission"], update)
    assert response.status_code == 200, response.text
    assert response.json()["head"] > admission["head"]
    [critical] = [a["alert"] for a in alerts(running) if a["alert"]["severity"] == "critical"]
    assert critical["kind"] == "reaction"
    assert [i["name"] for i in critical["ingredients"]] == [drug]
    assert critical["flagged_by"] == "patient"
    assert (critical["dose"] or {}).get("id") == (dose or {}).get("id")


def test_stale_and_tampered_updates_change_nothing(running: RunningService, patient: PatientCLI) -> None:
    patient.ledger_cmd("add-medication", "warfarin")
    admission = admit(running, patient)
    first_head = admission["head"]
    patient.ledger_cmd("add-allergy", "penicillin", "--reaction", "hives")
    first = make_update(patient, first_head, out="update-1.json")
    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds")
    second = make_update(patient, first_head, out="update-2.json")  # also since the first head
    [reaction] = second["trees"]["reactions"]
    tampered = second | {
        "trees": second["trees"] | {"reactions": [with_one_byte_changed(reaction, b"nosebleeds")]}
    }

    shown = alerts(running)
    before = row_counts(running.settings.db_path)
    assert_refused(
        running, post_update(running, admission["admission"], tampered), 422, "bad-signature", "reactions"
    )
    assert row_counts(running.settings.db_path) == before
    assert _versions(alerts(running)) == _versions(shown)

    response = post_update(running, admission["admission"], first)
    assert response.status_code == 200, response.text
    accepted = response.json()["head"]
    after_first_alerts = alerts(running)
    after_first = row_counts(running.settings.db_path)
    # Since an older head than the one now accepted: refused, nothing changes.
    response = post_update(running, admission["admission"], second)
    assert_refused(running, response, 400, "input-error", f"head {first_head}", f"head {accepted}")
    # The first update again (a replay): a no-op that says so, not an error.
    response = post_update(running, admission["admission"], first)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "admission": admission["admission"],
        "status": "active",
        "head": accepted,
        "applied": False,
    }
    assert row_counts(running.settings.db_path) == after_first
    assert _versions(alerts(running)) == _versions(after_first_alerts)


def _versions(listed: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(a["id"], a["alert"]["version"]) for a in listed]


def test_an_update_carrying_a_revocation_ends_the_admission(
    running: RunningService, patient: PatientCLI, clock: FakeClock
) -> None:
    """The slice was made before the grant was revoked, so the service admits it (it cannot know); the
    update carrying the revocation then ends the admission, and the old slice cannot be admitted again."""
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("flag-reaction", "ibuprofen", "--reaction", "wheeze", "--severity", "severe")
    grant_doc = grant(patient, running.service.identity.public_id, not_before=clock.now)
    slice_doc = make_slice(patient)
    patient.ledger_cmd("revoke", "grant.json")
    response = present(running, grant_doc, slice_doc)
    assert response.status_code == 201, response.text
    admission = response.json()
    nurse = running.token(WARD, "Nico Nurse")
    with running.client(nurse) as client:
        schedule = client.post(
            f"/wards/{WARD}/schedule",
            json={
                "administrations": [
                    {
                        "admission": admission["admission"],
                        "drug": "ibuprofen",
                        "dose": "400 mg",
                        "route": "oral",
                        "due": (clock.now + timedelta(hours=6)).isoformat(),
                    }
                ]
            },
        )
    assert schedule.status_code == 201, schedule.text
    shown = alerts(running)
    assert any(a["alert"]["severity"] == "critical" for a in shown)
    last_seen = read_events(running, WARD, nurse, until=lambda evs: evs[-1]["event"] == "alert")[-1]["id"]

    revocation = make_update(patient, admission["head"], out="revocation.json")
    response = post_update(running, admission["admission"], revocation)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ended"

    withdrawn = read_events(
        running, WARD, nurse, last_event_id=int(last_seen), until=lambda evs: evs[-1]["event"] == "withdrawn"
    )
    assert set(withdrawn[-1]["data"]["alerts"]) == {a["id"] for a in shown}
    for shift in ("day", "evening", "night"):
        assert alerts(running, shift=shift) == []
    assert drug_names_in(running.settings.db_path, ("warfarin", "ibuprofen", "wheeze")) == []

    # The slice from before the revocation, presented again: the grant has ended.
    before = row_counts(running.settings.db_path)
    response = present(running, grant_doc, slice_doc, bed="2")
    assert_refused(running, response, 403, "grant-revoked", str(grant_doc["grant"]))
    assert row_counts(running.settings.db_path) == before


# -- expiry while the service was down ------------------------------------------------------------


def audit_trail(
    url: str, admission: str, signer: Identity, *, audience: str, now: datetime
) -> httpx.Response:
    """``GET /admissions/{id}/audit`` with a request signed by ``signer``'s key."""
    path = f"/admissions/{admission}/audit"
    token = sign_request(signer, method="GET", target=path, audience=audience, now=now)
    with httpx.Client(base_url=url, timeout=10) as client:
        return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_an_expiry_that_passed_while_the_service_was_down_purges_at_start_up(
    tmp_path: Path, clock: FakeClock, patient: PatientCLI
) -> None:
    settings = service_settings(tmp_path)
    patient.ledger_cmd("add-medication", "warfarin")
    patient.ledger_cmd("flag-reaction", "warfarin", "--reaction", "nosebleeds", "--severity", "severe")
    with serving(settings, clock) as first:
        admission = admit(first, patient, hours=24)
        assert any(a["alert"]["severity"] == "critical" for a in alerts(first))
        service_id = first.service.identity.public_id

    # Down across the grant's end; nothing ran at expires_at.
    clock.now += timedelta(hours=30)
    assert drug_names_in(settings.db_path, ("warfarin",)) == [], "stored sealed while admitted"
    with reading(settings.db_path) as copy:
        assert copy.execute("SELECT count(*) FROM admission_keys").fetchone()[0] == 1
    with serving(settings, clock) as second:
        for shift in ("day", "evening", "night"):
            assert alerts(second, shift=shift) == []
        assert drug_names_in(settings.db_path, ("warfarin", "nosebleeds")) == []
        response = audit_trail(
            second.url,
            admission["admission"],
            Identity.load(patient.key),
            audience=service_id,
            now=clock.now,
        )
        assert response.status_code == 200, response.text
        trail = response.json()["audit"]
        [purge] = [r for r in trail if r["action"] == "purge"]
        assert purge["detail"]["reason"] == "grant expired"
        assert purge["at"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert trail[0]["action"] == "admit"
        # Gone from the service: an update now is refused as for an ended admission.
        refused = post_update(second, admission["admission"], {"v": 1})
        assert refused.status_code == 409, refused.text
