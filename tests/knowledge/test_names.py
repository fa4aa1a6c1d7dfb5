"""Names a nurse or patient types, over the committed knowledge: British and INN names, UK compound names,
ward abbreviations, UK and discontinued US brands, misspellings, and codes.

The table is the pharmacist's list of issue 8 ("Of 34 names a nurse or patient types, 17 resolve"),
rebuilt here: every name but amphetamine must resolve to the ingredients given (amphetamine's RxCUI is
in no source file: tests/knowledge/fixtures/onc_high_priority_members.tsv says why).
"""

from __future__ import annotations

import pytest

from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.curated_names import SYNONYMS
from alertsvc.knowledge.model import RXNORM_SYSTEM, KnowledgeBase
from alertsvc.knowledge.spelling import SpellingIndex, distance, fold
from alertsvc.knowledge.terminology import Normalizer


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return kb_files.load(kb_files.DEFAULT_DATA_DIR)


@pytest.fixture(scope="module")
def normalizer(kb: KnowledgeBase) -> Normalizer:
    return Normalizer(kb)


NAMES = [
    pytest.param("GTN", ["nitroglycerin"], id="GTN"),
    pytest.param("glyceryl trinitrate", ["nitroglycerin"], id="glyceryl-trinitrate"),
    pytest.param("co-amoxiclav", ["amoxicillin", "clavulanate"], id="co-amoxiclav"),
    pytest.param("co-trimoxazole", ["sulfamethoxazole", "trimethoprim"], id="co-trimoxazole"),
    pytest.param("co-codamol", ["acetaminophen", "codeine"], id="co-codamol"),
    pytest.param("co-dydramol", ["acetaminophen", "dihydrocodeine"], id="co-dydramol"),
    pytest.param("co-careldopa", ["carbidopa", "levodopa"], id="co-careldopa"),
    pytest.param("ISMN", ["isosorbide"], id="ISMN"),  # RxNorm: isosorbide mononitrate is a salt of isosorbide
    pytest.param("Tazocin", ["piperacillin", "tazobactam"], id="Tazocin"),
    pytest.param("Oramorph", ["morphine"], id="Oramorph"),
    pytest.param("Septrin", ["sulfamethoxazole", "trimethoprim"], id="Septrin"),
    pytest.param("Keflex", ["cephalexin"], id="Keflex"),
    pytest.param("Zofran", ["ondansetron"], id="Zofran"),
    pytest.param("Biaxin", ["clarithromycin"], id="Biaxin"),
    pytest.param("Vicodin", ["acetaminophen", "hydrocodone"], id="Vicodin"),
    pytest.param("Levaquin", ["levofloxacin"], id="Levaquin"),
    pytest.param("Zocor", ["simvastatin"], id="Zocor"),
    pytest.param("dabigatran", ["dabigatran etexilate"], id="dabigatran"),
    pytest.param("domperidone", ["domperidone"], id="domperidone"),
    pytest.param("sulpiride", ["sulpiride"], id="sulpiride"),
    pytest.param("moclobemide", ["moclobemide"], id="moclobemide"),
    pytest.param("indinavir", ["indinavir"], id="indinavir"),
    pytest.param("saquinavir", ["saquinavir"], id="saquinavir"),
    pytest.param("amphetamine", None, id="amphetamine-no-rxcui-in-any-source"),
    pytest.param("855295", ["warfarin"], id="scdc-855295"),
    pytest.param("paracetamol", ["acetaminophen"], id="paracetamol"),
    pytest.param("adrenaline", ["epinephrine"], id="adrenaline"),
    pytest.param("salbutamol", ["albuterol"], id="salbutamol"),
    pytest.param("ciclosporin", ["cyclosporine"], id="ciclosporin"),
    pytest.param("rifampicin", ["rifampin"], id="rifampicin"),
    pytest.param("ibuprophen", ["ibuprofen"], id="ibuprophen"),
    pytest.param("amoxicilin", ["amoxicillin"], id="amoxicilin"),
    pytest.param("metformine", ["metformin"], id="metformine"),
    pytest.param("simvastatine", ["simvastatin"], id="simvastatine"),
]


