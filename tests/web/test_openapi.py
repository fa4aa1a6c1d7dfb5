"""``GET /openapi.json`` describes every route the service serves, and schemathesis, run from that
description against a real server on 127.0.0.1, finds no server error and no answer that departs from it.

``make test`` runs schemathesis with 25 examples per operation (about 800 cases, 15 s on two cores);
``make soak`` runs it with 300 (ALERTSVC_SCHEMATHESIS_EXAMPLES), about 4,000 cases in six minutes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from alertsvc.web.app import create_app
from tests.web.conftest import RunningService
from tests.web.fuzz_target import CHECKS, fuzz_target, run_schemathesis

REDUCED_EXAMPLES = int(os.environ.get("ALERTSVC_SCHEMATHESIS_EXAMPLES", "25"))


def test_the_document_describes_every_route_with_its_security_and_errors(running: RunningService) -> None:
    document = httpx.get(running.url + "/openapi.json", timeout=10).json()
    assert document["openapi"] == "3.1.0"
    app = create_app(running.settings, service=running.service)
    served = {
        (method.lower(), route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert described == served
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"staffToken", "patientSignedRequest", "cdsClientJwt"}
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            where = f"{method.upper()} {path}"
            assert not operation.get("x-undocumented"), f"{where} is not described in openapi_operations"
            assert any(code.startswith("2") for code in operation["responses"]), where
            errors = [r for code, r in operation["responses"].items() if code[0] in "45"]
            assert all(r == {"$ref": f"#/components/responses/E{r['$ref'][-3:]}"} for r in errors), where
            if operation["security"]:
                assert "401" in operation["responses"], f"{where} takes a token but lists no 401"
            parameters = [p.get("name") or p.get("$ref") for p in operation.get("parameters", [])]
            if method == "post":
                assert "#/components/parameters/IdempotencyKey" in parameters, where
            assert [p for p in parameters if p in path.replace("{", " ").replace("}", " ").split()] == [
                p for p in path.replace("{", " ").replace("}", " ").split() if "/" not in p
            ], f"{where}: path parameters"
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    assert document["paths"]["/admissions/{admission}/entries"]["post"]["security"] == [
        {"staffToken": []},
        {"patientSignedRequest": []},
    ]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_document(tmp_path: Path) -> None:
    with fuzz_target(tmp_path) as target:
        report, output = run_schemathesis(target, tmp_path, max_examples=REDUCED_EXAMPLES, seed=33)
        health = httpx.get(target.url + "/healthz", timeout=10)
    assert health.status_code == 200
    assert report["exit_code"] == 0, output[-20000:]
    summary = summarise(report)
    assert summary["operations tested"] == 23, (
        summary
    )  # 14, observations, 4 bedside, 2 scope requests, 2 actions
    assert summary["cases"] >= 500, summary
    assert summary["server errors"] == 0 and summary["failures"] == 0, output[-20000:]
    print(f"schemathesis: {summary}")


def summarise(report: dict[str, Any]) -> dict[str, int]:
    """Counts from schemathesis's JSON report: operations tested, cases run, failures, 5xx among them."""
    failures = report.get("failures", [])
    return {
        "operations tested": report["operations"]["tested"],
        "cases": report["test_cases"]["generated"],
        "failures": sum(f["count"] for f in failures),
        "server errors": sum(f["count"] for f in failures if f["type"] == "ServerError"),
        "errors": len(report.get("errors", [])),
    }


def test_the_checks_run_include_server_errors_and_conformance() -> None:
    assert {"not_a_server_error", "response_schema_conformance", "status_code_conformance"} <= set(CHECKS)
