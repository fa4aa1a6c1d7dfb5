"""The offline normaliser over the committed data/: names, brands, codes, salts, misspellings, routes.

Expected RxCUIs are RxNorm's ingredient codes as the CPIC and ANSM source files give them; the product
codes of Synthea and the FHIR examples come from tests/knowledge/fixtures/medication_request_codes.tsv.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from alertsvc.errors import UnknownDrug
from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.model import (
    RXNORM_SYSTEM,
    DrugClass,
    Ingredient,
    KnowledgeBase,
    Resolution,
)
from alertsvc.knowledge.terminology import NDC_SYSTEM, Normalizer

FIXTURE = Path(__file__).parent / "fixtures" / "medication_request_codes.tsv"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return kb_files.load(kb_files.DEFAULT_DATA_DIR)


@pytest.fixture(scope="module")
def normalizer(kb: KnowledgeBase) -> Normalizer:
    return Normalizer(kb)


def names(res: Resolution) -> list[str]:
    return sorted(i.name for i in res.ingredients)


A_INGREDIENTS = [
    ("acetaminophen", "161"),
    ("amlodipine", "17767"),
    ("atorvastatin", "83367"),
    ("amoxicillin", "723"),
    ("apixaban", "1364430"),
    ("aspirin", "1191"),
    ("allopurinol", "519"),
    ("amiodarone", "703"),
    ("amitriptyline", "704"),
    ("azathioprine", "1256"),
    ("alprazolam", "596"),
    ("albuterol", "435"),
    ("atenolol", "1202"),
    ("azithromycin", "18631"),
    ("acyclovir", "281"),
    ("aripiprazole", "89013"),
]


@pytest.mark.parametrize(("name", "rxcui"), [pytest.param(n, r, id=n) for n, r in A_INGREDIENTS])
def test_every_a_ingredient_resolves_by_name_and_by_rxcui(
    normalizer: Normalizer, name: str, rxcui: str
) -> None:
    by_name = normalizer.resolve(name)
    assert [(i.rxcui, i.name) for i in by_name.ingredients] == [(rxcui, name)]
    assert by_name.unresolved is None
    assert [i.name for i in normalizer.resolve(rxcui).ingredients] == [name]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        pytest.param("Zocor", ["simvastatin"], id="zocor"),
        pytest.param("Advil", ["ibuprofen"], id="advil"),
        pytest.param("Exforge", ["amlodipine", "valsartan"], id="exforge-completed-with-amlodipine"),
        pytest.param("Percocet", ["acetaminophen", "oxycodone"], id="percocet-completed-with-acetaminophen"),
        pytest.param("Tylenol", ["acetaminophen"], id="tylenol-curated-brand"),
        pytest.param("Eliquis", ["apixaban"], id="eliquis-curated-brand"),
    ],
)
def test_brands(normalizer: Normalizer, term: str, expected: list[str]) -> None:
    assert names(normalizer.resolve(term)) == expected


def test_brands_in_the_brand_file_resolve_by_their_rxcui(normalizer: Normalizer, kb: KnowledgeBase) -> None:
    zocor = next(b for b in kb.brands.values() if b.name == "Zocor")
    res = normalizer.resolve(zocor.rxcui)
    assert (names(res), res.via) == (["simvastatin"], "brand")
    for absent in ("Biaxin", "Coumadin"):  # discontinued brands are absent from the prescribable files
        assert all(b.name != absent for b in kb.brands.values())


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        pytest.param("simvistatin", ["simvastatin"], id="synthea-simvistatin"),
        pytest.param("asprin", ["aspirin"], id="asprin"),
        pytest.param("Acetominophen", ["acetaminophen"], id="acetominophen"),
        pytest.param("  WARFARIN   Sodium ", ["warfarin"], id="case-and-spacing"),
        pytest.param("warfarin sodium", ["warfarin"], id="salt-name"),
        pytest.param("amlodipine besylate", ["amlodipine"], id="a-salt-by-salt-word"),
        pytest.param("metoprolol succinate ER", ["metoprolol"], id="salt-and-release-words"),
        pytest.param("Atorvastatin Calcium", ["atorvastatin"], id="calcium-salt"),
        pytest.param("paracetamol", ["acetaminophen"], id="inn-paracetamol"),
        pytest.param("salbutamol", ["albuterol"], id="inn-salbutamol"),
        pytest.param("St John's Wort", ["st. john's wort"], id="st-johns-wort"),
        pytest.param("st johns wort", ["st. john's wort"], id="st-johns-wort-no-punctuation"),
    ],
)
def test_free_text(normalizer: Normalizer, term: str, expected: list[str]) -> None:
    assert names(normalizer.resolve(term)) == expected


def test_salt_rxcui_resolves_to_its_ingredient(normalizer: Normalizer, kb: KnowledgeBase) -> None:
    res = normalizer.resolve("114194")  # warfarin sodium (PIN)
    assert (names(res), res.via) == (["warfarin"], "salt")
    assert kb.salts["114194"] == "11289"


@pytest.mark.parametrize(
    ("rxcui", "expected", "route", "tty"),
    [
        pytest.param("197361", ["amlodipine"], "oral", "SCD", id="amlodipine-tablet-from-vsac"),
        pytest.param("722126", ["amlodipine", "valsartan"], "oral", "SCD", id="combo-a-ingredient-put-back"),
        pytest.param("855626", ["diclofenac"], "topical", "SCD", id="diclofenac-patch-topical"),
        pytest.param(
            "748798", ["drospirenone", "ethinyl estradiol", "inert ingredients"], "oral", "GPCK", id="pack"
        ),
        pytest.param(
            "749785", ["ethinyl estradiol", "inert ingredients", "norgestimate"], "oral", "BPCK", id="bpck"
        ),
    ],
)
def test_product_and_pack_rxcuis(
    normalizer: Normalizer, rxcui: str, expected: list[str], route: str, tty: str
) -> None:
    res = normalizer.resolve(rxcui)
    assert names(res) == expected
    assert res.product is not None and (res.product.tty, res.route, res.via) == (tty, route, "product")


def test_a_topical_gel_is_topical_not_oral(normalizer: Normalizer, kb: KnowledgeBase) -> None:
    gels = [p for p in kb.products.values() if p.dose_form == "Topical Gel"]
    assert len(gels) > 100 and {p.route for p in gels} == {"topical"}
    med = normalizer.medication(gels[0].name, ref="dose-1")
    assert (med.route, med.product_rxcui, med.ref) == ("topical", gels[0].rxcui, "dose-1")
    assert normalizer.resolve("diclofenac sodium 10 MG/ML Topical Gel").route == "topical"


def medication_request_rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8") as handle:
        return list(csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t"))


@pytest.mark.parametrize("row", [pytest.param(r, id=f"{r['code']}") for r in medication_request_rows()])
def test_medication_request_codes(normalizer: Normalizer, row: dict[str, str]) -> None:
    """A current prescribable product code resolves to its ingredients; any other resolves or says why."""
    expected = row["ingredients"].split(";")
    res = normalizer.resolve(row["code"])
    if row["in_rxnorm_files"] == "yes" or res.unresolved is None:
        assert res.unresolved is None
        assert (names(res), res.route) == (expected, row["route"])
    else:
        assert row["code"] in res.unresolved and "offline knowledge" in res.unresolved
    coding = normalizer.resolve_coding(RXNORM_SYSTEM, row["code"], row["display"])
    if coding.unresolved is None:  # the code, else the display text
        assert (names(coding), coding.route) == (expected, row["route"])
    else:
        assert row["code"] in coding.unresolved and row["display"] in coding.unresolved


def test_most_medication_request_codings_resolve(normalizer: Normalizer) -> None:
    rows = medication_request_rows()
    unresolved = [
        r["display"]
        for r in rows
        if normalizer.resolve_coding(RXNORM_SYSTEM, r["code"], r["display"]).unresolved
    ]
    assert unresolved == ["Norinyl 1+50 28 Day Pack"]  # Vicodin now from the FDA Orange Book; Norinyl's
    # mestranol maps to no RxNorm ingredient here (data/unknown_drugs.tsv)


def test_ndc_without_ndc_data_says_so(normalizer: Normalizer) -> None:
    res = normalizer.resolve_coding(NDC_SYSTEM, "16590-619-30", "")
    assert res.unresolved == "NDC 16590-619-30 is not in the offline knowledge (it holds no NDC data)"


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        pytest.param("", "empty drug term", id="empty"),
        pytest.param("xyzzy", "no ingredient, salt, brand or product called 'xyzzy'", id="nonsense"),
        pytest.param("lonazepam", "did you mean 'lorazepam' or 'clonazepam'", id="look-alike-hint-only"),
        pytest.param("999999999", "RxCUI 999999999 is not a current ingredient", id="unknown-rxcui"),
    ],
)
def test_unresolved_terms_say_why(normalizer: Normalizer, term: str, reason: str) -> None:
    res = normalizer.resolve(term)
    assert res.ingredients == () and res.unresolved is not None and reason in res.unresolved
    with pytest.raises(UnknownDrug, match="does not resolve"):
        normalizer.medication(term)


@pytest.mark.parametrize(
    ("term", "class_id"),
    [
        pytest.param("penicillin", "allergen:penicillins", id="penicillin"),
        pytest.param("Penicillins", "allergen:penicillins", id="penicillins"),
        pytest.param("sulfa drugs", "allergen:sulfonamide-antibiotics", id="sulfa"),
        pytest.param("NSAIDs", "allergen:nsaids", id="nsaids"),
        pytest.param("statin allergy", "allergen:statins", id="statins"),
    ],
)
def test_allergen_groups_of_the_committed_data(normalizer: Normalizer, term: str, class_id: str) -> None:
    allergy = normalizer.resolve_allergy(term)
    assert (allergy.class_ids, allergy.ingredients, allergy.label) == ((class_id,), (), term)


def test_allergy_to_a_drug_gives_its_ingredients_and_unknown_raises(normalizer: Normalizer) -> None:
    assert [i.name for i in normalizer.resolve_allergy("Amoxil").ingredients] == ["amoxicillin"]
    with pytest.raises(UnknownDrug, match="'peanuts' is neither an allergen group nor a drug"):
        normalizer.resolve_allergy("peanuts")


def test_allergen_group_named_like_people_write_it(kb: KnowledgeBase) -> None:
    cephalosporins = DrugClass(
        "allergen:cephalosporins", "Cephalosporins", "allergen", "rxnorm", frozenset({"2231"})
    )
    small = replace(kb, classes={cephalosporins.id: cephalosporins})
    for written in ("cephalosporins", "Cephalosporin", "cephalosporin allergy"):
        assert Normalizer(small).resolve_allergy(written).class_ids == ("allergen:cephalosporins",)


class RecordingRxNav:
    """A stand-in for RxNav (an external service): answers one term, records what it is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def resolve(self, term: str) -> Resolution:
        self.asked.append(term)
        if term == "Klaricid":  # the UK brand of clarithromycin: not in the offline knowledge
            return Resolution(term, (Ingredient("21212", "clarithromycin"),), via="rxnav")
        return Resolution(term, (), unresolved="RxNav timed out after 3.0 s")


