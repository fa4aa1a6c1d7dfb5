"""Save and load the whole knowledge base as the small text files in ``data/``.

Tables are tab-separated with a header line (ingredients, salts, products, brands, names, ndc, and
display_names: the name a ward's locale picks, as locale, RxCUI, name; unknown_drugs: drug names the
sources write that no ingredient maps, with the source); classes and rules are JSON lines;
sources are one JSON file; ``manifest.json`` names the build date and the SHA-256 of every file. ``load``
recomputes the hashes, so ``KnowledgeBase.version`` ("kb-<build date>-<12 hex>") names exactly the content
that was read, and a file changed by hand is refused (data/ is generated: rebuild it). Plain text keeps
the committed files reviewable and loads in well under half a second.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast, get_args

from alertsvc.errors import KnowledgeBuildError
from alertsvc.knowledge.model import (
    Brand,
    ClassKind,
    DrugClass,
    Ingredient,
    KnowledgeBase,
    Product,
    Route,
    Rule,
    Severity,
    Source,
)

DEFAULT_DATA_DIR: Path = Path(__file__).resolve().parent.parent.parent / "data"
FORMAT = 1
MANIFEST = "manifest.json"
HEADERS: dict[str, tuple[str, ...]] = {
    "ingredients.tsv": ("rxcui", "name"),
    "salts.tsv": ("pin_rxcui", "in_rxcui"),
    "products.tsv": ("rxcui", "tty", "route", "dose_form", "ingredients", "name"),
    "brands.tsv": ("rxcui", "ingredients", "name"),
    "names.tsv": ("name", "ingredients"),
    "ndc.tsv": ("ndc", "product_rxcui"),
    "display_names.tsv": ("locale", "rxcui", "name"),
    "unknown_drugs.tsv": ("name", "source"),
}
JSON_FILES = ("sources.json", "classes.jsonl", "rules.jsonl")
FILES = (*HEADERS, *JSON_FILES)
_ROUTES = frozenset(get_args(Route))
_SEVERITIES = frozenset(get_args(Severity))
_CLASS_KINDS = frozenset(get_args(ClassKind))


def version_of(built: str, hashes: dict[str, str]) -> str:
    """The knowledge version: build date and a short hash over every file's hash."""
    digest = hashlib.sha256("".join(f"{name}\0{hashes[name]}\n" for name in sorted(hashes)).encode())
    return f"kb-{built}-{digest.hexdigest()[:12]}"


