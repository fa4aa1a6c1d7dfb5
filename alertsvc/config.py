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


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Settings:
    """Everything the service and the command line can be configured with."""

    db_path: Path = Path("alertsvc.db")
    """SQLite file of the hospital service (admissions, alerts, outbox, audit)."""
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = field(default_factory=_default_data_dir)
    """Generated knowledge files (see data/SOURCES.md)."""
    service_key: Path = Path("alertsvc-service.key")
    """The service's Ed25519 secret key; created with mode 0600 on first start if absent."""
    rxnav_url: str = ""
    """RxNav REST base URL (public RxNav or RxNav-in-a-Box); empty means offline terminology only."""
    rxnav_timeout: float = 3.0
    """Total deadline in seconds for one RxNav look-up, retries included."""
    rxnav_cache_ttl: float = 7 * 24 * 3600.0
    """Seconds an RxNav answer stays in the local cache."""
    lead_time_minutes: int = 60
    """How long before a dose is due its alert is raised (again)."""
    ward_timezone: str = "Europe/London"
    """Time zone of wards created without one."""

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
