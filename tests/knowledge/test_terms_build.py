"""The terminology build on small slices of each public-source format, written here into tmp_path.

The rows are real rows of the RxNorm, CPIC, ANSM, VSAC, PDDI-CDS and FDA Orange Book files (a handful of
each), with the same gaps as the real files: no ingredient whose name starts with "A", no PIN -> IN link.
A few rows are made up to exercise a rule and say so (an SCDC of an ingredient no source has, Orange Book
rows for an ambiguous trade name and for "TPN").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge.terminology import ndc11, parse_product_name, route_of, strip_salt
from alertsvc.knowledge.terms_build import Terminology, build_terminology

SLICES: dict[str, str] = {
    "rxnorm/ingredients.tsv": """rxcui	name	tty	unii
11289	warfarin	IN	5Q7ZVV76EI
114194	warfarin sodium	PIN	6153CWM0CL
69749	valsartan	IN	80M03YXJ7I
3355	diclofenac	IN	144O8QL0L1
203214	diclofenac sodium	PIN	QTG126297Q
36567	simvastatin	IN	AGG2FN16EV
48203	clavulanate	IN
4919	glycine	IN	TE7660XO1C
321064	olmesartan	IN	8W1IQP3U10
118463	olmesartan medoxomil	PIN	6M97XTV3HD
35296	ramipril	IN	L35JN3I7SJ
1001472	dutasteride / tamsulosin	MIN
2231	cephalexin	IN	OBN7UDS42Y
26225	ondansetron	IN	4AF302ESOS
5489	hydrocodone	IN	6YKS4Y3WQ7
2400	chlorpheniramine	IN	3U6IO1965U
8896	pseudoephedrine	IN	7CUC9DDI9F
7052	morphine	IN	76I7G6D29C
2670	codeine	IN	Q830PW7520
2672	codeine phosphate	PIN	GSL05Y1MN6
""",
    "rxnorm/product_to_IN_only.tsv": """product_rxcui	product_name	product_tty	ingredient_rxcui	ingredient_name
722126	amlodipine 10 MG / valsartan 160 MG Oral Tablet	SCD	69749	valsartan
724879	amlodipine 10 MG / valsartan 160 MG Oral Tablet [Exforge]	SBD	69749	valsartan
855332	warfarin sodium 5 MG Oral Tablet	SCD	11289	warfarin
855334	warfarin sodium 5 MG Oral Tablet [Coumadin]	SBD	11289	warfarin
855636	diclofenac sodium 10 MG/ML Topical Gel	SCD	3355	diclofenac
312961	simvastatin 20 MG Oral Tablet	SCD	36567	simvastatin
730861	amlodipine 10 MG / olmesartan medoxomil 20 MG Oral Tablet	SCD	321064	olmesartan
900001	alanine 11 MG/ML / glycine 11 MG/ML Injectable Solution [Aminosyn Mini]	SBD	4919	glycine
""",  # noqa: E501
    "rxnorm/brandname_to_IN_only.tsv": """bn_rxcui	bn_name	ingredient_rxcui	ingredient_name
722127	Exforge	69749	valsartan
196503	Zocor	36567	simvastatin
202421	Coumadin	11289	warfarin
900002	Aminosyn Mini	4919	glycine
""",
    "rxnorm/scdc_to_ingredient.tsv": """scdc_rxcui	scdc_name	ingredient_rxcui
358775	olmesartan medoxomil 20 MG	118463
358775	olmesartan medoxomil 20 MG	321064
855295	warfarin sodium 10 MG	11289
855295	warfarin sodium 10 MG	114194
994282	codeine phosphate 1.27 MG/ML	2670
994282	codeine phosphate 1.27 MG/ML	2672
994282	codeine phosphate 1.27 MG/ML	690647
994282	codeine phosphate 1.27 MG/ML	818422
900003	alanine 11 MG/ML	900004
""",
    "cpic/cpic_drug_ids.tsv": """drugId	name	pharmgkbId	rxnormId	drugbankId	atcId
RxNorm:1191	aspirin	PA448497	1191	DB00945	N02BA01
RxNorm:83367	atorvastatin	PA448500	83367	DB01076	C10AA05
ATC:C10AA	hmg coa reductase inhibitors	PA133950441			C10AA
""",
    "ansm/eng_groups2016_xml-v3.tsv": """Drug Name	RxNorm	Source File	Clinical Source	Class Name	Class Code
