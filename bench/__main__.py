"""Run every benchmark module listed in BENCHMARKS and print its figures."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = [
    "bench.ledger_bench",
    "bench.knowledge_bench",
    "bench.service_bench",
    "bench.trust_bench",
    "bench.write_bench",
    "bench.bounds_bench",
    "bench.observation_bench",
    "bench.watch_bench",
]


def main() -> int:
    for name in sys.argv[1:] or BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"== {name}")
        for line in module.run():
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