def test_the_table_has_the_34_names() -> None:
    assert len(NAMES) == 34


@pytest.mark.parametrize(("term", "expected"), NAMES)
def test_names_a_nurse_types(normalizer: Normalizer, term: str, expected: list[str] | None) -> None:
    res = normalizer.resolve(term)
    if expected is None:
        assert res.unresolved is not None and res.ingredients == ()
    else:
        assert res.unresolved is None, res.unresolved
        assert sorted(i.name for i in res.ingredients) == expected


@pytest.mark.parametrize(
    ("term", "name"),
    [
        pytest.param("ibuprophen", "ibuprofen", id="ph-for-f"),
        pytest.param("amoxicilin", "amoxicillin", id="one-letter-missing"),
        pytest.param("metformine", "metformin", id="french-e"),
        pytest.param("simvastatine", "simvastatin", id="french-e-not-curated"),
        pytest.param("simvistatin", "simvastatin", id="synthea-misspelling-curated"),
        pytest.param("hydroxyzin", "hydroxyzine", id="final-e-missing"),
        pytest.param("levetiracetan", "levetiracetam", id="one-substitution"),
        pytest.param("Amiodorone", "amiodarone", id="capitals-and-a-vowel"),
    ],
)
def test_a_misspelling_reads_as_the_one_closest_drug_and_says_so(
    normalizer: Normalizer, term: str, name: str
) -> None:
    res = normalizer.resolve(term)
    assert [i.name for i in res.ingredients] == [name]
    assert res.note == f"read {term!r} as {name}"
    med = normalizer.medication(term, ref="entry:1")
    assert (med.note, med.ref) == (res.note, "entry:1")


@pytest.mark.parametrize(
    ("term", "suggested"),
    [
        pytest.param("lonazepam", ["lorazepam", "clonazepam"], id="clonazepam-lorazepam"),
        pytest.param("prednisolne", ["prednisone", "prednisolone"], id="prednisone-prednisolone"),
        pytest.param("novolen", ["novolin", "novolog"], id="novolin-novolog"),
        pytest.param("Zantax", ["zantac", "xanax"], id="zantac-xanax"),
        pytest.param("taxil", ["paxil", "taxol"], id="paxil-taxol"),
        pytest.param("hydroxazine", ["hydroxyzine", "hydralazine"], id="hydroxyzine-hydralazine"),
    ],
)
def test_look_alike_names_are_never_guessed_only_suggested(
    normalizer: Normalizer, term: str, suggested: list[str]
) -> None:
    res = normalizer.resolve(term)
    assert res.ingredients == () and res.unresolved is not None and not res.note
    assert "did you mean" in res.unresolved
    for name in suggested:
        assert repr(name) in res.unresolved


@pytest.mark.parametrize(
    "term", [pytest.param("zocr", id="too-short"), pytest.param("warfarn 5", id="digits"), "xyzzyplugh"]
)
def test_short_or_far_terms_are_not_read(normalizer: Normalizer, term: str) -> None:
    res = normalizer.resolve(term)
    assert res.unresolved is not None and res.ingredients == () and not res.note


@pytest.mark.parametrize(
    ("term", "why"),
    [
        pytest.param(
            "aclidinium", "'aclidinium' is a drug (named in the fda-orange-book source", id="aclidinium"
        ),
        pytest.param("acarbose", "'acarbose' is a drug (named in the fda-orange-book source", id="acarbose"),
        pytest.param("aclidinum", "did you mean 'aclidinium' or 'clidinium'?", id="typo-of-a-drug-we-lack"),
    ],
)
def test_a_drug_the_knowledge_lacks_is_never_read_as_its_neighbour(
    normalizer: Normalizer, term: str, why: str
) -> None:
    res = normalizer.resolve(term)  # clidinium is one letter from aclidinium, but another drug
    assert res.ingredients == () and res.unresolved is not None and why in res.unresolved and not res.note


