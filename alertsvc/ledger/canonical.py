"""Canonical JSON (RFC 8785 JCS), strict JSON parsing, base64url and SHA-256 helpers.

Everything the ledger signs is the canonical JSON of a value: the same value always gives the same
bytes, whichever program wrote it. Parsing is strict the other way round: duplicate keys, NaN or
Infinity, numbers too large for a double, invalid UTF-8, lone surrogates and trailing data are refused,
because two readers that disagree on what a signed document says (``{"role":"nurse","role":"admin"}``)
would defeat the signature. Verify signatures over the exact bytes received, never over a re-encoding.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import math
import re
from typing import Any, cast

import rfc8785

from alertsvc.errors import InputError

__all__ = ["b64url", "b64url_bytes", "canonical", "loads", "sha256_hex", "unb64url"]

_B64URL_TEXT = re.compile(r"[A-Za-z0-9_-]*")
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_UNUSED_BITS = {2: 0b1111, 3: 0b11}
"""By the length of the text modulo 4: which low bits of the last character no byte uses."""
_TO_STANDARD_ALPHABET = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE_ALPHABET = bytes.maketrans(b"+/", b"-_")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_SAFE_INT = 2**53 - 1
_MAX_PLAIN_DEPTH = 64
_JSON_TYPES = frozenset({str, bool, type(None), int, dict, list, tuple})
_SCALARS = frozenset({str, bool, type(None)})
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_FAST_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
"""Stateless and made once: ``json.dumps`` with these arguments builds a new encoder per call."""
_NON_FINITE = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}


def canonical(value: object) -> bytes:
    """Return the RFC 8785 canonical JSON bytes of ``value``.

    ``value`` is made of dicts with string keys, lists, tuples, strings, booleans, None, integers in
    the range a double holds exactly (|n| <= 2^53 - 1) and finite floats. Anything else raises
    InputError naming the problem.

    >>> canonical({"b": 1.0, "a": [1e-7, "€"]})
    b'{"a":[1e-7,"\\xe2\\x82\\xac"],"b":1}'

    Values without floats whose keys lie in the Basic Multilingual Plane (all our entries, heads and
    alerts) take a fast path through the C JSON encoder: for them its output is exactly RFC 8785's (keys
    sorted by code point equal UTF-16 order; the same escapes). Everything else goes through ``rfc8785``.
    """
    if _plain(value):
        try:
            return _FAST_ENCODER.encode(value).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 say what is wrong
    try:
        return bytes(rfc8785.dumps(cast(Any, value)))
    except rfc8785.IntegerDomainError as exc:
        raise InputError(
            f"cannot write canonical JSON: {exc.args[0].split()[0]} is an integer beyond ±(2^53 - 1), "
            "which JSON numbers cannot hold exactly"
        ) from exc
    except rfc8785.FloatDomainError as exc:
        raise InputError(
            f"cannot write canonical JSON: the float {exc.args[0].split()[0]} is not a finite number"
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"cannot write canonical JSON: {exc}") from exc
    except RecursionError as exc:
        raise InputError("cannot write canonical JSON: the value is nested too deeply") from exc


def _plain(value: object) -> bool:
    """Whether ``value`` needs nothing of RFC 8785 beyond sorted keys and JSON's own escapes.

    Walks the value one nesting level at a time (no recursion, no call per item); anything deeper than
    64 levels (or a cycle) goes the slow way, whose errors say what is wrong.
    """
    level: list[Any] = [value]
    for _ in range(_MAX_PLAIN_DEPTH + 1):
        below: list[Any] = []
        for item in level:
            kind: type | None = type(item)
            if kind not in _JSON_TYPES:
                kind = _json_base(item)  # a subclass (a StrEnum, an OrderedDict) is read as its base
            if kind in _SCALARS:
                continue
            if kind is dict:
                if not _bmp_keys(item):
                    return False
                below += item.values()
            elif kind is int:
                if not -_SAFE_INT <= item <= _SAFE_INT:
                    return False
            elif kind is list or kind is tuple:
                below += item
            else:
                return False  # floats and anything else: rfc8785 decides
        if not below:
            return True
        level = below
    return False


def _bmp_keys(mapping: dict[Any, Any]) -> bool:
    """Whether every key is a string within the Basic Multilingual Plane (so code-point order is
    UTF-16 order)."""
    try:
        if all(map(str.isascii, mapping)):
            return True
    except TypeError:  # a key that is not a string
        return False
    return all(max(key, default="") < "\U00010000" for key in mapping)


def _json_base(item: object) -> type | None:
    """The JSON type a subclass instance is written as, or None (floats and the rest)."""
    for base in (str, bool, int, dict, list, tuple):
        if isinstance(item, base):
            return base
    return None


class _Refused(Exception):
    """Raised inside json's hooks; loads() turns it into an InputError naming ``what``."""


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: find the first repeated key to name it
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {key!r} in an object")
            seen.add(key)
    return result


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{_NON_FINITE.get(name, name)} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Refused(f"the number {text} is too large for a double")
    return number


