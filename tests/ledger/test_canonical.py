"""Canonical JSON (RFC 8785), strict parsing, base64url and SHA-256."""

from __future__ import annotations

import base64
import collections
import enum
import re
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from alertsvc.errors import InputError
from alertsvc.ledger.canonical import b64url, canonical, loads, sha256_hex, unb64url

# RFC 8785 section 3.2.4 (the whole transformation), as in the reference implementation's
# testdata/input/values.json and testdata/output/values.json (cyberphone/json-canonicalization).
RFC8785_INPUT = (
    "{\n"
    '  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n'
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
    '  "literals": [null, true, false]\n'
    "}"
)
RFC8785_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
).encode()

# RFC 8785 Appendix B: IEEE 754 binary64 bit patterns and their canonical text.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


def test_rfc8785_example_transformation() -> None:
    assert canonical(loads(RFC8785_INPUT, what="example")) == RFC8785_OUTPUT


@pytest.mark.parametrize(("bits", "expected"), [pytest.param(b, e, id=b) for b, e in APPENDIX_B])
def test_rfc8785_appendix_b_numbers(bits: str, expected: str) -> None:
    assert canonical(_double(bits)) == expected.encode()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1.0, b"1", id="1.0"),
        pytest.param(1e-7, b"1e-7", id="1e-7"),
        pytest.param(-0.0, b"0", id="minus-zero"),
        pytest.param(100.0, b"100", id="100.0"),
        pytest.param(1e21, b"1e+21", id="1e21"),
        pytest.param(2**53 - 1, b"9007199254740991", id="max-safe-int"),
        pytest.param(-(2**53) + 1, b"-9007199254740991", id="min-safe-int"),
        pytest.param(True, b"true", id="true"),
        pytest.param(None, b"null", id="null"),
        pytest.param((1, "a"), b'[1,"a"]', id="tuple"),
        pytest.param({}, b"{}", id="empty-object"),
    ],
)
def test_scalars(value: object, expected: bytes) -> None:
    assert canonical(value) == expected


def test_sorting_by_utf16_code_units_rfc8785_section_3_2_3() -> None:
    # The RFC's own sorting example: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16,
    # although it comes after it by code point.
    names = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert canonical(names) == expected
    assert sorted(names) != [
        "\r",
        "1",
        "\u0080",
        "\u00f6",
        "\u20ac",
        "\U0001f600",
        "\ufb33",
    ], "code-point order would differ"


def test_reference_weird_and_french_examples() -> None:
    # cyberphone/json-canonicalization testdata weird.json and french.json.
    weird = loads(
        '{"\\u20ac":"Euro Sign","1":"One","\\u0080":"Control\\u007f","\\ud83d\\ude02":"Smiley",'
        '"\\u00f6":"Latin Small Letter O With Diaeresis","\\ufb33":"Hebrew Letter Dalet With Dagesh",'
        '"</script>":"Browser Challenge"}',
        what="weird.json",
    )
    assert (
        canonical(weird)
        == (
            '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
            '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\U0001f602":"Smiley",'
            '"\ufb33":"Hebrew Letter Dalet With Dagesh"}'
        ).encode()
    )
    french = {"sin": "ingnore locale", "p\u00eache": "c", "p\u00e9ch\u00e9": "b", "peach": "a"}
    assert (
        canonical(french)
        == '{"peach":"a","p\u00e9ch\u00e9":"b","p\u00eache":"c","sin":"ingnore locale"}'.encode()
    )


def test_canonical_differs_from_sorted_json_dumps() -> None:
    import json

    value = {"b": [1.0, 1e-7], "a": "x"}
    assert canonical(value) != json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param(2**53, "9007199254740992", id="int-2^53"),
        pytest.param(-(2**53), "-9007199254740992", id="int-minus-2^53"),
        pytest.param(10**30, "1000000000000000000000000000000", id="int-10^30"),
        pytest.param(float("nan"), "nan", id="nan"),
        pytest.param(float("inf"), "inf", id="inf"),
        pytest.param({1: "a"}, "keys must be strings", id="int-key"),
        pytest.param({"a"}, "unsupported type", id="set"),
        pytest.param(b"bytes", "unsupported type", id="bytes"),
        pytest.param("\ud800", "non-UTF-8", id="lone-surrogate"),
    ],
)
def test_canonical_refuses_what_json_cannot_hold(value: object, fragment: str) -> None:
    with pytest.raises(InputError, match="cannot write canonical JSON") as info:
        canonical({"field": [value]})
    assert fragment in str(info.value)