def test_a_british_spelling_is_read_silently(normalizer: Normalizer) -> None:
    res = normalizer.resolve("ferrous sulphate")
    assert [i.name for i in res.ingredients] == ["ferrous sulfate"] and res.note == ""


def test_a_code_read_by_its_display_says_so(normalizer: Normalizer) -> None:
    res = normalizer.resolve_coding(RXNORM_SYSTEM, "99999999", "Warfarin Sodium 5 MG Oral Tablet")
    assert [i.name for i in res.ingredients] == ["warfarin"] and res.via.startswith("display:")
    assert (
        res.note == "code 99999999 is not known here; read by its display 'Warfarin Sodium 5 MG Oral Tablet'"
    )
    known = normalizer.medication("Warfarin Sodium 10 MG", code="855295")
    assert ([i.name for i in known.ingredients], known.note, known.label) == (
        ["warfarin"],
        "",
        "warfarin sodium 10 MG",
    )
    read = normalizer.medication("ibuprophen", code="99999999", ref="entry:2")
    assert (
        read.note
        == "code 99999999 is not known here; read by its display 'ibuprophen'; read 'ibuprophen' as ibuprofen"
    )


def test_every_curated_name_is_written_once_with_a_source() -> None:
    names = [s.name for s in SYNONYMS]
    assert len(names) == len(set(names))
    assert all(s.source and s.means and s.name == s.name.lower() for s in SYNONYMS)
    displays = [s.means[0] for s in SYNONYMS if s.display]
    assert len(displays) == len(set(displays)), "one en-GB display name per ingredient"


def test_curated_names_resolve_to_what_they_mean_or_are_listed_as_skipped(
    kb: KnowledgeBase, normalizer: Normalizer
) -> None:
    skipped = " ".join(line for key, lines in _notes(kb).items() if key == "curated-names" for line in lines)
    for synonym in SYNONYMS:
        res = normalizer.resolve(synonym.name)
        meant = [normalizer.resolve(name) for name in synonym.means]
        wanted = {r.ingredients[0].rxcui for r in meant if r.unresolved is None and not r.note}
        if len(wanted) == len(synonym.means):
            assert {i.rxcui for i in res.ingredients} == wanted, synonym.name
        else:
            assert synonym.name in skipped, synonym.name


def _notes(kb: KnowledgeBase) -> dict[str, list[str]]:
    text = (kb_files.DEFAULT_DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    return {"curated-names": [line for line in text.splitlines() if "skipped because" in line]}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("ibuprofen", "ibuprofen", 0), ("amoxicilin", "amoxicillin", 1), ("warfarin", "warfrain", 1),
     ("clonazepam", "lorazepam", 2), ("novolin", "novolog", 2), ("abc", "xyzabc", 3)],
)  # fmt: skip
def test_distance(a: str, b: str, expected: int) -> None:
    assert distance(a, b, limit=2) == min(expected, 3)


def test_fold_reads_sound_alike_spellings_alike() -> None:
    assert fold("ibuprophen") == fold("ibuprofen")
    assert fold("amoxycilline") == fold("amoxicillin")
    assert fold("metformine") == "metformin"


def test_the_spelling_index_needs_one_clear_winner() -> None:
    index = SpellingIndex({"clonazepam": ("2598",), "lorazepam": ("6470",), "warfarin": ("11289",)})
    reading = index.read("warfarine")
    assert reading is not None and (reading.name, reading.rxcuis) == ("warfarin", ("11289",))
    near_two = index.read("lonazepam")
    assert near_two is not None and near_two.name is None
    assert set(near_two.suggestions) == {"clonazepam", "lorazepam"}
    assert index.read("paracetamol") is None