def test_online_terminology_is_asked_only_when_offline_fails(kb: KnowledgeBase) -> None:
    online = RecordingRxNav()
    normalizer = Normalizer(kb, online)
    assert names(normalizer.resolve("warfarin")) == ["warfarin"]
    assert online.asked == []
    res = normalizer.resolve("Klaricid")
    assert (names(res), res.via, online.asked) == (["clarithromycin"], "rxnav", ["Klaricid"])
    failed = normalizer.resolve("xyzzy")
    assert failed.unresolved is not None
    assert "offline RxNorm knowledge" in failed.unresolved and "RxNav: RxNav timed out" in failed.unresolved


def test_new_knowledge_with_the_same_terms_keeps_what_was_read_and_new_terms_are_read_afresh(
    kb: KnowledgeBase,
) -> None:
    before = Normalizer(kb)
    misspelt = before.resolve("ibuprophen")
    assert names(misspelt) == ["ibuprofen"] and misspelt.via == "spelling"
    assert kb.version in str(before.resolve("99999999").unresolved)

    rules_only = replace(kb, version=kb.version + "-next", rules=kb.rules[1:])
    after = Normalizer(rules_only, previous=before)
    assert after.resolve("ibuprophen") is misspelt  # read once, not again for every admission
    assert after.spelling is before.spelling
    unknown = str(after.resolve("99999999").unresolved)  # a reason names the knowledge: read afresh
    assert unknown.endswith(f"offline knowledge {rules_only.version}")

    renamed = replace(kb, names={**kb.names, "ibuprophen": kb.names["warfarin"]})
    assert names(Normalizer(renamed, previous=before).resolve("ibuprophen")) == ["warfarin"]
