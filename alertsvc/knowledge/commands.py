"""Command line of the knowledge area: ``alertsvc knowledge build`` and ``alertsvc normalize``.

Thin adapters: they read the clock and the environment (the only place in this area that does), call the
pure build or the normaliser, and print. Errors of the one tree become one line on stderr (``alertsvc.cli``).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import click

from alertsvc.config import Settings
from alertsvc.knowledge import kb as kb_files
from alertsvc.knowledge.build import build, summary
from alertsvc.knowledge.terminology import Normalizer


@click.group()
def knowledge() -> None:
    """Build and inspect the offline drug knowledge in data/."""


@knowledge.command("build")
@click.option(
    "--sources",
    "sources",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of public-source files (rxnorm/, cpic/, vsac/, pddi_cds/, ansm/, onc/, ndfrt/, ...).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the knowledge files and SOURCES.md (default: the repository's data/).",
)
def build_command(sources: Path, out: Path | None) -> None:
    """Build data/ and data/SOURCES.md from the public-source files in SOURCES."""
    report = build(sources, out or kb_files.DEFAULT_DATA_DIR, today=date.today())
    click.echo(summary(report))


@click.command()
@click.argument("term")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {term, ingredients, unresolved[, note]}.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Knowledge folder (default: ALERTSVC_DATA_DIR or the repository's data/).",
)
def normalize(term: str, as_json: bool, data_dir: Path | None) -> None:
    """Resolve TERM (name, brand, RxCUI or NDC) to RxNorm ingredients; exit 1 when it does not resolve."""
    settings = Settings.from_env(os.environ, data_dir=data_dir)
    kb = kb_files.load(settings.data_dir)
    online = None
    if settings.rxnav_url.strip():  # RxNav is asked only for what the offline knowledge cannot resolve
        from alertsvc.knowledge.rxnorm import client_from_settings

        online = client_from_settings(settings)
    if online is None:
        resolution = Normalizer(kb).resolve(term)
    else:
        with online:
            resolution = Normalizer(kb, online).resolve(term)
    ingredients = [{"rxcui": i.rxcui, "name": i.name} for i in resolution.ingredients]
    if as_json:
        payload = {"term": term, "ingredients": ingredients, "unresolved": resolution.unresolved}
        if resolution.note:  # how the term was read, when the ward must see it ("read 'x' as y")
            payload["note"] = resolution.note
        click.echo(json.dumps(payload, ensure_ascii=False))
    elif resolution.unresolved is None:
        for item in ingredients:
            click.echo(f"{item['rxcui']}\t{item['name']}")
        if resolution.product is not None:
            click.echo(
                f"# product {resolution.product.rxcui}: {resolution.product.name} ({resolution.route})"
            )
        if resolution.note:
            click.echo(f"# {resolution.note}")
    else:
        click.echo(f"unresolved: {resolution.unresolved}")
    if resolution.unresolved is not None:
        raise SystemExit(1)
