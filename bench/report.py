"""Figures as data, the machine and versions they were measured on, and BENCHMARKS.md with its plots.

A bench module may offer ``measure() -> Measured`` (figures plus the lines it prints); one that offers only
``run()`` (lines) has its lines written verbatim. Every ratio is between two figures of the same run.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sqlite3
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure: its median and p99 (or a single value: ``p99`` None), in ``unit``. ``ratio_to``
    names another figure of the same run; the report gives median / that figure's median."""

    name: str
    median: float
    unit: str
    p99: float | None = None
    samples: int = 1
    ratio_to: str | None = None
    note: str = ""


@dataclass
class Measured:
    """What one bench module measured: its figures, the lines it printed, and any plots it drew."""

    module: str
    figures: list[Figure] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    """Raw samples by figure name, for the plots."""
    load: tuple[float, float] = (0.0, 0.0)
    """1-minute load average at the start and end of the module."""
    seconds: float = 0.0


def summarise(name: str, samples: Sequence[float], unit: str, **extra: Any) -> Figure:
    """Median and p99 (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError(f"{name}: no samples")
    rank = max(0, min(len(ordered) - 1, -(-99 * len(ordered) // 100) - 1))
    return Figure(
        name,
        statistics.median(ordered),
        unit,
        p99=ordered[rank],
        samples=len(ordered),
        **extra,
    )


def machine() -> dict[str, str]:
    """CPU model, cores, memory and OS of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()} ({platform.platform()})",
    }


def versions(database_url: str = "") -> dict[str, str]:
    """Python, SQLite and the libraries the figures depend on (psycopg, and the PostgreSQL server if used)."""
    found = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    for package in ("PyNaCl", "starlette", "uvicorn", "uvloop", "networkx", "sqlite-utils", "psycopg"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    if database_url:
        found["PostgreSQL server"] = _postgres_version(database_url)
    return found


def _postgres_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "unknown"
    except Exception as exc:  # the report says why rather than failing a long run at its end
        return f"not reached ({type(exc).__name__})"


def load_average() -> float:
    return os.getloadavg()[0]


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def figure_table(measured: Measured) -> list[str]:
    """The module's figures as a Markdown table, with each ratio to another figure of the same run."""
    by_name = {f.name: f for f in measured.figures}
    rows = ["| figure | median | p99 | unit | samples | ratio |", "|---|---:|---:|---|---:|---|"]
    for f in measured.figures:
        ratio = ""
        other = by_name.get(f.ratio_to or "")
        if other is not None and other.median:
            ratio = f"{f.median / other.median:.2f}x {other.name}"
        p99 = _number(f.p99) if f.p99 is not None else ""
        name = f"{f.name} ({f.note})" if f.note else f.name
        rows.append(f"| {name} | {_number(f.median)} | {p99} | {f.unit} | {f.samples} | {ratio} |")
    return rows


def plot(measured: Measured, folder: Path) -> list[Path]:
    """One PNG per module with samples: each series' distribution (a box per figure), in the figures' unit."""
    if not measured.series:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    units = {f.name: f.unit for f in measured.figures}
    written = []
    by_unit: dict[str, list[str]] = {}
    for name in measured.series:
        by_unit.setdefault(units.get(name, ""), []).append(name)
    for unit, names in by_unit.items():
        figure, axes = plt.subplots(figsize=(8, 0.6 * len(names) + 1.6))
        axes.boxplot(
            [measured.series[n] for n in names], orientation="horizontal", whis=(1, 99), showfliers=False
        )
        axes.set_yticks(range(1, len(names) + 1), names)
        axes.set_xscale("log")  # milliseconds to tens of seconds on one axis
        axes.set_xlabel(f"{unit}, log scale (box: quartiles; whiskers: p1 to p99)")
        axes.set_title(f"{measured.module}: {unit}")
        figure.tight_layout()
        slug = measured.module.replace("bench.", "") + ("-" + _slug(unit) if len(by_unit) > 1 else "")
        path = folder / f"{slug}.png"
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower() or "values"


def write(
    results: Sequence[Measured],
    out: Path,
    *,
    command: str,
    plots: Path,
    load: tuple[float, float],
    database_url: str = "",
) -> list[Path]:
    """Write BENCHMARKS.md (at ``out``) and the plots (in ``plots``); returns the plots written."""
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (`make bench` runs `python -m bench`) on {started}"
        + (f", with {knobs}" if (knobs := _knobs()) else "")
        + ". Each module can be run alone with",
        "`python -m bench bench.<module>`; its section names the command. Medians and p99 (nearest rank) are",
        "over the samples counted; every ratio is between two figures of the same run.",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in machine().items()],
        f"- load average (1 min) at start {load[0]:.2f}, at end {load[1]:.2f}"
        + (
            " (other work was running: the figures are slower than on an idle machine)"
            if max(load) > 0.5
            else ""
        ),
        "",
        "## Versions",
        "",
        *[f"- {k} {v}" for k, v in versions(database_url).items()],
        "",
    ]
    written: list[Path] = []
    for measured in results:
        lines += [
            f"## {measured.module}",
            "",
            f"Command: `python -m bench {measured.module}` ({measured.seconds:.0f} s; load average "
            f"{measured.load[0]:.2f} at start, {measured.load[1]:.2f} at end)",
            "",
        ]
        if measured.figures:
            lines += [*figure_table(measured), ""]
        for path in plot(measured, plots):
            written.append(path)
            lines += [f"![{measured.module}]({path.relative_to(out.parent).as_posix()})", ""]
        if measured.lines:
            lines += ["```", *measured.lines, "```", ""]
    out.write_text("\n".join(lines), encoding="utf-8")
    return written


def _knobs() -> str:
    """The scale settings of this run (ALERTSVC_BENCH_*), database addresses left out."""
    found = sorted(
        f"{k}={v}"
        for k, v in os.environ.items()
        if k.startswith("ALERTSVC_BENCH_") and not k.endswith("_URL")
    )
    return " ".join(f"`{k}`" for k in found)


def git_head() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
