"""SIGHUP to a served process reads its knowledge files again: the process goes on serving with the new
knowledge (``/healthz`` names it), and files that do not load leave it on the knowledge it has, saying
why in its log. The real ``alertsvc serve`` in a process of its own."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from alertsvc.config import Settings
from alertsvc.knowledge import kb
from tests.web.processes import Site, wait_until_up


def knowledge_of(url: str) -> str:
    version: str = httpx.get(url + "/healthz", timeout=5).json()["knowledge"]
    return version


def logged(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """The log once it holds ``text`` (the process still serving)."""
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert process.poll() is None, path.read_text()
        assert time.monotonic() < deadline, f"{text!r} not logged: {path.read_text()}"
        time.sleep(0.1)
    return path.read_text()


def test_sighup_reloads_the_knowledge_of_a_serving_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    original = kb.load(Settings().data_dir)
    kb.save(original, data_dir)
    site = Site.make(tmp_path, wards="north")
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "alertsvc", "serve"],
            env=site.env | {"ALERTSVC_DATA_DIR": str(data_dir)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until_up(site.url, process)
        assert knowledge_of(site.url) == original.version

        rules = data_dir / "rules.jsonl"  # changed by hand: refused, the process serves on
        rules.write_text(rules.read_text().splitlines()[0] + "\n")
        process.send_signal(signal.SIGHUP)
        assert "knowledge not reloaded" in logged(log, "knowledge not reloaded", process)
        assert knowledge_of(site.url) == original.version

        update = dataclasses.replace(original, rules=original.rules[1:])
        kb.save(update, data_dir)
        new = kb.load(data_dir).version
        process.send_signal(signal.SIGHUP)
        text = logged(log, f"knowledge {new} replaces {original.version}", process)
        assert "admissions re-checked" in text
        assert knowledge_of(site.url) == new
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
