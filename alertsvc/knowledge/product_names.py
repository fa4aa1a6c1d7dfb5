"""Product names taken apart: RxNorm-style names ("amlodipine 10 MG / valsartan 160 MG Oral Tablet
[Exforge]", packs in braces) into their ingredient parts, dose form and brand. Shared by the terminology and
the knowledge build, so both read names the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SPACES = re.compile(r"\s+")
QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00a0": " "})
_STRENGTH = re.compile(
    r"(?<![\w.])\d[\d.,]*(?:/\d[\d.,]*)?"
    r"(?:\s+[A-Z][A-Z0-9]*(?:/[A-Z0-9]+)*|\s*(?i:mg|mcg|ug|g|ml|iu|units?|meq|mmol)(?:/(?i:[a-z0-9]+))*|\s*%)"
    r"(?=\s|$)"
)
_BRACKET = re.compile(r"\s*\[([^\]]+)\]\s*$")
_PACK_ITEM = re.compile(r"^\s*\d+\s*\((.*)\)\s*$")

_DOSE_FORM_WORDS = frozenset(
    {
        "oral", "tablet", "capsule", "solution", "suspension", "injectable", "injection", "topical", "cream",
        "gel", "ointment", "lotion", "ophthalmic", "otic", "nasal", "spray", "inhaler", "inhalation",
        "powder", "granules", "chewable", "extended", "delayed", "release", "disintegrating", "film",
        "coated", "sublingual", "buccal", "rectal", "vaginal", "suppository", "transdermal", "system",
        "patch", "metered", "dose", "prefilled", "syringe", "auto-injector", "cartridge", "pen", "drops",
        "foam", "shampoo", "lozenge", "product", "pill", "liquid", "pack", "kit", "for", "reconstitution",
    }
)  # fmt: skip


@dataclass(frozen=True)
class ParsedName:
    """An RxNorm-style product name taken apart: ingredient parts, dose form and brand in brackets."""

    parts: tuple[str, ...]
    dose_form: str
    brand: str
    strengths: int


def parse_product_name(name: str) -> ParsedName:
    """Split a product name into its ingredient parts, dose form and brand.

    >>> parse_product_name("amlodipine 10 MG / valsartan 160 MG Oral Tablet [Exforge]")
    ParsedName(parts=('amlodipine', 'valsartan'), dose_form='Oral Tablet', brand='Exforge', strengths=2)
    >>> parse_product_name("1 ML epinephrine 1 MG/ML Injection").parts
    ('epinephrine',)
    """
    text = SPACES.sub(" ", name.translate(QUOTES)).strip()
    brand = ""
    match = _BRACKET.search(text)
    if match:
        brand = match.group(1).strip()
        text = text[: match.start()].strip()
    if text.startswith("{") and "}" in text:
        return _parse_pack(text, brand)
    strengths = list(_STRENGTH.finditer(text))
    while (
        strengths and strengths[0].start() == 0
    ):  # a quantity first: "1 ML ...", "24 HR ...", "120 ACTUAT ..."
        text = text[strengths[0].end() :].strip()
        strengths = list(_STRENGTH.finditer(text))
    if strengths:
        body, dose_form = text[: strengths[-1].end()], text[strengths[-1].end() :].strip()
    else:
        words = text.split(" ")
        cut = len(words)
        while cut > 1 and words[cut - 1].lower() in _DOSE_FORM_WORDS:
            cut -= 1
        body, dose_form = " ".join(words[:cut]), " ".join(words[cut:])
    parts = tuple(p for p in (_STRENGTH.sub("", part).strip(" ,") for part in body.split(" / ")) if p)
    return ParsedName(parts, dose_form, brand, len(strengths))


def _parse_pack(text: str, brand: str) -> ParsedName:
    inner, _, tail = text[1:].partition("}")
    parts: list[str] = []
    forms: list[str] = []
    for item in _split_top_level(inner):
        match = _PACK_ITEM.match(item)
        parsed = parse_product_name(match.group(1) if match else item)
        parts.extend(p for p in parsed.parts if p not in parts)
        if parsed.dose_form and parsed.parts[:1] != ("inert ingredients",):
            forms.append(parsed.dose_form)
    dose_form = forms[0] if forms else tail.strip()
    return ParsedName(tuple(parts), dose_form, brand, len(parts))


def _split_top_level(text: str) -> list[str]:
    """Split a pack's contents on " / " outside parentheses."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and text.startswith(" / ", i):
            items.append(text[start:i])
            start = i + 3
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]
