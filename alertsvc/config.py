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
    host: str = _setting("127.0.0.1", "Address to listen on (loopback by default).")
    port: int = _setting(8000, "Port to listen on.")
    data_dir: Path = _setting(REPO / "data", "Generated knowledge files (see data/SOURCES.md).")
    dashboards_dir: Path = _setting(REPO / "dashboards", "Ward dashboard and patient pages to serve.")
    service_key: Path = _setting(
        Path("alertsvc-service.key"), "The service's Ed25519 key (0600; made if absent)."
    )
    rxnav_url: str = _setting("", "RxNav REST base URL (RxNav or RxNav-in-a-Box); empty: offline only.")
    rxnav_timeout: float = _setting(3.0, "Total deadline in seconds for one RxNav look-up, retries included.")
    rxnav_cache_ttl: float = _setting(7 * 24 * 3600.0, "Seconds an RxNav answer stays in the local cache.")
    lead_time_minutes: int = _setting(60, "Minutes before a dose is due that its alert is raised again.")
    ledger_poll_seconds: float = _setting(20.0, "Seconds between reads of a linked patient ledger.")
    ledger_timeout: float = _setting(10.0, "Total deadline in seconds for one read of a patient's ledger.")
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
    cds_clients: str = _setting("", "Trusted CDS Hooks clients: 'issuer=ed25519:<key>;...' (EdDSA JWTs).")
    cds_client_jwks: str = _setting(
        "", "JSON file mapping trusted CDS Hooks client issuers to their JWKS (ES384, RS384, EdDSA keys)."
    )

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
