"""Run the benchmark modules and write BENCHMARKS.md (at the repository root) and its plots (docs/bench/).

    python -m bench                      every module in BENCHMARKS; writes BENCHMARKS.md and docs/bench/*.png
    python -m bench bench.x [bench.y]    only those modules; prints, writes nothing (unless --out)
    python -m bench --out FILE [...]     writes FILE, and its plots in FILE's folder/docs/bench/

A module offering ``measure()`` returns figures (``bench.report.Measured``); one offering only ``run()``
returns lines, which the report includes verbatim. The 1-minute load average is recorded around each
module and the whole run: the machine may be shared.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path
from types import ModuleType

from bench import report

BENCHMARKS = [
    "bench.ledger_bench",
    "bench.knowledge_bench",
    "bench.service_bench",
    "bench.trust_bench",
    "bench.write_bench",
    "bench.bounds_bench",
    "bench.observation_bench",
    "bench.watch_bench",
    "bench.fanout_bench",  # on main (PostgreSQL); skipped where the module is missing
    "bench.hospital_bench",
]
ROOT = Path(__file__).resolve().parent.parent


def measure(name: str, module: ModuleType) -> report.Measured:
    """Run one module, printing its lines as they come (or at its end, for ``measure()``)."""
    print(f"== {name}", flush=True)
    load, began = report.load_average(), time.perf_counter()
    if hasattr(module, "measure"):
        measured: report.Measured = module.measure()
        for line in measured.lines:
            print(f"  {line}", flush=True)
    else:
        measured = report.Measured(name)
        for line in module.run():
            print(f"  {line}", flush=True)
            measured.lines.append(line)
    measured.module = name
    measured.load = (load, report.load_average())
    measured.seconds = time.perf_counter() - began
    return measured


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out: Path | None = None
    if "--out" in args:
        at = args.index("--out")
        out = Path(args[at + 1]).resolve()
        del args[at : at + 2]
    names = args or BENCHMARKS
    if not args and out is None:
        out = ROOT / "BENCHMARKS.md"
    start_load = report.load_average()
    results = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        results.append(measure(name, module))
    if out is not None:
        command = "python -m bench" + ("" if not args else " " + " ".join(args))
        plots = report.write(
            results,
            out,
            command=command,
            plots=out.parent / "docs" / "bench",
            load=(start_load, report.load_average()),
            database_url=os.environ.get("ALERTSVC_BENCH_DATABASE_URL", ""),
        )
        print(f"wrote {out}" + "".join(f"\nwrote {p}" for p in plots))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
