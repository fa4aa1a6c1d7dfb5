"""Accessibility checks with axe-core (from the npm registry: ``npm ci`` puts it in node_modules/),
injected into the page under test and run there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
SAME_ORIGIN_PATH = "/__axe-core-for-tests.js"


def violations(page: Page, *, same_origin: bool = False) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now (WCAG 2.x A and AA rules and best practices).

    axe-core goes in as an inline script; a page whose Content-Security-Policy allows only its own
    scripts (``same_origin``) gets it as a script of its own origin instead, served by the test.
    """
    if not AXE.exists():
        raise AssertionError(
            f"{AXE} is missing: run `make test` (it runs `npm ci`) or `npm ci` at the top level"
        )
    if same_origin:
        origin = "/".join(page.url.split("/")[:3])
        page.route(origin + SAME_ORIGIN_PATH, lambda route: route.fulfill(path=str(AXE)))
        page.add_script_tag(url=origin + SAME_ORIGIN_PATH)
    else:
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    found: list[dict[str, Any]] = result["violations"]
    return found


def describe(found: list[dict[str, Any]]) -> str:
    """One line per violation: impact, rule, what it asks and the elements that break it."""
    lines = []
    for violation in found:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}")
    return "\n".join(lines)


def assert_no_serious_violations(page: Page, what: str, *, same_origin: bool = False) -> list[dict[str, Any]]:
    """Fail with the list when axe finds a serious or critical violation; return the lesser ones."""
    found = violations(page, same_origin=same_origin)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core found serious or critical violations on {what}:\n{describe(blocking)}"
    return found
