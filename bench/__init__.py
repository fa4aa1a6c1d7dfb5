"""Benchmarks (`make bench`): each module has a ``run() -> list[str]`` printing its figures."""