def test_integer_beyond_2_53_message_says_why() -> None:
    with pytest.raises(InputError, match=r"integer beyond ±\(2\^53 - 1\)"):
        canonical(2**53)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b'{"role":"nurse","role":"admin"}', "duplicate key 'role'", id="duplicate-key"),
        pytest.param(b'{"a":{"b":1,"b":1}}', "duplicate key 'b'", id="nested-duplicate"),
        pytest.param(b'[{"x":1},{"x":2,"x":2}]', "duplicate key 'x'", id="duplicate-in-array"),
        pytest.param(b"NaN", "NaN is not a JSON number", id="nan"),
        pytest.param(b'{"dose": Infinity}', "Infinity is not a JSON number", id="infinity"),
        pytest.param(b"[-Infinity]", "-Infinity is not a JSON number", id="minus-infinity"),
        pytest.param(b"[1e400]", "1e400 is too large", id="overflowing-float"),
        pytest.param(b'{"drug":"warf\xe4rin"}', "invalid UTF-8 at byte 13", id="latin-1-byte"),
        pytest.param(b'"\xed\xa0\x80"', "invalid UTF-8 at byte 1", id="utf8-encoded-surrogate"),
        pytest.param(b'{"a":1} {"b":2}', "Extra data at line 1, column 9", id="trailing-object"),
        pytest.param(b'{"a":1}x', "Extra data at line 1, column 8", id="trailing-garbage"),
        pytest.param(b'{"a":1,\n "b":}', "line 2, column 6", id="syntax-error-line-column"),
        pytest.param(b"\xef\xbb\xbf{}", "byte-order mark", id="bom"),
        pytest.param(b'["\\ud800"]', "lone surrogate", id="escaped-lone-surrogate"),
        pytest.param(b'{"\\udc00":1}', "lone surrogate", id="lone-surrogate-key"),
        pytest.param(b'"tab\there"', "Invalid control character", id="raw-control-character"),
        pytest.param(b"", "Expecting value at line 1, column 1", id="empty"),
        pytest.param(b"1" * 5000, "too many digits", id="huge-integer-literal"),
        pytest.param(b"[9007199254740993]", "reads as 9007199254740992", id="int-2^53+1"),
        pytest.param(b"[1000000000000000000000]", "reads as 1e+21", id="int-10^21"),
        pytest.param(b"[" + b"9" * 400 + b"]", "too large for a double", id="int-beyond-double"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "nested too deeply", id="deep-nesting"),
    ],
)
def test_loads_refuses_with_what_named(data: bytes, reason: str) -> None:
    with pytest.raises(InputError) as info:
        loads(data, what="grant.json")
    message = str(info.value)
    assert message.startswith("grant.json: ")
    assert reason in message


def test_loads_accepts_str_and_bytes_alike() -> None:
    text = '{"drug": "warfarin", "dose_mg": 5, "held": false, "note": null, "ratio": 0.5}'
    assert loads(text, what="t") == loads(text.encode(), what="b")
    assert loads(text, what="t") == {
        "drug": "warfarin",
        "dose_mg": 5,
        "held": False,
        "note": None,
        "ratio": 0.5,
    }


def test_large_integers_a_double_holds_read_back_as_doubles() -> None:
    # JCS writes the double 1e20 as 100000000000000000000; reading it back must not turn it into an
    # integer that canonical() then refuses.
    assert canonical(1e20) == b"100000000000000000000"
    value = loads(b"[100000000000000000000, 9007199254740992, 9007199254740991]", what="numbers")
    assert value == [1e20, 2.0**53, 2**53 - 1]
    assert [type(v) for v in value] == [float, float, int]
    assert canonical(value) == b"[100000000000000000000,9007199254740992,9007199254740991]"
    # The double nearest 45467432024131928 is written with the shortest digits that round-trip.
    assert loads(canonical(4.546743202413193e16), what="n") == 4.546743202413193e16


def test_loads_refuses_other_types() -> None:
    with pytest.raises(InputError, match=r"^entry: expected JSON text, got int$"):
        loads(5, what="entry")  # type: ignore[arg-type]


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_round_trip(value: Any) -> None:
    encoded = canonical(value)
    decoded = loads(encoded, what="round trip")
    assert decoded == value
    assert canonical(decoded) == encoded


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.integers(-5, 5), max_size=8))
def test_key_order_does_not_matter(mapping: dict[str, int]) -> None:
    reversed_mapping = dict(reversed(list(mapping.items())))
    assert canonical(mapping) == canonical(reversed_mapping)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=80))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert unb64url(text, what="seed") == data