AMLODIPINE	17767	x.html	ANSM	CALCIUM CHANNEL BLOCKERS	C08-001
PARACETAMOL	161	x.html	ANSM	SOMETHING	X-001
AMIPRIL 	35296	x.html	ANSM	ACE INHIBITORS	C09A-001
""",
    "ansm/eng_tables2016-xml-v3.tsv": (
        "Drug Interaction ID\tDrug 1 Name\tDrug 1 RxCUI\tDrug 1 Class Name\tDrug 1 Code\tDrug 2 Name\t"
        "Drug 2 RxCUI\tDrug 2 Class Name\tDrug 2 Code\tClinical Source\tSource File\tDescription\tSeverity\t"
        "Comment\n"
        "1\tALPRAZOLAM\t596\t\t\tWARFARIN\t11289\t\t\tANSM\tx.html\trisk\tTake into account\t\n"
    ),
    "vsac/rxnorm_valueset_members.tsv": """valueset_title	valueset_oid	vs_version	kind	rxcui	display
Statin Grouper	ValueSet-1	Working	expansion	259255	atorvastatin 80 MG Oral Tablet
Hypertension	ValueSet-2	Working	expansion	197361	amlodipine 5 MG Oral Tablet
Benzodiazepine	ValueSet-3	Working	expansion	308047	alprazolam 0.25 MG Oral Tablet
""",  # noqa: E501
    "pddi_cds/_valueset_codes_flat.tsv": """source_file	valueset_id	title	kind	system	code	display
