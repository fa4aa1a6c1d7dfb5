"""A real alertsvc on 127.0.0.1 with something in it to aim at (a ward, an admitted patient with a
critical alert, a scheduled dose, a trusted CDS client), and schemathesis run against its /openapi.json.

Used by ``test_openapi.py`` (a reduced run in ``make test``) and ``make soak`` (a long one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from alertsvc.access import issue_staff_token
from alertsvc.config import Settings
from alertsvc.ledger import actions, grants
from alertsvc.ledger.canonical import loads
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.log import Ledger
from alertsvc.ledger.slices import make_slice
from alertsvc.service import Service
from alertsvc.web.app import create_app
from tests.servers import uvicorn_thread

REPO = Path(__file__).resolve().parents[2]
WARD = "ward-1"
CDS_ISSUER = "https://ehr.example"
CDS_SERVICE = "alertsvc-medication-safety-sign"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "ignored_auth",
    "unsupported_method",
)
"""Not ``positive_data_acceptance``: a body the schema allows is refused all the same when its signatures
do not verify, and no generator can sign a patient's slice."""


@dataclass
class Target:
    url: str
    service: Service
    context: dict[str, Any]


@contextmanager
def fuzz_target(directory: Path) -> Iterator[Target]:
    """Serve a fresh service in ``directory`` with one admitted patient, a dose and a critical alert."""
    cds_seed, patient_seed = os.urandom(32), os.urandom(32)
    cds = Identity.from_seed(cds_seed)
    settings = Settings(
        db_path=directory / "service.db",
        service_key=directory / "service.key",
        wards=f"{WARD}=Europe/London",
        cds_clients=f"{CDS_ISSUER}={cds.public_id}",
    )
    app = create_app(settings)
    with uvicorn_thread(app) as (url, _):
        service: Service = app.state.service
        now = datetime.now(UTC)
        admission_token = issue_staff_token(
            service.identity, ward=WARD, name="Ada", role="admission", now=now, hours=12
        )
        nurse_token = issue_staff_token(
            service.identity, ward=WARD, name="Nia", role="nurse", now=now, hours=12
        )
        slice_value = _slice(Identity.from_seed(patient_seed), service.identity.public_id, directory, now)
        with httpx.Client(base_url=url, timeout=30) as client:
            admitted = client.post(
                "/admissions",
                json={"slice": slice_value, "ward": WARD, "bed": "7", "label": "Bed 7"},
                headers={"Authorization": f"Bearer {admission_token}"},
            )
            assert admitted.status_code == 201, admitted.text
            admission = admitted.json()["admission"]
            nurse = {"Authorization": f"Bearer {nurse_token}"}
            due = (now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
            planned = client.post(
                f"/wards/{WARD}/schedule",
                json={"administrations": [{"admission": admission, "drug": "ibuprofen", "due": due}]},
                headers=nurse,
            )
            assert planned.status_code == 201, planned.text
            listed = client.get(f"/wards/{WARD}/alerts", headers=nurse).json()["alerts"]
        [critical] = [a for a in listed if a["alert"]["severity"] == "critical"]
        context = {
            "base_url": url,
            "service_id": service.identity.public_id,
            "admission_token": admission_token,
            "nurse_token": nurse_token,
            "patient_seed": patient_seed.hex(),
            "cds_seed": cds_seed.hex(),
            "cds_issuer": CDS_ISSUER,
            "cds_service": CDS_SERVICE,
            "ward": WARD,
            "admission": admission,
            "dose": planned.json()["administrations"][0]["id"],
            "alert": critical["id"],
        }
        yield Target(url, service, context)


def _slice(patient: Identity, grantee: str, directory: Path, now: datetime) -> dict[str, Any]:
    """A ledger with warfarin taken and a reaction to ibuprofen flagged, shared with the service."""
    with Ledger.init(directory / "patient.ledger", patient, now=now) as ledger:
        grant = grants.new_grant(
            patient, grantee=grantee, scope=("medications", "allergies", "reactions"),
            not_before=now - timedelta(minutes=1), hours=24, now=now,
        )  # fmt: skip
        warfarin = actions.medication(patient, "warfarin", now=now)
        flag = actions.flagged_reaction(patient, "ibuprofen", reaction="swollen lips", now=now)
        ledger.append([warfarin, flag, grant], patient=patient, now=now)
        value: dict[str, Any] = loads(make_slice(ledger.read(), grant.id, now=now), what="slice")
    return value


def run_schemathesis(
    target: Target, directory: Path, *, max_examples: int, seed: int, max_time: int | None = None
) -> tuple[dict[str, Any], str]:
    """Run the ``schemathesis`` command against the target's /openapi.json; its JSON report and output
    (every request and answer is in ``cases.har`` beside the report)."""
    config = directory / "schemathesis.toml"
    config.write_text(
        "\n".join(
            [
                "[generation]",
                'database = "none"',
                "",
                "[[operations]]",
                'include-path = "/wards/{ward}/alerts/stream"',
                "max-stream-events = 1",
                "request-timeout = 1.0",
                "",
            ]
        )
    )
    report = directory / "schemathesis-report.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(config), "--no-color",
        "run", target.url + "/openapi.json",
        "--checks", ",".join(CHECKS),
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(max_examples),
        "--seed", str(seed),
        "--workers", "1",
        "--request-timeout", "10",
        "--report", "json,har", "--report-json-path", str(report),
        "--report-har-path", str(directory / "cases.har"),
        *(["--max-time", str(max_time)] if max_time else []),
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMATHESIS_HOOKS": "tests.web.schemathesis_hooks",
        "ALERTSVC_SCHEMATHESIS": json.dumps(target.context),
    }
    result = subprocess.run(command, env=env, cwd=directory, capture_output=True, text=True, timeout=1800)
    output = result.stdout + result.stderr
    parsed: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
    parsed["exit_code"] = result.returncode
    return parsed, output