def test_b64url_known_values() -> None:
    # RFC 4648 section 10 test vectors, without padding.
    assert [b64url(x) for x in (b"", b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar")] == [
        "",
        "Zg",
        "Zm8",
        "Zm9v",
        "Zm9vYg",
        "Zm9vYmE",
        "Zm9vYmFy",
    ]
    assert b64url(b"\xfb\xff") == "-_8"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("Zg==", "'=' is not a base64url character", id="padding"),
        pytest.param("+_8", "'+' is not a base64url character", id="plus"),
        pytest.param("-/8", "'/' is not a base64url character", id="slash"),
        pytest.param("Zm9 v", "' ' is not a base64url character", id="space"),
        pytest.param("Zm9v\n", "'\\n' is not a base64url character", id="newline"),
        pytest.param("Zm9vY", "5 base64url characters", id="impossible-length"),
        pytest.param("Zh", "non-canonical", id="non-canonical-bits"),
        pytest.param("Zm9", "non-canonical", id="non-canonical-two-bytes"),
    ],
)
def test_unb64url_is_strict(text: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        unb64url(text, what="signature")
    assert str(info.value).startswith("signature: ")
    assert reason in str(info.value)


def test_sha256_hex_known_answer() -> None:
    # FIPS 180-2 appendix B.1.
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


_JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text()
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_fast_path_writes_exactly_what_rfc8785_writes(value: object) -> None:
    try:
        expected = bytes(rfc8785.dumps(value))
    except rfc8785.CanonicalizationError:
        with pytest.raises(InputError):
            canonical(value)
        return
    assert canonical(value) == expected


def test_subclasses_are_written_as_their_base_types_and_cycles_are_refused() -> None:
    class Severity(enum.StrEnum):
        MAJOR = "major"

    class Count(enum.IntEnum):
        TWO = 2

    value = {
        "s": Severity.MAJOR,
        "n": Count.TWO,
        "o": collections.OrderedDict([("b", 1), ("a", [Severity.MAJOR])]),
    }
    assert canonical(value) == b'{"n":2,"o":{"a":["major"],"b":1},"s":"major"}'
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(InputError, match="nested too deeply"):
        canonical({"loop": loop})
    # Keys beyond the Basic Multilingual Plane sort by UTF-16 code units (RFC 8785), not code points.
    assert canonical({"\U0001f600": 1, "\uffff": 2}) == b'{"\xf0\x9f\x98\x80":1,"\xef\xbf\xbf":2}'


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('["\ud800"]', id="raw-surrogate-in-str"),
        pytest.param('{"a": "é", "b": ["\udfff"]}', id="raw-surrogate-after-non-ascii"),
        pytest.param('["\\uDBFF"]', id="upper-case-escape"),
        pytest.param('["\\ud83d\\u0041"]', id="high-surrogate-before-a-letter"),
    ],
)
def test_loads_refuses_lone_surrogates_given_as_text(text: str) -> None:
    with pytest.raises(InputError, match="lone surrogate"):
        loads(text, what="t")


def test_loads_reads_surrogate_pairs_and_escaped_backslashes() -> None:
    assert loads(b'["\\ud83d\\ude00", "\\\\ud800"]', what="t") == ["\U0001f600", "\\ud800"]
    assert loads('["é", "\U0001f600"]', what="t") == ["é", "\U0001f600"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=12))
def test_unb64url_accepts_exactly_the_texts_b64url_writes(text: str) -> None:
    if len(text) % 4 == 1:
        return
    spelled = b64url(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    if spelled == text:
        assert b64url(unb64url(text, what="t")) == text
    else:
        with pytest.raises(InputError, match="non-canonical"):
            unb64url(text, what="t")


def _reference_unb64url(text: str) -> bytes | None:
    """What the strict decoder must do, written the slow and obvious way (None: refused)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text else None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="AQgw_-+/=. \n\u00e9\u0660Zz09", max_size=14))
def test_unb64url_agrees_with_the_obvious_decoder(text: str) -> None:
    expected = _reference_unb64url(text)
    if expected is None:
        with pytest.raises(InputError, match=r"^t: "):
            unb64url(text, what="t")
    else:
        assert unb64url(text, what="t") == expected
