"""Signed calls from the service to a patient's ledger server, beyond the slice reads of
``ledger.remote``: a request signed by the service's key as the grant's grantee (audience: the patient),
within the ``ledger_timeout`` deadline, its answer bounded to ``MAX_ANSWER_BYTES``.
"""

from __future__ import annotations

import json

import anyio
import httpx

from alertsvc.admissions import Admission
from alertsvc.errors import Conflict, InputError, Unreachable
from alertsvc.ledger.request_tokens import sign_request
from alertsvc.service_api import ServiceApi

MAX_ANSWER_BYTES = 64 * 1024


async def call_ledger_server(
    service: ServiceApi, admission: Admission, method: str, path: str, body: bytes
) -> bytes:
    """A request to her ledger server signed by the service, within ``ledger_timeout``: the answer's body
    (2xx), or Unreachable (down, slow, 5xx), Conflict (409), or InputError naming her server's reason."""
    base = admission.ledger_url
    url = base + path
    target = httpx.URL(url).raw_path.decode("ascii")
    token = sign_request(
        service.identity,
        method=method,
        target=target,
        body=body,
        audience=admission.patient,
        now=service.clock(),
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    where = f"the patient's ledger server {base}"
    try:
        with anyio.fail_after(service.settings.ledger_timeout):
            async with (
                httpx.AsyncClient(follow_redirects=False, trust_env=False) as client,
                client.stream(method, url, headers=headers, content=body or None) as response,
            ):
                raw = b""
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if len(raw) > MAX_ANSWER_BYTES:
                        raise Unreachable(f"{where}: an answer over {MAX_ANSWER_BYTES} bytes")
                status = response.status_code
    except TimeoutError as exc:
        raise Unreachable(f"{where} did not answer within {service.settings.ledger_timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise Unreachable(f"{where} could not be reached ({type(exc).__name__}: {exc})") from exc
    if 200 <= status < 300:
        return raw
    message = _message(raw)
    if status in (403, 409):  # the grant was revoked or has expired; a request already answered
        raise Conflict(f"{where}: {message}")
    if status >= 500 or status in (401, 429):
        raise Unreachable(f"{where} answered HTTP {status}: {message}")
    raise InputError(f"{where} refused the request (HTTP {status}): {message}")


def _message(raw: bytes) -> str:
    try:
        error = json.loads(raw).get("error", {})
        return str(error.get("message", "no reason given"))[:300]
    except (ValueError, AttributeError):
        return "no reason given"
