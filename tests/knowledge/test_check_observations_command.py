"""``alertsvc check --observation``: each modifier from the command line, names or LOINC codes, stale
values listed as stale, and bad observations refused before anything is checked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result

from alertsvc.cli import main


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def checked(*args: str) -> dict[str, Any]:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.mark.parametrize(
    ("drugs", "observation", "kind", "rule", "shown"),
    [
        pytest.param(
            ("warfarin", "ibuprofen"), "INR=4.2", "interaction", "inr-above-range", "INR 4.2", id="inr"
        ),
        pytest.param(
            ("warfarin", "ibuprofen"),
            "6301-6=4.2",
            "interaction",
            "inr-above-range",
            "INR 4.2",
            id="inr-loinc",
        ),
        pytest.param(
            ("lisinopril", "spironolactone"),
            "potassium=5.6 mmol/L",
            "interaction",
            "potassium-above-5",
            "potassium 5.6 mmol/L",
            id="potassium",
        ),
        pytest.param(
            ("metformin",),
            "eGFR=25 mL/min/1.73m2",
            "renal-dose",
            "renal-dose:metformin-egfr-below-30",
            "eGFR 25 mL/min/1.73m2",
            id="egfr",
        ),
        pytest.param(("ondansetron",), "QTc=520 ms", "long-qt", "qtc-above-500", "QTc 520 ms", id="qtc"),
        pytest.param(
            ("apixaban",),
            "creatinine=160 umol/L",
            "renal-dose",
            "renal-dose:apixaban-creatinine-1.5",
            "creatinine 160 µmol/L",
            id="creatinine-umol",
        ),
    ],
)
def test_each_observation_modifies_the_check(
    drugs: tuple[str, ...], observation: str, kind: str, rule: str, shown: str
) -> None:
    args = [a for d in drugs for a in ("--drug", d)]
    document = checked(*args, "--observation", observation)
    [finding] = [f for f in document["findings"] if f["kind"] == kind]
    assert finding["rule"] == rule and shown in finding["summary"]
    assert [o["status"] for o in document["observations"]] == ["current"]
    assert document["observations"][0]["text"] == shown


def test_without_observations_the_json_keeps_its_shape() -> None:
    assert set(checked("--drug", "warfarin", "--drug", "ibuprofen")) == {"findings", "unresolved"}


def test_a_stale_value_is_listed_as_stale_and_changes_nothing() -> None:
    plain = checked("--drug", "warfarin", "--drug", "ibuprofen")["findings"][0]
    document = checked(
        "--drug", "warfarin", "--drug", "ibuprofen", "--observation", "INR=4.2@2020-01-01T00:00:00Z"
    )
    [finding] = document["findings"]
    assert (finding["severity"], finding["rule"]) == (plain["severity"], plain["rule"])
    assert "INR 4.2 on 01 Jan 2020 is older than its useful life (7 days): not used" in finding["mechanism"]
    assert document["observations"][0]["status"] == "stale"


@pytest.mark.parametrize(
    ("observation", "message"),
    [
        pytest.param("potassium=5.6", "potassium (2823-3) needs a unit: mmol/L", id="no-unit"),
        pytest.param("8888-8=5.6 mg", "unknown LOINC code '8888-8'", id="unknown-loinc"),
        pytest.param("sodium=140 mmol/L", "unknown observation 'sodium'", id="unknown-name"),
        pytest.param("QTc=520 s", "QTc (8636-3) is measured in ms (UCUM ms), not 's'", id="wrong-unit"),
        pytest.param("INR", "write NAME=VALUE [UNIT][@TIME]", id="no-value"),
        pytest.param("INR=4.2@2999-01-01T00:00:00Z", "after now", id="future"),
    ],
)
def test_a_bad_observation_is_refused_with_the_reason(observation: str, message: str) -> None:
    result = run("--drug", "warfarin", "--observation", observation)
    assert result.exit_code == 1 and result.stdout == ""
    assert f"--observation {observation!r}" in result.stderr and message in result.stderr