v.xml	valueset-aspirin	Aspirin	compose	http://www.nlm.nih.gov/research/umls/rxnorm	1191	Aspirin
v.xml	valueset-aspirin	Aspirin	compose	http://www.nlm.nih.gov/research/umls/rxnorm	243670	Aspirin 81 MG Oral Tablet
v.xml	valueset-x	X	compose	http://www.nlm.nih.gov/research/umls/rxnorm	313782	Acetaminophen 325 MG Oral Tablet
v.xml	valueset-x	X	compose	http://snomed.info/sct	999	Acetaminophen 500 MG Oral Tablet
""",  # noqa: E501
    "fda/orange_book_2015-11_products.tsv": (
        "trade_name\tingredients\tstrengths\tdose_form\troute\tcategory\tapplication_id\tproduct_id\t"
        "applicant\n"
        "KEFLEX\tCEPHALEXIN\tEQ 250MG BASE\tCAPSULE\tORAL\tRX\tNDA050405\tNDA050405_001\tSHIONOGI INC\n"
        "ZOFRAN\tONDANSETRON HYDROCHLORIDE\tEQ 24MG BASE\tTABLET\tORAL\tRX\tNDA020103\tNDA020103_003\tX\n"
        "ZOFRAN ODT\tONDANSETRON\t4MG\tTABLET, ORALLY DISINTEGRATING\tORAL\tRX\tNDA020781\tNDA020781_001\tX\n"
        "VICODIN\tACETAMINOPHEN / HYDROCODONE BITARTRATE\t500MG / 5MG\tTABLET\tORAL\tDISCN\tANDA088058\t"
        "ANDA088058_001\tABBVIE INC\n"
        "VICODIN\tHYDROCODONE BITARTRATE / ACETAMINOPHEN\t5MG / 500MG\tTABLET\tORAL\tDISCN\tANDA085667\t"
        "ANDA085667_001\tABBOTT LABORATORIES\n"
        "ZOCOR\tSIMVASTATIN\t10MG\tTABLET\tORAL\tRX\tNDA019766\tNDA019766_002\tMERCK\n"
        "DICLOFENAC POTASSIUM\tDICLOFENAC POTASSIUM\t50MG\tTABLET\tORAL\tDISCN\tANDA075152\t"
        "ANDA075152_001\tWATSON\n"
        "CHLOR-TRIMETON\tCHLORPHENIRAMINE MALEATE\t100MG/ML\tINJECTABLE\tINJECTION\tDISCN\tNDA008794\t"
        "NDA008794_001\tSCHERING\n"
        "CHLOR-TRIMETON\tCHLORPHENIRAMINE MALEATE / PSEUDOEPHEDRINE SULFATE\t8MG / 120MG\tTABLET\tORAL\t"
        "OTC\tNDA018397\tNDA018397_001\tBAYER\n"
        "NEOSPORIN\tCEPHALEXIN / HYDROCODONE\t1 / 1\tOINTMENT\tTOPICAL\tRX\tX\tX_1\tMADE-UP AMBIGUITY\n"
        "NEOSPORIN\tONDANSETRON / HYDROCODONE\t1 / 1\tOINTMENT\tTOPICAL\tRX\tX\tX_2\tMADE-UP AMBIGUITY\n"
        "EMEND\tAPREPITANT\t125MG\tCAPSULE\tORAL\tRX\tNDA021549\tNDA021549_002\tMERCK\n"
        "EMEND\tFOSAPREPITANT DIMEGLUMINE\tEQ 115MG BASE/VIAL\tPOWDER\tINTRAVENOUS\tDISCN\tNDA022023\t"
        "NDA022023_001\tMERCK\n"
        "TPN\tMORPHINE SULFATE\t1MG\tSUSPENSION\tORAL\tDISCN\tX\tX_3\tMADE-UP: TPN MEANS NUTRITION\n"
    ),
    # The rules build (rules_build, another module) reads these too; one pair each keeps it honest.
    "onc/ONC_high_priority_class_table_phansalkar2012.tsv": (
        "pair_id(filled-down)\tobject_class(as-in-xls, blank=same-cell-group)\tobject_drug\t"
        "precipitant_class(as-in-xls)\tprecipitant_drug\n"
        "3\tAmphetamine derivatives\tDexmethylphenidate\tMAOI\tTranylcypromine\n"
    ),
    "onc/ONC_non_interruptive_class_table_phansalkar2013.tsv": (
        "ID\tObject_Class\tObject_Drug\tObj_DrugbankID\tPreciptiant_Class\tPrecipitant_Drug\tPre_DrugbankID\n"
        "1\tACE inhibitors\tramipril\t\tSalicylates\tAspirin\t\n"
    ),
    "ndfrt/combined_conservative_NDF-RT.tsv": (
        "drug1\tobject\tdrug2\tprecipitant\tlabel\tseverity\turi\tsource\n"
        "http://bio2rdf.org/drugbank:DB00682\tWarfarin\thttp://bio2rdf.org/drugbank:DB00641\tSimvastatin\t"
        "SIMVASTATIN/WARFARIN [VA Drug Interaction]\tSignificant\thttp://purl.bioontology.org/ontology/NDFRT/"
        "N0000000001\tNDF-RT\n"
    ),
}


def write_sources(root: Path) -> Path:
    """Write the slices under ``root`` in the layout of the shared data folder; returns ``root``."""
    for relative, text in SLICES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "rxnorm" / "Readme_Full_Prescribe_10062025.txt").write_text("October 06, 2025\n")
    return root


@pytest.fixture(scope="module")
def terms(tmp_path_factory: pytest.TempPathFactory) -> Terminology:
    return build_terminology(write_sources(tmp_path_factory.mktemp("sources")))


def names_of(terms: Terminology, rxcuis: tuple[str, ...]) -> list[str]:
    return sorted(terms.ingredients[r].name for r in rxcuis)


@pytest.mark.parametrize(
    ("name", "rxcui"),
    [
        pytest.param("amlodipine", "17767", id="ansm+product-name"),
        pytest.param("aspirin", "1191", id="cpic+pddi"),
        pytest.param("atorvastatin", "83367", id="cpic+vsac"),
        pytest.param("acetaminophen", "161", id="ansm-paracetamol"),
        pytest.param("alprazolam", "596", id="ansm-tables"),
    ],
)
def test_missing_a_ingredients_are_added_from_other_sources(
    terms: Terminology, name: str, rxcui: str
) -> None:
    assert terms.ingredients[rxcui].name == name
    assert terms.names[name] == (rxcui,)


def test_a_curated_ingredient_without_a_source_is_dropped_and_said(terms: Terminology) -> None:
    assert "1364430" not in terms.ingredients  # apixaban: no source in this slice confirms it
    assert any("apixaban" in note and "not confirmed" in note for note in terms.notes["curated-terms"])


def test_an_ansm_name_with_an_rxcui_of_another_ingredient_is_not_added(terms: Terminology) -> None:
    assert terms.ingredients["35296"].name == "ramipril"
    assert "amipril" not in terms.names


def test_combination_product_gets_its_missing_a_ingredient_back(terms: Terminology) -> None:
    product = terms.products["722126"]
    assert names_of(terms, product.ingredients) == ["amlodipine", "valsartan"]
    assert (product.route, product.dose_form, product.tty) == ("oral", "Oral Tablet", "SCD")
    assert names_of(terms, terms.products["730861"].ingredients) == ["amlodipine", "olmesartan"]


def test_topical_gel_is_topical(terms: Terminology) -> None:
    assert terms.products["855636"].route == "topical"
    assert terms.products["855636"].dose_form == "Topical Gel"


def test_product_naming_an_ingredient_with_no_rxcui_is_dropped_with_its_brand(terms: Terminology) -> None:
    assert "900001" not in terms.products
    assert "900002" not in terms.brands
    assert "aminosyn mini" not in terms.names
    assert any("alanine" in note for note in terms.notes["rxnorm"])


def test_brand_is_completed_from_its_branded_products(terms: Terminology) -> None:
    assert names_of(terms, terms.brands["722127"].ingredients) == ["amlodipine", "valsartan"]
    assert names_of(terms, terms.names["exforge"]) == ["amlodipine", "valsartan"]
    assert terms.names["zocor"] == ("36567",)


def test_salts_link_to_their_ingredient_by_scdc_rows_and_by_salt_words(terms: Terminology) -> None:
    assert terms.salts["118463"] == "321064"  # olmesartan medoxomil: an SCDC names both
    assert terms.salts["114194"] == "11289"  # warfarin sodium: salt word stripped
    assert terms.salts["203214"] == "3355"
    assert terms.names["warfarin sodium"] == ("11289",)


def test_multi_ingredient_rows_are_dropped_and_counted(terms: Terminology) -> None:
    assert "1001472" not in terms.ingredients
    assert any("1 multi-ingredient (MIN) rows dropped" in note for note in terms.notes["rxnorm"])


def test_value_set_products_missing_from_rxnorm_are_added(terms: Terminology) -> None:
    assert names_of(terms, terms.products["197361"].ingredients) == ["amlodipine"]
    assert names_of(terms, terms.products["243670"].ingredients) == ["aspirin"]
    assert terms.products["313782"].route == "oral"
    assert "999" not in terms.products  # a SNOMED code is not an RxNorm product


def test_rule_names_hold_only_names_of_one_ingredient(terms: Terminology) -> None:
    names = terms.rule_names()
    assert names["paracetamol"] == "161"
    assert names["warfarin sodium"] == "11289"
    assert "exforge" not in names


def test_a_missing_source_file_is_named(tmp_path: Path) -> None:
    write_sources(tmp_path)
    (tmp_path / "cpic" / "cpic_drug_ids.tsv").unlink()
    with pytest.raises(KnowledgeBuildError, match=r"cpic_drug_ids\.tsv"):
        build_terminology(tmp_path)


def test_a_source_file_without_its_columns_is_named(tmp_path: Path) -> None:
    write_sources(tmp_path)
    (tmp_path / "rxnorm" / "ingredients.tsv").write_text("id\tlabel\n1\tx\n")
    with pytest.raises(KnowledgeBuildError, match=r"ingredients.tsv: missing column\(s\) rxcui, name, tty"):
        build_terminology(tmp_path)


@pytest.mark.parametrize(
    ("dose_form", "route"),
    [
        pytest.param("Topical Gel", "topical", id="gel"),
        pytest.param("Ophthalmic Solution", "ophthalmic", id="eye"),
        pytest.param("Otic Suspension", "otic", id="ear"),
        pytest.param("Oral Tablet", "oral", id="tablet"),
        pytest.param("Injectable Solution", "injectable", id="injectable"),
        pytest.param("Injection", "injectable", id="injection"),
        pytest.param("Prefilled Syringe", "injectable", id="syringe"),
        pytest.param("Vaginal Cream", "vaginal", id="vaginal-cream"),
        pytest.param("Metered Dose Inhaler", "inhalation", id="inhaler"),
        pytest.param("Metered Dose Nasal Spray", "nasal", id="nasal"),
        pytest.param("Transdermal System", "transdermal", id="patch"),
        pytest.param("Rectal Suppository", "rectal", id="rectal"),
        pytest.param("Drug Implant", "other", id="implant"),
    ],
)
def test_route_of_dose_form(dose_form: str, route: str) -> None:
    assert route_of(dose_form) == route


def test_pack_names_are_read_through_their_contents() -> None:
    parsed = parse_product_name(
        "{7 (ethinyl estradiol 0.035 MG / norgestimate 0.18 MG Oral Tablet) / 7 (inert ingredients 1 MG "
        "Oral Tablet) } Pack [Ortho Tri-Cyclen 28 Day]"
    )
    assert parsed.parts == ("ethinyl estradiol", "norgestimate", "inert ingredients")
    assert (parsed.dose_form, parsed.brand) == ("Oral Tablet", "Ortho Tri-Cyclen 28 Day")


@pytest.mark.parametrize(
    ("written", "base"),
    [
        ("warfarin sodium", "warfarin"),
        ("metoprolol succinate er", "metoprolol"),
        ("amlodipine besylate", "amlodipine"),
    ],
)
def test_strip_salt(written: str, base: str) -> None:
    assert strip_salt(written) == base


@pytest.mark.parametrize(
    ("text", "eleven"),
    [("16590-619-30", "16590061930"), ("0002-3227-30", "00002322730"), ("12345-6789-1", "12345678901"),
     ("12345-678-9", None), ("00002322730", "00002322730"), ("1234-5-6", None), ("197361", None)],
)  # fmt: skip
def test_ndc11(text: str, eleven: str | None) -> None:
    assert ndc11(text) == eleven


def test_docstring_examples_hold() -> None:
    import doctest

    from alertsvc.knowledge import product_names

    result = doctest.testmod(product_names)
    assert result.attempted >= 2 and result.failed == 0


def test_scdc_codes_become_products_of_their_ingredient(terms: Terminology) -> None:
    warfarin = terms.products["855295"]  # the PDDI-CDS scenarios' "Warfarin Sodium 10 MG": IN and its PIN
    assert (warfarin.tty, warfarin.ingredients, warfarin.route, warfarin.dose_form) == (
        "SCDC",
        ("11289",),
        "oral",
        "",
    )
    # links to the IN, its PIN and two multi-ingredient rows: the component's own name decides
    assert terms.products["994282"].ingredients == ("2670",)
    assert "900003" not in terms.products  # alanine: no source gives its RxCUI
    assert any("SCDC" in note and "1 dropped" in note for note in terms.notes["rxnorm"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("keflex", ["cephalexin"], id="discontinued-brand"),
        pytest.param("zofran", ["ondansetron"], id="salt-stripped"),
        pytest.param("zofran odt", ["ondansetron"], id="brand-with-form"),
        pytest.param("vicodin", ["acetaminophen", "hydrocodone"], id="two-ingredients-either-order"),
        pytest.param("chlor-trimeton", ["chlorpheniramine"], id="ambiguous-kept-as-its-single-ingredient"),
    ],
)
def test_orange_book_trade_names_become_names(terms: Terminology, name: str, expected: list[str]) -> None:
    assert names_of(terms, terms.names[name]) == expected


def test_orange_book_names_that_are_known_generic_ambiguous_or_unsafe_are_not_taken(
    terms: Terminology,
) -> None:
    assert terms.names["zocor"] == ("36567",)  # RxNorm's own brand
    assert "diclofenac potassium" not in terms.names  # a generic listing, resolved by salt stripping anyway
    assert "neosporin" not in terms.names  # two different ingredient sets
    assert "emend" not in terms.names  # one of its products names an ingredient no source has (aprepitant)
    assert "tpn" not in terms.names  # on a ward TPN is parenteral nutrition
    notes = " ".join(terms.notes["fda-orange-book"])
    assert "5 taken" in notes and "1 ambiguous" in notes and "(neosporin)" in notes
    assert "'tpn' not taken: total parenteral nutrition" in notes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("paracetamol", ["acetaminophen"], id="ban"),
        pytest.param("co-codamol", ["acetaminophen", "codeine"], id="co-name"),
        pytest.param("oramorph", ["morphine"], id="uk-brand"),
        pytest.param("ciclosporin", None, id="target-not-in-slice"),
    ],
)
def test_curated_synonyms_become_names(terms: Terminology, name: str, expected: list[str] | None) -> None:
    if expected is None:
        assert name not in terms.names
        assert any(f"{name} (cyclosporine)" in note for note in terms.notes["curated-names"])
    else:
        assert names_of(terms, terms.names[name]) == expected


def test_en_gb_display_names_come_from_the_curated_british_names(terms: Terminology) -> None:
    assert terms.display_names["en-GB"]["161"] == "paracetamol"
    assert "3355" not in terms.display_names["en-GB"]  # diclofenac: the same name in both


def test_drug_names_no_ingredient_maps_are_kept_as_unknown_drugs(terms: Terminology) -> None:
    assert terms.unknown_drugs["aprepitant"] == "fda-orange-book"  # an A ingredient no source gives
    assert "amipril" not in terms.unknown_drugs  # ANSM's slip for ramipril: one edit from a known name
    assert "ramipril" not in terms.unknown_drugs and "warfarin sodium" not in terms.unknown_drugs
    assert any("unknown_drugs.tsv" in note for note in terms.notes["curated-terms"])
