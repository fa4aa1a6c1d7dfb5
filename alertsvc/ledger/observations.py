"""Observation entries: a laboratory or ECG value as a FHIR R4 Observation, coded in LOINC, with a UCUM unit.

Only the codes the check uses as modifiers are accepted (``CODES``); anything else, or a value without the
unit its code needs, is an ``InputError`` naming what was wrong, and nothing is signed or stored.

| analyte | LOINC | LOINC long common name (loinc.org) | unit stored (UCUM) | also read |
|---|---|---|---|---|
| INR | 6301-6 | INR in Platelet poor plasma by Coagulation assay | ``{INR}`` | INR, ratio, 1, or no unit |
| potassium | 2823-3 | Potassium [Moles/volume] in Serum or Plasma | ``mmol/L`` | mEq/L (equal for K+) |
| creatinine | 2160-0 | Creatinine [Mass/volume] in Serum or Plasma | ``mg/dL`` | |
| creatinine | 14682-9 | Creatinine [Moles/volume] in Serum or Plasma | ``umol/L`` | µmol/L |
| eGFR | 33914-3 | GFR/1.73 sq M.predicted, creatinine-based (MDRD) | ``mL/min/{1.73_m2}`` | mL/min/1.73m2 |
| eGFR | 62238-1 | GFR/1.73 sq M.predicted, creatinine-based (CKD-EPI) | ``mL/min/{1.73_m2}`` | |
| eGFR | 98979-8 | GFR/1.73 sq M.predicted, creatinine-based (CKD-EPI 2021) | ``mL/min/{1.73_m2}`` | |
| QTc | 8636-3 | Q-T interval corrected | ``ms`` | msec |

Units are UCUM (https://ucum.org); ``{INR}`` and ``{1.73_m2}`` are UCUM annotations. The body:
``{"resourceType": "Observation", "id", "status": "final", "category", "code": {LOINC coding, text},
"subject": <patient identity>, "effectiveDateTime", "issued", "valueQuantity": {"value", "unit",
"system": UCUM, "code"}, "performer": [<author identity, with the recording clinician's display when a
practitioner wrote it>]}``. The latest value per code is what the check uses; see
``alertsvc.knowledge.observations``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from alertsvc.errors import InputError
from alertsvc.ledger.entries import (
    SignedEntry,
    format_time,
    parse_time,
    require_dict,
    require_list,
    require_str,
    sign_entry,
)
from alertsvc.ledger.identity import Identity
from alertsvc.ledger.references import identity_ref, new_resource_id, read_identity_ref

Analyte = Literal["inr", "potassium", "creatinine", "egfr", "qtc"]
"""What a LOINC code measures, in the words the check's modifiers key on (the same five names as
``alertsvc.knowledge.observation_rules.Analyte``; the ledger knows no pharmacology, so it names them
itself, and a test holds the two lists equal)."""

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"


@dataclass(frozen=True)
class LoincCode:
    """A LOINC code the check uses: its analyte, names, UCUM unit and the spellings of it read."""

    code: str
    analyte: Analyte  # "inr", "potassium", "creatinine", "egfr", "qtc": what the modifiers key on
    display: str  # LOINC's long common name
    short: str  # what a ward reads: "INR", "potassium", "eGFR"
    unit: str  # UCUM code stored
    unit_display: str  # what a ward reads: "mmol/L", "mL/min/1.73m2"
    spellings: tuple[str, ...]  # other ways of writing the unit, compared after ``_unit_key``
    category: str  # FHIR observation-category: laboratory or procedure (an ECG)
    unit_optional: bool = False  # a ratio (INR): no unit written means the ratio itself
    low: float = 0.0  # values outside [low, high] are refused as mistyped
    high: float = math.inf


_EGFR_SPELLINGS = ("mL/min/1.73m2", "mL/min/1.73 m2", "mL/min/1.73m²", "mL/min/{1.73_m2}", "mL/min/1.73_m2")
_EGFR = "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in"
_ANY = "Serum, Plasma or Blood by Creatinine-based formula"

CODES: Final[Mapping[str, LoincCode]] = {
    c.code: c
    for c in (
        LoincCode("6301-6", "inr", "INR in Platelet poor plasma by Coagulation assay", "INR", "{INR}",
                  "INR", ("INR", "ratio", "1", "{ratio}"), "laboratory", unit_optional=True, high=20),
        LoincCode("2823-3", "potassium", "Potassium [Moles/volume] in Serum or Plasma", "potassium",
                  "mmol/L", "mmol/L", ("mEq/L", "meq/L"), "laboratory", high=15),
        LoincCode("2160-0", "creatinine", "Creatinine [Mass/volume] in Serum or Plasma", "creatinine",
                  "mg/dL", "mg/dL", (), "laboratory", high=40),
        LoincCode("14682-9", "creatinine", "Creatinine [Moles/volume] in Serum or Plasma", "creatinine",
                  "umol/L", "µmol/L", ("µmol/L", "μmol/L", "micromol/L"), "laboratory", high=3500),
        LoincCode("33914-3", "egfr", f"{_EGFR} Serum or Plasma by Creatinine-based formula (MDRD)", "eGFR",
                  "mL/min/{1.73_m2}", "mL/min/1.73m2", _EGFR_SPELLINGS, "laboratory", high=250),
        LoincCode("62238-1", "egfr", f"{_EGFR} {_ANY} (CKD-EPI)", "eGFR",
                  "mL/min/{1.73_m2}", "mL/min/1.73m2", _EGFR_SPELLINGS, "laboratory", high=250),
        LoincCode("98979-8", "egfr", f"{_EGFR} {_ANY} (CKD-EPI 2021)", "eGFR",
                  "mL/min/{1.73_m2}", "mL/min/1.73m2", _EGFR_SPELLINGS, "laboratory", high=250),
        LoincCode("8636-3", "qtc", "Q-T interval corrected", "QTc", "ms", "ms", ("msec",), "procedure",
                  high=1000),
    )
}  # fmt: skip
"""The LOINC codes accepted, by code (LOINC long common names as published at loinc.org)."""

NAMES: Final[Mapping[str, str]] = {
    "inr": "6301-6",
    "potassium": "2823-3",
    "k": "2823-3",
    "creatinine": "2160-0",
    "egfr": "98979-8",
    "qtc": "8636-3",
}
"""Names a person may write instead of a code (lower case) -> the code meant. Creatinine in µmol/L is
read as 14682-9 by its unit (``resolve``)."""

_CODE = re.compile(r"\d{1,7}-\d")


def _unit_key(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("²", "2").lower()


@dataclass(frozen=True)
class Quantity:
    """A checked value: its LOINC code, the value and the unit as stored (UCUM)."""

    code: LoincCode
    value: float

    @property
    def text(self) -> str:
        """ "INR 4.2", "potassium 5.6 mmol/L"."""
        unit = "" if self.code.analyte == "inr" else f" {self.code.unit_display}"
        return f"{self.code.short} {format_value(self.value)}{unit}"


def format_value(value: float) -> str:
    """4.2 -> "4.2", 25.0 -> "25"."""
    return f"{value:g}"


def resolve(code_or_name: str, value: float, unit: str | None) -> Quantity:
    """Check a code (or a name: INR, potassium, K, creatinine, eGFR, QTc), a value and a unit.

    >>> resolve("INR", 4.2, None).text
    'INR 4.2'
    >>> resolve("creatinine", 150, "µmol/L").code.code
    '14682-9'
    >>> resolve("1234-5", 1, "mg")
    Traceback (most recent call last):
    alertsvc.errors.InputError: unknown LOINC code '1234-5': alertsvc reads 6301-6 (INR), ...
    """
    text = code_or_name.strip()
    code = CODES.get(text) or CODES.get(NAMES.get(text.lower(), ""))
    if code is None:
        known = ", ".join(f"{c.code} ({c.short})" for c in CODES.values())
        if _CODE.fullmatch(text):
            raise InputError(f"unknown LOINC code {text!r}: alertsvc reads {known}")
        raise InputError(
            f"unknown observation {text!r}: give a LOINC code ({known}) or a name "
            "(INR, potassium, K, creatinine, eGFR, QTc)"
        )
    molar = {_unit_key(u) for u in ("umol/L", *CODES["14682-9"].spellings)}
    if text.lower() == "creatinine" and unit is not None and _unit_key(unit) in molar:
        code = CODES["14682-9"]
    return Quantity(code, _value(code, value, unit))


def _value(code: LoincCode, value: float, unit: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{code.short} ({code.code}): the value must be a finite number, not {value!r}")
    given = (unit or "").strip()
    if not given:
        if not code.unit_optional:
            raise InputError(
                f"{code.short} ({code.code}) needs a unit: {code.unit_display} (UCUM {code.unit})"
            )
    elif _unit_key(given) not in {_unit_key(u) for u in (code.unit, code.unit_display, *code.spellings)}:
        raise InputError(
            f"{code.short} ({code.code}) is measured in {code.unit_display} (UCUM {code.unit}), not {given!r}"
        )
    if not code.low <= value <= code.high:
        raise InputError(
            f"{code.short} {format_value(value)} is outside {format_value(code.low)}-"
            f"{format_value(code.high)} {code.unit_display}: check the value and its unit"
        )
    return float(value)


def observation_resource(
    *,
    resource_id: str,
    patient: str,
    quantity: Quantity,
    effective: datetime,
    issued: datetime,
    performer: str,
    performer_display: str = "",
) -> dict[str, Any]:
    """The FHIR Observation of a checked value (see the module docstring)."""
    code = quantity.code
    actor = identity_ref(performer)
    if performer_display:
        actor["display"] = performer_display
    value: float | int = int(quantity.value) if quantity.value.is_integer() else quantity.value
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": code.category}]}],
        "code": {
            "coding": [{"system": LOINC, "code": code.code, "display": code.display}],
            "text": code.short,
        },
        "subject": identity_ref(patient),
        "effectiveDateTime": format_time(effective),
        "issued": format_time(issued),
        "valueQuantity": {"value": value, "unit": code.unit_display, "system": UCUM, "code": code.unit},
        "performer": [actor],
    }


def observation(
    author: Identity,
    quantity: Quantity,
    *,
    effective: datetime,
    now: datetime,
    patient: str | None = None,
    grant: str | None = None,
    performer_display: str = "",
) -> SignedEntry:
    """A signed observation entry: by the patient (her own device), or by a practitioner under ``grant``."""
    if effective > now:
        raise InputError(f"the observation is dated {format_time(effective)}, after now ({format_time(now)})")
    owner = patient or author.public_id
    body = observation_resource(
        resource_id=new_resource_id(),
        patient=owner,
        quantity=quantity,
        effective=effective,
        issued=now,
        performer=author.public_id,
        performer_display=performer_display,
    )
    return sign_entry(author, kind="observation", patient=owner, body=body, created=now, grant=grant)


# --- reading ---


@dataclass(frozen=True)
class Observation:
    """A verified observation entry: the value, its LOINC code and when it was measured."""

    resource_id: str
    entry_id: str
    quantity: Quantity
    effective: datetime
    author: str
    recorded: datetime
    performer: str = ""  # the recording clinician's display, when given

    @property
    def code(self) -> str:
        return self.quantity.code.code


def read_observation(entry: SignedEntry) -> Observation:
    """An observation entry's body, checked as ``resolve`` checks new values (InputError naming the entry)."""
    what = f"{entry.kind} entry {entry.id}"
    body = entry.body
    if body.get("resourceType") != "Observation":
        raise InputError(f"{what}: body is a {body.get('resourceType')!r}, expected Observation")
    if read_identity_ref(body.get("subject"), what=f"{what} subject") != entry.patient:
        raise InputError(f"{what}: subject is not the entry's patient {entry.patient}")
    resource_id = require_str(body.get("id"), what=f"{what} id")
    if body.get("status") not in ("final", "amended", "corrected"):
        raise InputError(f"{what}: status {body.get('status')!r} is not final, amended or corrected")
    codings = require_list(
        require_dict(body.get("code"), what=f"{what} code").get("coding"), what=f"{what} code"
    )
    loinc = [c for c in codings if isinstance(c, dict) and c.get("system") == LOINC]
    if len(loinc) != 1:
        raise InputError(f"{what}: code needs exactly one LOINC coding ({LOINC})")
    quantity_json = require_dict(body.get("valueQuantity"), what=f"{what} valueQuantity")
    if quantity_json.get("system", UCUM) != UCUM:
        raise InputError(f"{what}: valueQuantity.system must be UCUM ({UCUM})")
    raw_value = quantity_json.get("value")
    if isinstance(raw_value, bool) or not isinstance(raw_value, int | float):
        raise InputError(f"{what}: valueQuantity.value must be a number")
    unit = quantity_json.get("code")
    try:
        quantity = resolve(
            require_str(loinc[0].get("code"), what=f"{what} LOINC code"),
            float(raw_value),
            None if unit is None else require_str(unit, what=f"{what} unit"),
        )
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from exc
    performers = require_list(body.get("performer", []), what=f"{what} performer")
    display = ""
    if performers:
        first = require_dict(performers[0], what=f"{what} performer")
        display = first.get("display", "") if isinstance(first.get("display"), str) else ""
    return Observation(
        resource_id=resource_id,
        entry_id=entry.id,
        quantity=quantity,
        effective=parse_time(body.get("effectiveDateTime"), what=f"{what} effectiveDateTime"),
        author=entry.author,
        recorded=entry.created,
        performer=display,
    )


def current_observations(entries: Iterable[SignedEntry]) -> tuple[Observation, ...]:
    """The last entry per resource id (an amended value replaces the one it amends)."""
    return latest_observations(map(read_observation, entries))


def latest_observations(observations: Iterable[Observation]) -> tuple[Observation, ...]:
    """``current_observations`` of observation entries already read (in ledger order)."""
    return tuple({o.resource_id: o for o in observations}.values())
