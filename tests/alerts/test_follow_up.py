"""The pure parts of acting on an alert: when an unanswered follow-up comes back, the ward's interval,
reading a coded override reason (every refusal names what is missing), and the words of a finding's
evidence. Doctests of the modules run here too."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.alerts import follow_up
from alertsvc.alerts.follow_up import OVERRIDE_REASONS, comes_back_at, interval_for, read_override
from alertsvc.knowledge import evidence_text
from alertsvc.knowledge.check import check
from alertsvc.knowledge.evidence_text import evidence_sentence, source_names
from alertsvc.knowledge.graph import build_graph
from alertsvc.knowledge.kb import load
from alertsvc.knowledge.terminology import Normalizer
from alertsvc.web.commands import sign_in_link, staff

T = datetime(2030, 1, 16, 2, 5, tzinfo=UTC)
HOUR = timedelta(hours=1)
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", [follow_up, evidence_text], ids=["follow_up", "evidence_text"])
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("next_due", "expected"),
    [
        pytest.param(None, T + HOUR, id="no-next-dose"),
        pytest.param(T + 3 * HOUR, T + HOUR, id="next-dose-later-than-the-interval"),
        pytest.param(T + 90 * timedelta(minutes=1), T + timedelta(minutes=30), id="lead-before-next-dose"),
        pytest.param(T + timedelta(minutes=10), T, id="next-dose-within-lead: at once"),
        pytest.param(T - HOUR, T + HOUR, id="a-past-dose-is-ignored"),
    ],
)
def test_when_an_unanswered_follow_up_comes_back(next_due: datetime | None, expected: datetime) -> None:
    assert comes_back_at(T, HOUR, next_due, HOUR) == expected


def test_the_wards_interval_and_a_bad_setting() -> None:
    assert interval_for("45;icu=20; ed = 90 ", "ed") == timedelta(minutes=90)
    assert interval_for("45;icu=20", "icu") == timedelta(minutes=20)
    assert interval_for("45;icu=20", "ward-7") == timedelta(minutes=45)
    for bad in ("0", "icu=-5", "sixty", "icu=2000"):
        with pytest.raises(ValueError, match="follow_up_minutes"):
            interval_for(bad, "icu")


@pytest.mark.parametrize(
    ("value", "named"),
    [
        pytest.param(None, "'override' is missing", id="missing"),
        pytest.param("prescriber-confirmed", "'override' must be an object", id="not-an-object"),
        pytest.param({"nurse": "N"}, "'override.code' is missing", id="no-code"),
        pytest.param(
            {"code": "felt-ok", "nurse": "N"}, "'override.code' 'felt-ok' is not one of", id="bad-code"
        ),
        pytest.param({"code": "monitoring-in-place"}, "'override.nurse' is missing", id="no-nurse"),
        pytest.param(
            {"code": "monitoring-in-place", "nurse": "  "}, "'override.nurse' is missing", id="blank"
        ),
        pytest.param({"code": "other", "nurse": "N"}, "'override.text' is missing", id="other-without-text"),
        pytest.param(
            {"code": "other", "nurse": "N", "text": 5}, "'override.text' must be text", id="text-type"
        ),
        pytest.param({"code": "other", "nurse": "N" * 201, "text": "x"}, "at most 200", id="long-name"),
    ],
)
def test_an_override_names_what_is_missing(value: Any, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)")):
        read_override(value, max_chars=2000)


def test_a_complete_override_is_read() -> None:
    read = read_override({"code": "other", "nurse": " Nico Night ", "text": " INR 2.1 "}, max_chars=2000)
    assert read == ("other", OVERRIDE_REASONS["other"], "Nico Night", "INR 2.1")


@pytest.fixture(scope="module")
def knowledge() -> Any:
    kb = load(REPO / "data")
    return kb, build_graph(kb), Normalizer(kb)


@pytest.mark.parametrize(
    ("drugs", "words"),
    [
        pytest.param(
            ("clarithromycin", "simvastatin"),
            "clarithromycin is a strong CYP3A inhibitor; simvastatin is a sensitive CYP3A substrate",
            id="clarithromycin+simvastatin",
        ),
        pytest.param(
            ("warfarin", "ibuprofen"),
            "warfarin is an anticoagulant; ibuprofen is an NSAID",
            id="warfarin+ibuprofen",
        ),
        pytest.param(
            ("paroxetine", "tamoxifen"),
            "paroxetine is a strong CYP2D6 inhibitor; tamoxifen is a prodrug activated by CYP2D6",
            id="paroxetine+tamoxifen",
        ),
    ],
)
def test_evidence_reads_as_words_without_ids(knowledge: Any, drugs: tuple[str, str], words: str) -> None:
    kb, graph, normalizer = knowledge
    meds = [normalizer.medication(d, ref=f"drug {i}") for i, d in enumerate(drugs)]
    [finding] = [f for f in check(meds, [], [], graph) if f.severity in ("critical", "major")]
    assert evidence_sentence(finding, kb) == words
    names = source_names(finding, kb)
    assert names and all("in:" not in n and "class:" not in n for n in names)


def test_every_finding_of_a_busy_patient_has_no_node_id_in_its_words(knowledge: Any) -> None:
    kb, graph, normalizer = knowledge
    drugs = (
        "amoxicillin",
        "sertraline",
        "tramadol",
        "lisinopril",
        "spironolactone",
        "fluconazole",
        "warfarin",
    )
    meds = [normalizer.medication(d, ref=f"drug {i}") for i, d in enumerate(drugs)]
    findings = check(meds, [normalizer.resolve_allergy("penicillin")], [], graph)
    assert len(findings) > 5
    for finding in findings:
        words = evidence_sentence(finding, kb)
        assert "in:" not in words and "class:" not in words and "labelled" not in words, words


def test_staff_token_prints_a_sign_in_link_with_the_token_in_the_fragment(tmp_path: Path) -> None:
    key = str(tmp_path / "service.key")
    runner = CliRunner()
    result = runner.invoke(staff, ["token", "--ward", "w1", "--name", "Nia", "--link", "--service-key", key])
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith("http://127.0.0.1:8000/#token=") and "?" not in link
    assert link.split("#token=", 1)[1].count(".") == 2
    other = ["token", "--ward", "w1", "--name", "Nia", "--link", "--url", "https://ward.example/board"]
    assert runner.invoke(staff, [*other, "--service-key", key]).output.startswith(
        "https://ward.example/board/#token="
    )
    refused = runner.invoke(staff, [*other[:-1], "http://x/?token=1", "--service-key", key])
    assert refused.exit_code != 0 and "no query or fragment" in refused.output
    assert sign_in_link("http://h:1/", "a.b.c") == "http://h:1/#token=a.b.c"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
OVERRIDE_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from([*OVERRIDE_REASONS, "", "seen"]) | JSON,
        "nurse": st.text(max_size=210) | JSON,
        "text": st.text(max_size=30) | JSON,
    },
)


@given(JSON | OVERRIDE_LIKE)
@settings(max_examples=300, deadline=None)
def test_any_override_value_is_read_or_refused_naming_the_field(value: Any) -> None:
    try:
        code, display, nurse, text = read_override(value, max_chars=2000)
    except ValueError as exc:
        assert "'override" in str(exc)
    else:
        assert code in OVERRIDE_REASONS and display == OVERRIDE_REASONS[code]
        assert nurse and nurse == nurse.strip() and (code != "other" or text)
