"""The hospital bench at 2 wards x 3 beds, and BENCHMARKS.md written from it: so neither can rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import hospital_bench, report
from bench.__main__ import main
from tests.postgres import server_url


def test_a_small_hospital_gives_sane_figures() -> None:
    scale = hospital_bench.Scale(wards=2, beds=3, day_hours=24, ticks=2, rechecks=1, streams=())
    measured = hospital_bench.measure(scale)
    figures = {f.name: f for f in measured.figures}
    assert figures["admission"].samples == 6
    assert figures["re-check after a knowledge update"].samples == 2  # the rule withdrawn, restored
    for figure in measured.figures:
        assert figure.median >= 0, figure
        if figure.p99 is not None:
            assert figure.p99 >= figure.median > 0, figure
    assert figures["database after the day"].median > figures["database after admission"].median > 0
    assert figures["alerts per patient-day"].median > 1  # 20 common drugs a patient do interact
    assert 0 < figures["critical alerts per patient-day"].median <= figures["alerts per patient-day"].median
    assert any("582 administrations planned (97 a patient)" in line for line in measured.lines)
    assert set(measured.series) >= {"admission", "tick", "re-check after a knowledge update"}


def test_the_hospital_runs_on_postgres_side_by_side_with_ratios_to_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALERTSVC_BENCH_DATABASE_URL", server_url())
    scale = hospital_bench.Scale(wards=1, beds=2, day_hours=24, ticks=1, rechecks=1, streams=())
    figures = {f.name: f for f in hospital_bench.measure(scale).figures}
    on_postgres = figures["admission [postgresql]"]
    assert on_postgres.samples == 2 and on_postgres.ratio_to == "admission"
    same = ("alerts per patient-day", "alerts per patient-day [postgresql]")
    assert figures[same[0]].median == figures[same[1]].median  # the same hospital raises the same alerts


def test_the_writer_puts_figures_versions_machine_and_plots_in_one_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "ALERTSVC_BENCH_WARDS": "1",
        "ALERTSVC_BENCH_BEDS": "2",
        "ALERTSVC_BENCH_TICKS": "1",
        "ALERTSVC_BENCH_RECHECKS": "1",
        "ALERTSVC_BENCH_STREAMS": "",
    }.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "BENCHMARKS.md"
    assert main(["--out", str(out), "bench.hospital_bench"]) == 0
    text = out.read_text()
    for expected in ("## Machine", "load average", "- PyNaCl ", "- SQLite ", "`ALERTSVC_BENCH_BEDS=2`"):
        assert expected in text
    assert "| re-check after a knowledge update (target < 1 s) |" in text
    assert "x database after admission |" in text  # a ratio between two figures of the run
    plot = tmp_path / "docs" / "bench" / "hospital_bench.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](docs/bench/hospital_bench.png)" in text


def test_p99_is_the_nearest_rank() -> None:
    figure = report.summarise("x", [float(n) for n in range(1, 201)], "ms")
    assert (figure.median, figure.p99, figure.samples) == (100.5, 198.0, 200)
