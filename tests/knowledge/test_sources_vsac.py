"""VSAC value sets: product codes to ingredients, therapeutic classes, the statin allergen set."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertsvc.knowledge import sources_vsac
from alertsvc.knowledge.rules_common import NameLookup

NAMES = {
    "simvastatin": "36567",
    "atorvastatin": "83367",
    "amlodipine": "17767",
    "ezetimibe": "341248",
    "midazolam": "6960",
    "metoprolol": "6918",
    "metoprolol succinate": "6918",
}
HEADER = "valueset_title\tvalueset_oid\tvs_version\tkind\trxcui\tdisplay\n"
STATINS = "2.16.840.1.113762.1.4.1110.19"
BENZOS = "2.16.840.1.113883.3.464.1003.196.12.1522"
BETA = "2.16.840.1.113883.3.526.3.1174"
ALLERGEN = sources_vsac.STATIN_ALLERGEN_OID


def member(title: str, oid: str, rxcui: str, display: str) -> str:
    return f"{title}\t{oid}\t20210220\texpansion\t{rxcui}\t{display}\n"


ROWS = (
    member("Statin Grouper", STATINS, "312961", "simvastatin 20 MG Oral Tablet")
    + member("Statin Grouper", STATINS, "404011", "amlodipine 5 MG / atorvastatin 10 MG Oral Tablet")
    + member("Statin Grouper", STATINS, "476345", "ezetimibe 10 MG / simvastatin 20 MG Oral Tablet [Vytorin]")
    + member("Statin Grouper", STATINS, "999", "{28 (norethindrone 1 MG Oral Tablet) } Pack")
    + member("Benzodiazepine", BENZOS, "1551393", "2 ML midazolam 5 MG/ML Prefilled Syringe")
    + member(
        "Beta Blocker Therapy",
        BETA,
        "866427",
        "24 HR metoprolol succinate 25 MG Extended Release Oral Tablet",
    )
    + member("Statin Allergen", ALLERGEN, "36567", "simvastatin")
    + member("Statin Allergen", ALLERGEN, "83367", "atorvastatin")
)
PRODUCTS = (
    "product_rxcui\tproduct_name\tproduct_tty\tingredient_rxcui\tingredient_name\n"
    "312961\tsimvastatin 20 MG Oral Tablet\tSCD\t36567\tsimvastatin\n"
)


def write_vsac(root: Path) -> tuple[Path, Path]:
    (root / "vsac").mkdir(parents=True, exist_ok=True)
    (root / "rxnorm").mkdir(parents=True, exist_ok=True)
    (root / "vsac" / sources_vsac.FILE).write_text(HEADER + ROWS, encoding="utf-8")
    (root / "rxnorm" / "product_to_IN_only.tsv").write_text(PRODUCTS, encoding="utf-8")
    return root / "vsac", root / "rxnorm" / "product_to_IN_only.tsv"


@pytest.mark.parametrize(
    ("display", "names"),
    [
        pytest.param("2 ML midazolam 5 MG/ML Prefilled Syringe", ["midazolam"], id="quantity"),
        pytest.param(
            "amlodipine 5 MG / atorvastatin 10 MG Oral Tablet",
            ["amlodipine", "atorvastatin"],
            id="combination",
        ),
        pytest.param(
            "24 HR metoprolol succinate 25 MG Extended Release Oral Tablet",
            ["metoprolol succinate"],
            id="hours",
        ),
        pytest.param("Ibuprofen Extended Release Oral Capsule", ["Ibuprofen"], id="no-strength"),
        pytest.param("{28 (norethindrone 1 MG Oral Tablet) } Pack", [], id="pack"),
        pytest.param("rosuvastatin", ["rosuvastatin"], id="ingredient"),
    ],
)
def test_display_ingredients(display: str, names: list[str]) -> None:
    assert sources_vsac.display_ingredients(display) == names


def test_therapeutic_classes_take_single_ingredient_codes_only(tmp_path: Path) -> None:
    vsac_dir, products = write_vsac(tmp_path)
    result = sources_vsac.build(vsac_dir, products, NameLookup(NAMES))
    statins = result.part.classes[f"vsac:{STATINS}"]
    assert statins.kind == "therapeutic"
    assert statins.members == {"36567"}  # amlodipine and atorvastatin come only in a combination here
    assert result.part.classes[f"vsac:{BENZOS}"].members == {"6960"}
    assert result.part.classes[f"vsac:{BETA}"].members == {"6918"}
    assert result.statin_allergen == {"36567", "83367"}
    assert any("Statins" in note and "1 codes not mapped" in note for note in result.part.notes)


def test_missing_value_sets_skip_the_class_and_say_so(tmp_path: Path) -> None:
    vsac_dir, products = write_vsac(tmp_path)
    result = sources_vsac.build(vsac_dir, products, NameLookup(NAMES))
    assert not any(drug_class.name == "Antipsychotics" for drug_class in result.part.classes.values())
    assert any("Antipsychotics; class skipped" in note for note in result.part.notes)
