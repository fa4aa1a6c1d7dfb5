"""`python -m alertsvc` runs the command line (used by tests that need a separate process)."""

from alertsvc.cli import main

main()
