"""``alertsvc normalize`` and ``alertsvc knowledge build`` on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from alertsvc.cli import main
from tests.knowledge.test_terms_build import write_sources

REPO = Path(__file__).resolve().parents[2]
OFFLINE = {"ALERTSVC_RXNAV_URL": "", "ALERTSVC_DATA_DIR": None}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=OFFLINE)
    return result.exit_code, result.output


def test_normalize_json_shape_for_a_brand() -> None:
    code, out = run("normalize", "Exforge", "--json")
    assert code == 0
    assert json.loads(out) == {
        "term": "Exforge",
        "ingredients": [{"rxcui": "17767", "name": "amlodipine"}, {"rxcui": "69749", "name": "valsartan"}],
        "unresolved": None,
    }


def test_normalize_json_unresolved_exits_non_zero_with_the_reason() -> None:
    code, out = run("normalize", "xyzzy", "--json")
    payload = json.loads(out)
    assert code == 1
    assert payload["ingredients"] == [] and payload["term"] == "xyzzy"
    assert "no ingredient, salt, brand or product called 'xyzzy'" in payload["unresolved"]


def test_normalize_text_prints_ingredients_and_the_product() -> None:
    code, out = run("normalize", "855626")
    assert code == 0
    assert out.splitlines() == [
        "3355\tdiclofenac",
        "# product 855626: Twice-Daily diclofenac epolamine 0.013 MG/MG Medicated Patch (topical)",
    ]


def test_normalize_text_unresolved() -> None:
    code, out = run("normalize", "999999999")
    assert code == 1
    assert out.startswith("unresolved: RxCUI 999999999 is not a current ingredient")


def test_normalize_names_a_missing_knowledge_folder(tmp_path: Path) -> None:
    code, out = run("normalize", "aspirin", "--data-dir", str(tmp_path / "none"))
    assert code == 1
    assert "manifest.json: cannot read" in out


@pytest.mark.parametrize("command", [["normalize"], ["knowledge"], ["knowledge", "build"]])
def test_commands_have_help(command: list[str]) -> None:
    code, out = run(*command, "--help")
    assert code == 0
    assert len(out.split("\n\n")[1].strip()) > 20  # a sentence of help, not just usage


def test_knowledge_build_command_writes_data(tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources")
    code, out = run("knowledge", "build", "--sources", str(sources), "--out", str(tmp_path / "data"))
    assert code == 0, out
    assert out.startswith("knowledge kb-") and "written to" in out and "products" in out
    code, out = run("normalize", "Exforge", "--json", "--data-dir", str(tmp_path / "data"))
    assert (code, json.loads(out)["ingredients"][0]["name"]) == (0, "amlodipine")


def test_normalize_through_a_real_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "ALERTSVC_RXNAV_URL": ""}
    env.pop("ALERTSVC_DATA_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "alertsvc", "normalize", "simvistatin", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ingredients"] == [{"rxcui": "36567", "name": "simvastatin"}]
