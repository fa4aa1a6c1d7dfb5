"""`make run`: a short walk through what alertsvc can do so far."""

from __future__ import annotations

from alertsvc import __version__


def main() -> int:
    print(f"alertsvc {__version__}: no demo yet; see `alertsvc --help`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
