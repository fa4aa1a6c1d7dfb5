"""Settings: one frozen dataclass, read from any mapping (``from_env(os.environ)`` at the edge only).

Every field can be set from the environment as ``ALERTSVC_<FIELD NAME IN CAPITALS>``; the command line
passes its options on top. Nothing here reads ``os.environ`` by itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alertsvc.errors import ConfigError

PREFIX = "ALERTSVC_"


REPO = Path(__file__).resolve().parent.parent


def _setting(default: Any, help: str) -> Any:
    """A settings field with its help text (shown by ``alertsvc serve --help``)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Everything the service and the command line can be configured with."""

    db_path: Path = _setting(Path("alertsvc.db"), "SQLite file of the service (admissions, alerts, audit).")
    database_url: str | None = _setting(
        None, "PostgreSQL instead of the SQLite file: postgresql://user@host:port/dbname (several processes)."
    )
    host: str = _setting("127.0.0.1", "Address to listen on (loopback by default).")
    port: int = _setting(8000, "Port to listen on.")
    data_dir: Path = _setting(REPO / "data", "Generated knowledge files (see data/SOURCES.md).")
    dashboards_dir: Path = _setting(REPO / "dashboards", "Ward dashboard and patient pages to serve.")
    service_key: Path = _setting(
        Path("alertsvc-service.key"), "The service's Ed25519 key (0600; made if absent)."
    )
    kek_file: str = _setting(
        "",
        "The hospital's key-encryption key (0600; made if absent), which wraps every admission's data key;"
        " shared by all processes of a hospital. Empty: hospital.kek beside the service key.",
    )
    rxnav_url: str = _setting("", "RxNav REST base URL (RxNav or RxNav-in-a-Box); empty: offline only.")
    rxnav_timeout: float = _setting(3.0, "Total deadline in seconds for one RxNav look-up, retries included.")
    rxnav_cache_ttl: float = _setting(7 * 24 * 3600.0, "Seconds an RxNav answer stays in the local cache.")
    lead_time_minutes: int = _setting(60, "Minutes before a dose is due that its alert is raised again.")
    follow_up_minutes: str = _setting(
        "60",
        "Minutes after which a held dose's unanswered follow-up comes back to the top (sooner if the next"
        " dose of the drug is due): 'N' for every ward, or 'N;ward=M;...' to set some wards apart.",
    )
    overdue_grace_minutes: int = _setting(
        30, "Minutes after a dose is due with no outcome recorded before it is overdue (ISMP: 30)."
    )
    ledger_poll_seconds: float = _setting(20.0, "Seconds between reads of a linked patient ledger.")
    ledger_timeout: float = _setting(10.0, "Total deadline in seconds for one read of a patient's ledger.")
    ledger_watch: int = _setting(
        1,
        "1: hold a watch on each linked patient ledger (GET /watch) and read changes at once; 0: poll only.",
    )
    ward_timezone: str = _setting("Europe/London", "IANA time zone of wards created without one.")
    wards: str = _setting(
        "", "Wards to create at start-up: 'id[=Time/Zone][@locale];...', e.g. 'icu=Europe/London@en-GB;ed'."
    )
    ward_locale: str = _setting(
        "en-US", "Drug names in alerts of wards configured without a locale: en-US (RxNorm) or en-GB (BNF)."
    )
    failpoints: str = _setting(
        "", "Crash tests only: failpoints that SIGKILL the process (never in production)."
    )
    clock_start: str = _setting(
        "",
        "Drills and tests only (never on a ward): the clock starts at this UTC instant (ISO 8601).",
    )
    cds_clients: str = _setting("", "Trusted CDS Hooks clients: 'issuer=ed25519:<key>;...' (EdDSA JWTs).")
    cds_client_jwks: str = _setting(
        "", "JSON file mapping trusted CDS Hooks client issuers to their JWKS (ES384, RS384, EdDSA keys)."
    )
    # Limits (README, "Limits"): far above what a hospital sends, low enough that no request can exhaust
    # memory, fill the alert list or hold the event loop. Over a limit: 413 (body) or 422 naming the field.
    max_body_bytes: int = _setting(8 * 1024 * 1024, "Largest request body in bytes (larger: 413).")
    max_slice_entries: int = _setting(2000, "Most entries in one slice or ledger update, all trees together.")
    max_medications: int = _setting(
        100, "Most active medications in one slice; also the most allergies, and flagged reactions."
    )
    max_schedule_items: int = _setting(1000, "Most administrations plus medication requests in one request.")
    max_doses: int = _setting(5000, "Most doses one schedule request may plan.")
    max_list_items: int = _setting(2000, "Most items in any list of a request body.")
    max_name_chars: int = _setting(200, "Longest ward, bed, label, drug name, dose, route or reason code.")
    max_note_chars: int = _setting(2000, "Longest comment, note, grant link or reaction description.")
    max_resource_bytes: int = _setting(
        64 * 1024, "Largest ledger entry or FHIR resource in a request (bytes)."
    )
    rxnav_request_seconds: float = _setting(
        5.0, "Total RxNav time of one request: its look-ups run in parallel under this one deadline."
    )
    rxnav_parallel: int = _setting(8, "RxNav look-ups made at once (for all requests together).")
    staff_token_max_hours: float = _setting(24.0, "Longest lifetime (exp - iat) of a staff token accepted.")
    token_clock_skew_seconds: float = _setting(
        60.0, "How far ahead of the service's clock a token's iat may be."
    )
    max_streams_per_token: int = _setting(5, "Most event streams one staff token may hold open (more: 429).")
    # Practitioner entries written back to the patient's ledger (alertsvc.bedside, alertsvc.delivery).
    hospital_name: str = _setting(
        "alertsvc hospital", "The hospital's name, as practitioner entries show it."
    )
    delivery_retry_seconds: float = _setting(5.0, "Wait after a first failed delivery to a patient's ledger.")
    delivery_retry_max_seconds: float = _setting(1800.0, "Longest wait between deliveries (it doubles).")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> Settings:
        """Settings from ``ALERTSVC_*`` variables in ``environ``, then ``overrides`` (None is ignored)."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _convert(name: str, type_name: Any, raw: str) -> Any:
    kind = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", str(type_name))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not a valid {kind}") from exc
    return raw
