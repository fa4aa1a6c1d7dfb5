"""The pure check on the small hand-made knowledge base of conftest.py: each kind of finding, routes, the
non-interruptive cap, deduplication, ordering and order independence."""

from __future__ import annotations

import dataclasses
import doctest
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.knowledge import check as check_module
from alertsvc.knowledge.check import check
from alertsvc.knowledge.graph import InteractionGraph
from alertsvc.knowledge.model import SEVERITY_ORDER, Allergy, Finding, FlaggedReaction, Medication
from alertsvc.knowledge.wording import has_steps
from tests.knowledge.conftest import RXCUI, allergy, flag, med


def names(finding: Finding) -> tuple[str, ...]:
    return tuple(i.name for i in finding.ingredients)


def only(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def test_the_docstring_example_runs() -> None:
    result = doctest.testmod(check_module, raise_on_error=False)
    assert result.attempted >= 5
    assert result.failed == 0


@pytest.mark.parametrize(
    ("first", "second", "severity", "rule"),
    [
        pytest.param("warfarin", "ibuprofen", "major", "pddi-warfarin-nsaids", id="warfarin+ibuprofen"),
        pytest.param(
            "simvastatin", "clarithromycin", "critical", "onc-hp-25", id="simvastatin+clarithromycin"
        ),
        pytest.param("sertraline", "phenelzine", "critical", "onc-hp-08", id="sertraline+phenelzine"),
        pytest.param("tizanidine", "ciprofloxacin", "critical", "onc-hp-28", id="tizanidine+ciprofloxacin"),
        pytest.param("citalopram", "clarithromycin", "critical", "onc-hp-21", id="qt+qt"),
    ],
)
def test_interaction_pairs(
    graph: InteractionGraph, first: str, second: str, severity: str, rule: str
) -> None:
    [finding] = only(check([med(first), med(second)], [], [], graph), "interaction")
    assert finding.severity == severity
    assert finding.rule == rule
    assert finding.interruptive == (severity == "critical")
    assert finding.indicator == {"critical": "critical", "major": "warning"}[severity]
    assert {i.rxcui for i in finding.ingredients} == {RXCUI[first], RXCUI[second]}
    assert finding.knowledge_version == "test-kb-1"
    assert finding.evidence[0].startswith("in:") and finding.evidence[-1].startswith("in:")
    assert finding.refs == tuple(sorted({med(first).ref, med(second).ref}))


def test_interaction_names_rule_sources_and_evidence_path(graph: InteractionGraph) -> None:
    [finding] = check([med("ibuprofen", ref="mar-2"), med("warfarin", ref="mar-1")], [], [], graph)
    assert finding.summary == "Warfarin + ibuprofen: bleeding risk (major)."
    assert names(finding) == ("warfarin", "ibuprofen")
    assert finding.evidence == ("in:11289", "class:pddi:nsaids", "in:5640")
    # a second, weaker rule on the same pair is merged: its source kept, one finding only
    assert finding.rule == "pddi-warfarin-nsaids"
    assert finding.sources == ("pddi", "ansm")
    assert finding.mechanism.startswith("Bleeding risk")
    assert finding.refs == ("mar-1", "mar-2")


def test_local_route_carries_no_systemic_interaction(graph: InteractionGraph) -> None:
    gel = med("diclofenac", route="topical")
    assert check([med("warfarin"), gel], [], [], graph) == []
    eye_drops = med("timolol", route="ophthalmic")
    assert check([eye_drops, med("citalopram")], [], [], graph) == []
    [oral] = check([med("warfarin"), med("diclofenac")], [], [], graph)
    assert oral.rule == "pddi-warfarin-nsaids"


def test_a_rule_listing_a_local_route_applies_to_it(graph: InteractionGraph) -> None:
    [finding] = check([med("warfarin"), med("miconazole", route="topical")], [], [], graph)
    assert finding.rule == "ansm-miconazole-warfarin"
    assert finding.severity == "major"
    # the same rule does not reach a route it does not list
    assert check([med("warfarin"), med("miconazole", route="vaginal")], [], [], graph) == []


def test_non_interruptive_pair_is_capped_at_major(graph: InteractionGraph) -> None:
    [finding] = check([med("metoprolol"), med("sertraline")], [], [], graph)
    assert finding.severity == "major"
    assert not finding.interruptive
    assert finding.rule == "test-label-metoprolol-sertraline"
    assert "onc-ni-03" in finding.management
    assert set(finding.sources) == {"ansm", "onc-ni"}


def test_non_interruptive_alone_keeps_its_own_severity(graph: InteractionGraph) -> None:
    [finding] = check([med("metoprolol"), med("citalopram")], [], [], graph)
    assert (finding.severity, finding.rule) == ("moderate", "onc-ni-03")


def test_high_priority_pair_on_both_lists_stays_critical(graph: InteractionGraph) -> None:
    # sotalol is a beta blocker (non-interruptive with SSRIs) and prolongs QT (high priority with citalopram)
    [finding] = only(check([med("sotalol"), med("citalopram")], [], [], graph), "interaction")
    assert (finding.severity, finding.rule) == ("critical", "onc-hp-21")


def test_allergy_to_the_ingredient_is_critical_whatever_the_route(graph: InteractionGraph) -> None:
    for route in ("oral", "topical"):
        [finding] = check([med("amoxicillin", route=route)], [allergy("amoxicillin")], [], graph)
        assert (finding.kind, finding.severity, finding.rule) == ("allergy", "critical", "allergy-ingredient")
        assert finding.evidence == ("in:723",)
        assert finding.summary == "Amoxicillin: documented allergy to amoxicillin (critical)."


def test_allergy_reaches_a_combination_product(graph: InteractionGraph) -> None:
    findings = check([med("hydrocodone", "ibuprofen")], [allergy("ibuprofen")], [], graph)
    assert [(f.kind, names(f), f.severity) for f in findings] == [("allergy", ("ibuprofen",), "critical")]


def test_allergy_to_a_class_is_critical_for_its_members(graph: InteractionGraph) -> None:
    [finding] = check([med("cephalexin")], [allergy(classes=("allergen:cephalosporins",))], [], graph)
    assert finding.severity == "critical"
    assert finding.evidence == ("class:allergen:cephalosporins", "in:2231")
    assert "cephalosporins" in finding.summary


@pytest.mark.parametrize(
    ("allergen", "given", "severity", "rule", "group"),
    [
        pytest.param("penicillin v", "amoxicillin", "major", "xs-penicillins", "penicillins",
                     id="penicillins"),
        pytest.param("aspirin", "naproxen", "major", "xs-nsaids", "NSAIDs and aspirin",
                     id="aspirin-nsaids"),
        pytest.param("amoxicillin", "cephalexin", "moderate", "xs-aminopenicillins-cephalosporins",
                     "cephalosporins with an R1 side chain", id="aminopenicillin-cephalexin"),
        pytest.param("sulfamethoxazole", "furosemide", "minor", "xs-sulfonamides",
                     "non-antibiotic sulfonamides", id="sulfonamides"),
    ],
)  # fmt: skip
def test_cross_sensitivity_names_the_group(
    graph: InteractionGraph, allergen: str, given: str, severity: str, rule: str, group: str
) -> None:
    [finding] = check([med(given)], [allergy(allergen)], [], graph)
    assert (finding.kind, finding.severity, finding.rule) == ("allergy", severity, rule)
    assert group in finding.summary
    assert finding.evidence[0] == f"in:{RXCUI[allergen]}"
    assert finding.evidence[-1] == f"in:{RXCUI[given]}"
    assert names(finding) == (given,)


def test_no_cross_sensitivity_to_an_unrelated_cephalosporin(graph: InteractionGraph) -> None:
    assert check([med("ceftriaxone")], [allergy("amoxicillin")], [], graph) == []


def test_flagged_reaction_same_ingredient_is_critical(graph: InteractionGraph) -> None:
    [finding] = check([med("ibuprofen", route="topical")], [], [flag("ibuprofen", "hives")], graph)
    assert (finding.kind, finding.severity, finding.rule) == ("reaction", "critical", "reaction-ingredient")
    assert "hives" in finding.summary
    assert finding.refs == ("flag ibuprofen", "ibuprofen (topical)")


def test_flagged_reaction_same_class_is_major(graph: InteractionGraph) -> None:
    [finding] = check([med("atorvastatin")], [], [flag("simvastatin", "myalgia")], graph)
    assert (finding.kind, finding.severity) == ("reaction", "major")
    assert finding.rule in {"reaction-class:vsac:statins", "reaction-class:allergen:statins"}
    assert finding.evidence[0] == "in:36567" and finding.evidence[-1] == "in:83367"
    assert "statins" in finding.summary and "myalgia" in finding.summary


def test_flagged_reaction_prefers_a_therapeutic_class(graph: InteractionGraph) -> None:
    # metoprolol and timolol share an interaction class and a therapeutic class of the same size
    [finding] = check([med("timolol")], [], [flag("metoprolol")], graph)
    assert finding.rule == "reaction-class:vsac:beta-blockers"
    assert "beta blockers" in finding.summary


def test_flagged_reaction_falls_back_to_an_interaction_class(graph: InteractionGraph) -> None:
    [finding] = check([med("naproxen")], [], [flag("ibuprofen")], graph)
    # ibuprofen and naproxen share an allergen group (preferred) and the PDDI NSAID class
    assert finding.rule == "reaction-class:allergen:nsaids"
    [finding] = check([med("ketoconazole")], [], [flag("clarithromycin")], graph)
    assert finding.rule == "reaction-class:onc:hp-25-b"


def test_duplicate_same_ingredient_in_two_products(graph: InteractionGraph) -> None:
    findings = check([med("warfarin", ref="a"), med("warfarin", ref="b")], [], [], graph)
    [finding] = findings
    assert (finding.kind, finding.severity, finding.rule) == ("duplicate", "major", "duplicate-ingredient")
    assert finding.refs == ("a", "b")
    # an oral product and a gel of one ingredient are not duplicate therapy
    assert check([med("diclofenac"), med("diclofenac", route="topical")], [], [], graph) == []


def test_duplicate_therapeutic_class(graph: InteractionGraph) -> None:
    [finding] = check([med("simvastatin"), med("atorvastatin")], [], [], graph)
    assert (finding.kind, finding.severity) == ("duplicate", "moderate")
    assert finding.rule == "duplicate-class:vsac:statins"
    assert finding.summary == "Atorvastatin + simvastatin: two statins, duplicate therapy (moderate)."


def test_inactive_medications_are_ignored(graph: InteractionGraph) -> None:
    assert check([med("warfarin"), med("ibuprofen", active=False)], [allergy("ibuprofen")], [], graph) == []


def test_findings_sorted_by_severity_then_summary(graph: InteractionGraph) -> None:
    meds = [
        med(n) for n in ("warfarin", "ibuprofen", "naproxen", "simvastatin", "clarithromycin", "atorvastatin")
    ]
    findings = check(meds, [allergy("aspirin")], [flag("warfarin")], graph)
    keys = [(SEVERITY_ORDER[f.severity], f.summary) for f in findings]
    assert keys == sorted(keys)
    assert {f.kind for f in findings} == {"interaction", "allergy", "reaction", "duplicate"}


def test_the_graph_is_not_changed_by_a_check(graph: InteractionGraph) -> None:
    def state() -> tuple[object, ...]:
        return (graph.graph.number_of_nodes(), graph.graph.number_of_edges(), dict(graph.pairs))

    before = state()
    meds = [med(n) for n in RXCUI] + [med(n, route="topical") for n in RXCUI]
    assert check(meds, [allergy("amoxicillin")], [flag("warfarin")], graph)
    assert state() == before
    assert all(v.systemic is None or v.systemic.refs == () for v in graph.pairs.values())


def test_findings_copied_with_refs_equal_dataclasses_replace(graph: InteractionGraph) -> None:
    [finding] = check([med("warfarin", ref="w"), med("ibuprofen", ref="i")], [], [], graph)
    template = graph.pairs[(RXCUI["warfarin"], RXCUI["ibuprofen"])].systemic
    assert template is not None
    assert finding == dataclasses.replace(template, refs=("i", "w"))
    assert hash(finding) == hash(dataclasses.replace(template, refs=("i", "w")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.refs = ()  # type: ignore[misc]


ROUTES = st.sampled_from(["oral", "oral", "injectable", "topical", "ophthalmic"])
MEDS = st.lists(
    st.builds(
        lambda names, route, active, ref: med(*names, route=route, active=active, ref=f"m{ref}"),
        st.lists(st.sampled_from(sorted(RXCUI)), min_size=1, max_size=2, unique=True),
        ROUTES,
        st.booleans(),
        st.integers(0, 3),
    ),
    max_size=8,
)
ALLERGIES = st.lists(
    st.one_of(
        st.builds(allergy, st.sampled_from(sorted(RXCUI))),
        st.builds(
            lambda c: allergy(classes=(c,)), st.sampled_from(["allergen:penicillins", "allergen:nsaids"])
        ),
    ),
    max_size=2,
)
FLAGS = st.lists(
    st.builds(flag, st.sampled_from(sorted(RXCUI)), st.sampled_from(["rash", "a" * 150])), max_size=2
)


@settings(max_examples=60, deadline=None)
@given(meds=MEDS, allergies=ALLERGIES, flags=FLAGS, rnd=st.randoms(use_true_random=False))
def test_order_of_inputs_does_not_matter(
    graph: InteractionGraph,
    meds: list[Medication],
    allergies: list[Allergy],
    flags: list[FlaggedReaction],
    rnd: random.Random,
) -> None:
    expected = check(meds, allergies, flags, graph)
    shuffled = [list(x) for x in (meds, allergies, flags)]
    for items in shuffled:
        rnd.shuffle(items)
    assert check(shuffled[0], shuffled[1], shuffled[2], graph) == expected
    # deduplicated: one finding per kind and ingredient set
    keys = [(f.kind, frozenset(i.rxcui for i in f.ingredients)) for f in expected]
    assert len(keys) == len(set(keys))


@settings(max_examples=60, deadline=None)
@given(meds=MEDS, allergies=ALLERGIES, flags=FLAGS)
def test_every_summary_is_under_140_characters(
    graph: InteractionGraph, meds: list[Medication], allergies: list[Allergy], flags: list[FlaggedReaction]
) -> None:
    for finding in check(meds, allergies, flags, graph):
        assert len(finding.summary) < 140
        assert finding.summary.endswith(f" ({finding.severity}).")
        assert "…" not in finding.summary or finding.kind in ("allergy", "reaction")
        assert finding.summary[0].isupper()
        if finding.severity in ("critical", "major"):
            assert has_steps(finding.management), finding.management
        assert finding.rule and finding.sources and finding.evidence
        assert finding.knowledge_version == "test-kb-1"


def _triple_graph() -> InteractionGraph:
    from alertsvc.knowledge.graph import build_graph
    from alertsvc.knowledge.model import DrugClass, Ingredient, KnowledgeBase, Rule

    names = {"29046": "lisinopril", "4603": "furosemide", "5640": "ibuprofen", "3355": "diclofenac"}
    classes = {
        "acei": DrugClass("acei", "ACE inhibitors", "interaction", "s", frozenset({"29046"})),
        "diuretics": DrugClass("diuretics", "diuretics", "interaction", "s", frozenset({"4603"})),
        "nsaids": DrugClass("nsaids", "NSAIDs", "interaction", "s", frozenset({"5640", "3355"})),
    }
    rule = Rule(
        "effect-kidney-triple-whammy", "interaction", "class:acei", "class:diuretics", "major",
        "Three ways of starving the kidney.", "1. Hold the NSAID. 2. Check creatinine.", ("s",),
        rating="published cohort", wording="mechanism", also="class:nsaids",
        summary="{left}, {right} and {also} together can cause acute kidney injury",
    )  # fmt: skip
    ingredients = {rxcui: Ingredient(rxcui, name) for rxcui, name in names.items()}
    kb = KnowledgeBase("v-triple", "2026-12-04", {}, ingredients, {}, {}, {}, {}, {}, classes, (rule,))
    return build_graph(kb)


def test_three_drug_rule_names_all_three_only_when_all_are_given_systemically() -> None:
    from alertsvc.knowledge.model import Ingredient

    graph = _triple_graph()
    lisinopril, furosemide = Ingredient("29046", "lisinopril"), Ingredient("4603", "furosemide")
    ibuprofen, diclofenac = Ingredient("5640", "ibuprofen"), Ingredient("3355", "diclofenac")
    ace, loop = (
        Medication("lisinopril", (lisinopril,), ref="m1"),
        Medication("furosemide", (furosemide,), ref="m2"),
    )
    [finding] = check([ace, loop, Medication("ibuprofen", (ibuprofen,), ref="m3")], [], [], graph)
    assert finding.ingredients == (lisinopril, furosemide, ibuprofen)
    assert finding.summary == (
        "Lisinopril, furosemide and ibuprofen together can cause acute kidney injury (major)."
    )
    assert finding.refs == ("m1", "m2", "m3")
    assert finding.evidence == (
        "in:29046",
        "class:acei",
        "in:4603",
        "class:diuretics",
        "in:5640",
        "class:nsaids",
    )
    assert [r.rating for r in finding.ratings] == ["published cohort"]
    assert check([ace, loop], [], [], graph) == []  # two of the three: nothing
    gel = Medication("diclofenac gel", (diclofenac,), route="topical", ref="m4")
    assert check([ace, loop, gel], [], [], graph) == []  # a topical NSAID does not reach the kidney
