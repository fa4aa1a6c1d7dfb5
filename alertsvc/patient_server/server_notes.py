"""``POST /api/entries/{entry}/notes`` on the patient's pages: her own signed note on a reaction or
allergy a practitioner wrote into her ledger (``practitioners.patient_note``). The practitioner's entry is
never changed; the note is a new entry signed by her. Page token required, as on every POST."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from alertsvc import errors
from alertsvc.ledger.practitioners import MAX_NOTE, patient_note
from alertsvc.patient_server.server_state import json_body, server_of


async def add_note(request: Request) -> JSONResponse:
    """``{"text"}`` -> ``201 {"entry", "kind", "head", "about"}``."""
    server = server_of(request)
    server.require_csrf(request)
    body = await json_body(request, what="note")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise errors.InputError("'text' is required: the words of your note")
    if len(text) > MAX_NOTE:
        raise errors.InputError(f"'text' is longer than {MAX_NOTE} characters")
    target_id = request.path_params["entry"]
    snapshot = server.snapshot()
    try:
        _, _, target = snapshot.locate(target_id)
    except errors.InputError:
        raise errors.NotFound(f"no entry {target_id[:80]} in this ledger") from None
    now = server.clock()
    note = patient_note(server.key, target, text, now=now)
    with server.ledger() as ledger:
        head = ledger.append([note], patient=server.key, now=now)
    return JSONResponse(
        {"entry": note.id, "kind": note.kind, "head": head.seq, "about": target.id}, status_code=201
    )


ROUTES = [Route("/api/entries/{entry}/notes", add_note, methods=["POST"])]
