"""Saving and loading the knowledge base: round trip, version, refusal of changed or malformed files."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.build import NLM_ATTRIBUTION, build
from alertsvc.knowledge.model import Brand, DrugClass, Ingredient, KnowledgeBase, Product, Rule, Source
from tests.knowledge.test_terms_build import write_sources

VERSION = re.compile(r"^kb-\d{4}-\d{2}-\d{2}-[0-9a-f]{12}$")


def small_kb(**changes: object) -> KnowledgeBase:
    values: dict[str, object] = dict(
        version="",
        built="2026-11-24",
        sources={"rxnorm": Source("rxnorm", "RxNorm", "2025-10-06", "NLM", NLM_ATTRIBUTION, "https://x")},
        ingredients={"11289": Ingredient("11289", "warfarin"), "5640": Ingredient("5640", "ibuprofen")},
        salts={"114194": "11289"},
        products={
            "855332": Product(
                "855332", "warfarin sodium 5 MG Oral Tablet", "SCD", ("11289",), "oral", "Oral Tablet"
            ),
            "1": Product("1", "ibuprofen 50 MG/ML Topical Gel", "SCD", ("5640",), "topical", "Topical Gel"),
        },
        brands={"202421": Brand("202421", "Coumadin", ("11289",))},
        names={"warfarin": ("11289",), "coumadin": ("11289",), "st. john's wort": ("5640",)},
        ndc={"00056017270": "855332"},
        classes={
            "allergen:nsaids": DrugClass(
                "allergen:nsaids", "NSAIDs", "allergen", "rxnorm", frozenset({"5640"})
            )
        },
        rules=(
            Rule("r1", "interaction", "in:11289", "class:allergen:nsaids", "major", "bleeding", "avoid",
                 ("rxnorm",), non_interruptive=True, routes=frozenset({"oral", "injectable"})),
        ),
    )  # fmt: skip
    values.update(changes)
    return KnowledgeBase(**values)  # type: ignore[arg-type]


def test_round_trip_keeps_everything_and_names_a_version(tmp_path: Path) -> None:
    kb = small_kb()
    kb_files.save(kb, tmp_path)
    loaded = kb_files.load(tmp_path)
    assert VERSION.match(loaded.version)
    assert loaded.version.startswith("kb-2026-11-24-")
    for name in (
        "built",
        "sources",
        "ingredients",
        "salts",
        "products",
        "brands",
        "names",
        "ndc",
        "classes",
        "rules",
    ):
        assert getattr(loaded, name) == getattr(kb, name), name


def test_version_changes_with_content_and_not_without(tmp_path: Path) -> None:
    kb_files.save(small_kb(), tmp_path / "a")
    kb_files.save(small_kb(), tmp_path / "b")
    kb_files.save(small_kb(names={"warfarin": ("11289",)}), tmp_path / "c")
    versions = [kb_files.load(tmp_path / d).version for d in "abc"]
    assert versions[0] == versions[1] != versions[2]


def test_a_changed_file_is_refused_naming_it(tmp_path: Path) -> None:
    kb_files.save(small_kb(), tmp_path)
    with (tmp_path / "names.tsv").open("a") as handle:
        handle.write("aspirin\t1191\n")
    with pytest.raises(KnowledgeBuildError, match=r"names\.tsv: content differs from manifest\.json"):
        kb_files.load(tmp_path)


def test_a_missing_folder_names_the_manifest(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBuildError, match=r"manifest\.json: cannot read"):
        kb_files.load(tmp_path / "nowhere")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    kb_files.save(small_kb(), tmp_path)
    (tmp_path / "products.tsv").unlink()
    with pytest.raises(KnowledgeBuildError, match=r"products\.tsv: cannot read"):
        kb_files.load(tmp_path)


def rewrite(data_dir: Path, name: str, text: str) -> None:
    """Replace one file and re-hash it in the manifest, as a broken generator would have written it."""
    import hashlib

    (data_dir / name).write_text(text, encoding="utf-8")
    manifest = json.loads((data_dir / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(text.encode()).hexdigest()
    (data_dir / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        pytest.param("products.tsv", "rxcui\tname\n", r"products\.tsv: header is not", id="header"),
        pytest.param(
            "brands.tsv", "rxcui\tingredients\tname\n1\t2\n", r"brands\.tsv:2: 2 fields", id="fields"
        ),
        pytest.param(
            "products.tsv",
            "rxcui\ttty\troute\tdose_form\tingredients\tname\n1\tSCD\tnasal-ish\t\t2\tx\n",
            r"products\.tsv: product 1 has unknown route 'nasal-ish'",
            id="route",
        ),
        pytest.param("rules.jsonl", '{"id": "r"}\n', r"malformed knowledge file", id="rule-fields"),
        pytest.param("classes.jsonl", "{not json\n", r"malformed knowledge file", id="json"),
    ],
)
def test_malformed_files_are_refused_naming_them(tmp_path: Path, name: str, text: str, message: str) -> None:
    kb_files.save(small_kb(), tmp_path)
    rewrite(tmp_path, name, text)
    with pytest.raises(KnowledgeBuildError, match=message):
        kb_files.load(tmp_path)


def test_a_field_with_a_tab_is_refused_on_save(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBuildError, match="tab or newline"):
        kb_files.save(small_kb(names={"war\tfarin": ("11289",)}), tmp_path)


names = st.text(st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=30).filter(
    lambda s: s.strip() == s and s != ""
)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(names, st.lists(st.sampled_from(["11289", "5640"]), min_size=1, max_size=2), max_size=8)
)
def test_any_names_round_trip(tmp_path_factory: pytest.TempPathFactory, table: dict[str, list[str]]) -> None:
    data_dir = tmp_path_factory.mktemp("kb")
    names_table = {k: tuple(v) for k, v in table.items()}
    kb_files.save(small_kb(names=names_table), data_dir)
    assert kb_files.load(data_dir).names == names_table


def test_build_writes_data_and_sources_md(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources")
    report = build(sources, tmp_path / "data", today=date(2026, 11, 24))
    loaded = kb_files.load(tmp_path / "data")
    assert loaded.version == report.version
    assert report.version.startswith("kb-2026-11-24-")
    assert loaded.ingredients["17767"].name == "amlodipine"
    assert report.counts["products"] == len(loaded.products)
    assert loaded.rules and {"rxnorm", "ndfrt", "onc-hp"} <= set(loaded.sources)  # rules_build was called
    text = (tmp_path / "data" / "SOURCES.md").read_text()
    assert NLM_ATTRIBUTION in text
    assert report.version in text
    for needed in (
        "CC0 1.0",
        "RxNorm",
        "2025-10-06",
        "CPIC",
        "VSAC",
        "PDDI",
        "ANSM",
        "dropped",
        "apixaban 1364430",
    ):
        assert needed in text, needed
    # nothing copied verbatim: the source tables' headers appear in no knowledge file
    for name in kb_files.FILES:
        assert "product_rxcui\tproduct_name" not in (tmp_path / "data" / name).read_text()


def test_committed_data_loads_with_a_version() -> None:
    loaded = kb_files.load(kb_files.DEFAULT_DATA_DIR)
    assert VERSION.match(loaded.version)
    assert len(loaded.ingredients) > 2000 and len(loaded.products) > 15000
    assert "SOURCES.md" not in kb_files.FILES
    assert NLM_ATTRIBUTION in (kb_files.DEFAULT_DATA_DIR / "SOURCES.md").read_text()


def test_default_data_dir_is_the_settings_default() -> None:
    from alertsvc.config import Settings

    assert Settings().data_dir == kb_files.DEFAULT_DATA_DIR