def _int_or_exact_double(text: str) -> int | float:
    """Read integers beyond ±(2^53 - 1) as doubles, the way JCS writes large doubles.

    JCS writes the double 1e20 as ``100000000000000000000``; reading that back as a Python int would
    make canonical() refuse it. Such a literal is accepted as a float only when it is exactly the
    canonical text of that float; otherwise (``9007199254740993``) a double would silently change it.
    """
    number = int(text)
    if -_SAFE_INT <= number <= _SAFE_INT:
        return number
    try:
        as_float = float(number)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float):
        raise _Refused(f"the integer {text[:40]}... is too large for a double")
    as_double = rfc8785.dumps(as_float).decode("ascii")
    if as_double != text:
        raise _Refused(f"the integer {text} is beyond ±(2^53 - 1); as a JSON number it reads as {as_double}")
    return as_float


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates (``"\\ud800"``): they are not Unicode text and cannot be re-encoded."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _Refused(f"string {item[:40]!r} contains a lone surrogate (\\u escape)") from exc
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs_without_duplicates,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
    parse_int=_int_or_exact_double,
)
"""Made once (``json.loads`` with hooks builds a decoder and its scanner per call); keeps no state."""


def _may_hold_lone_surrogate(text: str, *, decoded_from_utf8: bool) -> bool:
    """Whether parsing ``text`` can have produced a lone surrogate, so ``_check_strings`` must look.

    Only a ``\\uD800``-``\\uDFFF`` escape can make one, or a surrogate already in a str handed to
    ``loads`` (UTF-8 decoding refuses them). A false alarm (an escaped backslash before ``ud800``)
    only costs the full walk.
    """
    if "\\u" in text and _LONE_SURROGATE_ESCAPE.search(text):
        return True
    if decoded_from_utf8 or text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def loads(data: bytes | str, *, what: str) -> Any:
    """Parse strict JSON, raising InputError(f"{what}: <reason>") for anything ambiguous.

    Refused: invalid UTF-8, a byte-order mark, duplicate object keys, NaN/Infinity, numbers that
    overflow a double, integers a double cannot hold exactly, lone surrogates, control characters in
    strings, and trailing data. Integers beyond ±(2^53 - 1) that a double holds exactly come back as
    floats, so ``canonical(loads(canonical(x))) == canonical(x)`` for every canonical value.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{what}: invalid UTF-8 at byte {exc.start}") from exc
        decoded_from_utf8 = True
    elif isinstance(data, str):
        text, decoded_from_utf8 = data, False
    else:
        raise InputError(f"{what}: expected JSON text, got {type(data).__name__}")
    if text.startswith("\ufeff"):
        raise InputError(f"{what}: starts with a byte-order mark, which JSON does not allow")
    try:
        value = _STRICT_DECODER.decode(text)
        if _may_hold_lone_surrogate(text, decoded_from_utf8=decoded_from_utf8):
            _check_strings(value)
    except _Refused as exc:
        raise InputError(f"{what}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    except RecursionError as exc:
        raise InputError(f"{what}: JSON nested too deeply") from exc
    except ValueError as exc:
        # Python refuses to convert integer literals of more than 4300 digits.
        raise InputError(f"{what}: a number has too many digits ({str(exc).split(';')[0]})") from exc
    return value


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5, as used by JOSE)."""
    return b64url_bytes(data).decode("ascii")


def b64url_bytes(data: bytes) -> bytes:
    """``b64url(data)`` as ASCII bytes (for a JWS, which is assembled as bytes and signed as such)."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE_ALPHABET).rstrip(b"=")


def unb64url(text: str, *, what: str) -> bytes:
    """Decode unpadded base64url strictly: only ``A-Z a-z 0-9 - _``, no padding, canonical bits.

    Canonical means the unused low bits of the last character are zero, so each byte string has
    exactly one spelling and a re-encoding gives back ``text``.
    """
    if isinstance(text, str) and text.isascii() and not ("+" in text or "/" in text or "=" in text):
        remainder = len(text) % 4
        if remainder != 1:
            standard = text.encode("ascii").translate(_TO_STANDARD_ALPHABET) + _PADDING[remainder]
            try:
                data = binascii.a2b_base64(standard, strict_mode=True)
            except binascii.Error:
                pass  # a character outside the alphabet: the checks below name it
            else:
                if not (remainder and _B64URL_ALPHABET.index(text[-1]) & _UNUSED_BITS[remainder]):
                    return data
    raise _not_base64url(text, what=what)


def _not_base64url(text: object, *, what: str) -> InputError:
    """The error saying why ``text`` is not canonical unpadded base64url."""
    if not isinstance(text, str):
        return InputError(f"{what}: expected base64url text, got {type(text).__name__}")
    if not _B64URL_TEXT.fullmatch(text):
        bad = next(ch for ch in text if not _B64URL_TEXT.fullmatch(ch))
        return InputError(f"{what}: {bad!r} is not a base64url character (no padding, no + or /)")
    if len(text) % 4 == 1:
        return InputError(f"{what}: {len(text)} base64url characters cannot encode whole bytes")
    return InputError(f"{what}: non-canonical base64url (unused bits of the last character are set)")


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()
