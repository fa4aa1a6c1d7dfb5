"""``alertsvc check`` over the committed knowledge (data/), and the clinical cases it must catch by name,
brand and product RxCUI."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alertsvc.cli import main
from alertsvc.config import Settings
from alertsvc.knowledge import kb as knowledge_files
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph, build_graph
from alertsvc.knowledge.model import SEVERITY_ORDER, KnowledgeBase
from alertsvc.knowledge.terminology import Normalizer

REPO = Path(__file__).resolve().parents[2]
FINDING_KEYS = {
    "kind",
    "severity",
    "indicator",
    "interruptive",
    "ingredients",
    "summary",
    "mechanism",
    "management",
    "rule",
    "sources",
    "evidence",
    "knowledge_version",
    "ratings",
}
WARFARIN, IBUPROFEN, SIMVASTATIN, CLARITHROMYCIN = "11289", "5640", "36567", "21212"
SERTRALINE, PHENELZINE, TIZANIDINE, CIPROFLOXACIN = "36437", "8123", "57258", "2551"


@functools.cache
def knowledge() -> tuple[KnowledgeBase, InteractionGraph, Normalizer]:
    kb = knowledge_files.load(Settings.from_env(os.environ).data_dir)
    return kb, build_graph(kb), Normalizer(kb)


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["check", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_json_shape_and_a_critical_pair() -> None:
    code, out = run_json("--drug", "simvastatin", "--drug", "clarithromycin")
    assert code == 0
    assert set(out) == {"findings", "unresolved"}
    assert out["unresolved"] == []
    interactions = [f for f in out["findings"] if f["kind"] == "interaction"]
    [finding] = interactions
    assert set(finding) == FINDING_KEYS
    assert {i["rxcui"] for i in finding["ingredients"]} == {SIMVASTATIN, CLARITHROMYCIN}
    assert {i["name"] for i in finding["ingredients"]} == {"simvastatin", "clarithromycin"}
    assert (finding["severity"], finding["indicator"], finding["interruptive"]) == (
        "critical",
        "critical",
        True,
    )
    assert finding["rule"].startswith(("onc-hp-", "label-"))  # the most specific words of the highest tier
    assert "onc-hp" in finding["sources"]
    assert len(finding["summary"]) < 140
    assert finding["evidence"][0].startswith("in:") and finding["evidence"][-1].startswith("in:")
    assert finding["knowledge_version"] == knowledge()[0].version
    # every source's own rating is kept; the finding takes the highest
    ratings = finding["ratings"]
    assert {"onc-hp", "ansm"} <= {r["source"] for r in ratings}
    assert all(set(r) == {"source", "rule", "severity", "rating"} for r in ratings)
    assert finding["severity"] == min((r["severity"] for r in ratings), key=SEVERITY_ORDER.__getitem__)
    assert any(r["rating"].startswith("ANSM: ") for r in ratings)


def test_unresolved_terms_are_listed_and_make_the_exit_status_non_zero() -> None:
    code, out = run_json(
        "--drug", "warfarin", "--drug", "ibuprofen", "--drug", "notadrug-xyzzy", "--flag", "qqqq"
    )
    assert code != 0
    assert [u["term"] for u in out["unresolved"]] == ["notadrug-xyzzy", "qqqq"]
    assert all(u["reason"] for u in out["unresolved"])
    # what did resolve is still checked
    assert any({i["rxcui"] for i in f["ingredients"]} == {WARFARIN, IBUPROFEN} for f in out["findings"])


def test_allergy_and_flag_options() -> None:
    code, out = run_json(
        "--drug", "amoxicillin", "--drug", "naproxen", "--allergy", "amoxicillin", "--flag", "ibuprofen"
    )
    assert code == 0
    kinds = {(f["kind"], f["ingredients"][0]["name"], f["severity"]) for f in out["findings"]}
    assert ("allergy", "amoxicillin", "critical") in kinds
    assert ("reaction", "naproxen", "major") in kinds


def test_a_misspelt_drug_is_checked_and_its_findings_say_how_it_was_read() -> None:
    code, out = run_json("--drug", "ibuprophen", "--drug", "warfarin", "--flag", "warfarine")
    assert code == 0 and out["unresolved"] == []
    [pair] = [f for f in out["findings"] if f["kind"] == "interaction"]
    assert {i["rxcui"] for i in pair["ingredients"]} == {WARFARIN, IBUPROFEN}
    assert pair["mechanism"].endswith(". Read 'ibuprophen' as ibuprofen.")
    [flag] = [f for f in out["findings"] if f["kind"] == "reaction"]
    assert "Read 'warfarine' as warfarin." in flag["mechanism"]


def test_locale_en_gb_writes_british_names_with_the_same_rxcuis() -> None:
    us_code, us = run_json("--drug", "ciclosporin", "--drug", "simvastatin")
    gb_code, gb = run_json("--drug", "ciclosporin", "--drug", "simvastatin", "--locale", "en-GB")
    assert us_code == gb_code == 0
    [us_pair], [gb_pair] = us["findings"], gb["findings"]
    assert [i["rxcui"] for i in us_pair["ingredients"]] == [i["rxcui"] for i in gb_pair["ingredients"]]
    assert "cyclosporine" in {i["name"] for i in us_pair["ingredients"]}
    assert "ciclosporin" in {i["name"] for i in gb_pair["ingredients"]}
    assert "ciclosporin" in gb_pair["summary"].lower() and "cyclosporine" not in gb_pair["summary"].lower()
    assert (gb_pair["severity"], gb_pair["rule"]) == (us_pair["severity"], us_pair["rule"])


def test_table_output() -> None:
    result = CliRunner().invoke(main, ["check", "--drug", "warfarin", "--drug", "ibuprofen"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SEVERITY", "KIND", "SUMMARY", "RULE"]
    assert any("warfarin" in line.lower() and "ibuprofen" in line.lower() for line in lines[1:])
    assert lines[-1] == f"knowledge {knowledge()[0].version}"


def test_command_requires_a_drug_and_has_help() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code != 0
    assert "--drug" in result.output
    assert "--allergy" in CliRunner().invoke(main, ["check", "--help"]).stdout


def test_check_in_a_separate_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alertsvc", "check", "--drug", "Zoloft", "--drug", "Nardil", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert any(
        f["severity"] == "critical" and {i["rxcui"] for i in f["ingredients"]} == {SERTRALINE, PHENELZINE}
        for f in findings
    )


CASES = [
    # (first term, second term, the two ingredient RxCUIs)
    pytest.param("warfarin", "ibuprofen", WARFARIN, IBUPROFEN, id="warfarin+ibuprofen:name"),
    pytest.param("Jantoven", "Advil", WARFARIN, IBUPROFEN, id="warfarin+ibuprofen:brand"),
    pytest.param("855332", "197805", WARFARIN, IBUPROFEN, id="warfarin+ibuprofen:product"),
    pytest.param(
        "simvastatin", "clarithromycin", SIMVASTATIN, CLARITHROMYCIN, id="simvastatin+clarithromycin:name"
    ),
    pytest.param(
        "Zocor", "clarithromycin", SIMVASTATIN, CLARITHROMYCIN, id="simvastatin+clarithromycin:brand"
    ),
    pytest.param("104491", "197517", SIMVASTATIN, CLARITHROMYCIN, id="simvastatin+clarithromycin:product"),
    pytest.param("sertraline", "phenelzine", SERTRALINE, PHENELZINE, id="sertraline+phenelzine:name"),
    pytest.param("Zoloft", "Nardil", SERTRALINE, PHENELZINE, id="sertraline+phenelzine:brand"),
    pytest.param("312941", "312347", SERTRALINE, PHENELZINE, id="sertraline+phenelzine:product"),
    pytest.param(
        "tizanidine", "ciprofloxacin", TIZANIDINE, CIPROFLOXACIN, id="tizanidine+ciprofloxacin:name"
    ),
    pytest.param("Zanaflex", "Cipro", TIZANIDINE, CIPROFLOXACIN, id="tizanidine+ciprofloxacin:brand"),
    pytest.param("313413", "197511", TIZANIDINE, CIPROFLOXACIN, id="tizanidine+ciprofloxacin:product"),
]


@pytest.mark.parametrize(("first", "second", "rxcui_a", "rxcui_b"), CASES)
def test_clinical_pairs_are_critical_or_major(first: str, second: str, rxcui_a: str, rxcui_b: str) -> None:
    kb, graph, normalizer = knowledge()
    meds = [normalizer.medication(first), normalizer.medication(second)]
    assert {i.rxcui for m in meds for i in m.ingredients} == {rxcui_a, rxcui_b}
    findings = [f for f in check(meds, [], [], graph) if f.kind == "interaction"]
    [finding] = [f for f in findings if {i.rxcui for i in f.ingredients} == {rxcui_a, rxcui_b}]
    assert finding.severity in {"critical", "major"}
    assert finding.rule and finding.sources and finding.knowledge_version == kb.version


def test_products_bring_their_route() -> None:
    _, graph, normalizer = knowledge()
    # ciprofloxacin 3 MG/ML Ophthalmic Solution [Ciloxan]: eye drops do not raise tizanidine levels
    drops = normalizer.medication("103943")
    assert drops.route == "ophthalmic"
    tablet = normalizer.medication("313413")
    assert [f for f in check([drops, tablet], [], [], graph) if f.kind == "interaction"] == []


def test_every_prebuilt_interaction_finding_is_well_formed() -> None:
    kb, graph, _ = knowledge()
    assert len(graph.pairs) > 10_000
    for (a, b), verdict in graph.pairs.items():
        assert a < b and verdict.matches
        for finding in (verdict.systemic, verdict.oral):
            if finding is None:
                continue
            assert len(finding.summary) < 140, finding.summary
            assert {i.rxcui for i in finding.ingredients} == {a, b}
            assert finding.evidence[0] == f"in:{finding.ingredients[0].rxcui}"
            assert finding.evidence[-1] == f"in:{finding.ingredients[1].rxcui}"
            assert finding.sources and finding.rule and finding.knowledge_version == kb.version
            assert finding.refs == ()