# save ---------------------------------------------------------------------------------------------------
def save(kb: KnowledgeBase, data_dir: Path) -> None:
    """Write ``kb`` into ``data_dir`` (created if needed), with a manifest of hashes and the build date."""
    data_dir.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Iterable[tuple[str, ...]]] = {
        "ingredients.tsv": ((i.rxcui, i.name) for i in _by_id(kb.ingredients)),
        "salts.tsv": sorted(kb.salts.items(), key=lambda kv: int(kv[0])),
        "products.tsv": (
            (p.rxcui, p.tty, p.route, p.dose_form, _ids(p.ingredients), p.name) for p in _by_id(kb.products)
        ),
        "brands.tsv": ((b.rxcui, _ids(b.ingredients), b.name) for b in _by_id(kb.brands)),
        "names.tsv": ((name, _ids(kb.names[name])) for name in sorted(kb.names)),
        "ndc.tsv": sorted(kb.ndc.items()),
        "display_names.tsv": (
            (locale, rxcui, names[rxcui])
            for locale, names in sorted(kb.display_names.items())
            for rxcui in sorted(names, key=lambda r: (len(r), r))
        ),
        "unknown_drugs.tsv": sorted(kb.unknown_drugs.items()),
    }
    contents = {name: _tsv(name, HEADERS[name], rows) for name, rows in tables.items()}
    contents["sources.json"] = (
        json.dumps([asdict(kb.sources[key]) for key in sorted(kb.sources)], indent=1, ensure_ascii=False)
        + "\n"
    )
    contents["classes.jsonl"] = "".join(
        _json_line({**asdict(c), "members": sorted(c.members, key=int)}) for c in _by_key(kb.classes)
    )
    contents["rules.jsonl"] = "".join(
        _json_line({**asdict(r), "sources": list(r.sources), "routes": sorted(r.routes)}) for r in kb.rules
    )
    hashes = {}
    for name, text in contents.items():
        data = text.encode("utf-8")
        (data_dir / name).write_bytes(data)
        hashes[name] = hashlib.sha256(data).hexdigest()
    manifest = {"format": FORMAT, "built": kb.built, "files": hashes}
    (data_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _ids(rxcuis: Iterable[str]) -> str:
    return " ".join(rxcuis)


def _by_id(table: dict[str, Any]) -> list[Any]:
    return [table[key] for key in sorted(table, key=lambda k: (len(k), k))]


def _by_key(table: dict[str, Any]) -> list[Any]:
    return [table[key] for key in sorted(table)]


def _tsv(name: str, header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    lines = ["\t".join(header)]
    for row in rows:
        if any("\t" in field or "\n" in field for field in row):
            raise KnowledgeBuildError(f"{name}: a field holds a tab or newline: {row!r}")
        lines.append("\t".join(row))
    return "\n".join(lines) + "\n"


def _json_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


# load ---------------------------------------------------------------------------------------------------
def load(data_dir: Path) -> KnowledgeBase:
    """Read ``data_dir``; KnowledgeBuildError naming the file when one is missing, changed or malformed."""
    manifest_path = data_dir / MANIFEST
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise KnowledgeBuildError(
            f"{manifest_path}: not a format {FORMAT} manifest; run `alertsvc knowledge build`"
        )
    built, expected = manifest.get("built"), manifest.get("files")
    if not isinstance(built, str) or not isinstance(expected, dict):
        raise KnowledgeBuildError(f"{manifest_path}: 'built' or 'files' missing")
    texts, hashes = {}, {}
    for name in FILES:
        path = data_dir / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KnowledgeBuildError(f"{path}: cannot read ({exc.strerror or exc})") from exc
        hashes[name] = hashlib.sha256(data).hexdigest()
        if expected.get(name) != hashes[name]:
            raise KnowledgeBuildError(
                f"{path}: content differs from {MANIFEST}; rebuild with `alertsvc knowledge build`"
            )
        try:
            texts[name] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KnowledgeBuildError(f"{path}: not UTF-8 ({exc})") from exc
    try:
        return _parse(data_dir, built, texts, version_of(built, hashes))
    except (KeyError, TypeError, ValueError) as exc:
        raise KnowledgeBuildError(f"{data_dir}: malformed knowledge file ({exc})") from exc


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KnowledgeBuildError(
            f"{path}: cannot read ({exc.strerror or exc}); run `alertsvc knowledge build`"
        ) from exc
    except ValueError as exc:
        raise KnowledgeBuildError(f"{path}: malformed JSON ({exc})") from exc


def _rows(data_dir: Path, name: str, text: str) -> Iterator[list[str]]:
    lines = text.split("\n")
    header = tuple(HEADERS[name])
    if tuple(lines[0].split("\t")) != header:
        raise KnowledgeBuildError(f"{data_dir / name}: header is not {' '.join(header)}")
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise KnowledgeBuildError(
                f"{data_dir / name}:{number}: {len(fields)} fields, expected {len(header)}"
            )
        yield fields


def _check(ok: bool, data_dir: Path, name: str, what: str) -> None:
    if not ok:
        raise KnowledgeBuildError(f"{data_dir / name}: {what}")


def _parse(data_dir: Path, built: str, texts: dict[str, str], version: str) -> KnowledgeBase:
    rows: Callable[[str], Iterator[list[str]]] = lambda name: _rows(data_dir, name, texts[name])  # noqa: E731
    ingredients = {r: Ingredient(r, n) for r, n in rows("ingredients.tsv")}
    products: dict[str, Product] = {}
    for rxcui, tty, route, dose_form, members, name in rows("products.tsv"):
        _check(route in _ROUTES, data_dir, "products.tsv", f"product {rxcui} has unknown route {route!r}")
        products[rxcui] = Product(rxcui, name, tty, tuple(members.split()), cast(Route, route), dose_form)
    brands = {r: Brand(r, n, tuple(m.split())) for r, m, n in rows("brands.tsv")}
    names = {n: tuple(m.split()) for n, m in rows("names.tsv")}
    display_names: dict[str, dict[str, str]] = {}
    for locale, rxcui, name in rows("display_names.tsv"):
        display_names.setdefault(locale, {})[rxcui] = name
    sources = {s["key"]: Source(**s) for s in json.loads(texts["sources.json"])}
    classes: dict[str, DrugClass] = {}
    for line in texts["classes.jsonl"].splitlines():
        c = json.loads(line)
        _check(
            c["kind"] in _CLASS_KINDS, data_dir, "classes.jsonl", f"class {c['id']} has kind {c['kind']!r}"
        )
        classes[c["id"]] = DrugClass(c["id"], c["name"], c["kind"], c["source"], frozenset(c["members"]))
    rules = []
    for line in texts["rules.jsonl"].splitlines():
        r = json.loads(line)
        _check(
            r["severity"] in _SEVERITIES,
            data_dir,
            "rules.jsonl",
            f"rule {r['id']} has severity {r['severity']!r}",
        )
        rules.append(
            Rule(
                **{**r, "sources": tuple(r["sources"]), "routes": frozenset(r["routes"])},
            )
        )
    return KnowledgeBase(
        version=version,
        built=built,
        sources=sources,
        ingredients=ingredients,
        salts=dict((p, i) for p, i in rows("salts.tsv")),
        products=products,
        brands=brands,
        names=names,
        ndc=dict((n, p) for n, p in rows("ndc.tsv")),
        classes=classes,
        rules=tuple(rules),
        display_names=display_names,
        unknown_drugs=dict((n, s) for n, s in rows("unknown_drugs.tsv")),
    )
