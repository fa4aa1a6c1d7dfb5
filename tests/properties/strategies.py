"""Hypothesis strategies shared by the property tests: JSON values, and edits of a valid document."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value RFC 8785 can encode (no NaN, integers within +-(2^53 - 1))."""

TIMES = st.sampled_from(
    [
        "2030-01-15T12:00:00Z",
        "2030-01-15T12:00:00+01:00",
        "2030-01-15",
        "2030-01-15T12:00:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2030-02-30T12:00:00Z",
        "2030-01-15T25:00:00Z",
        "",
        "tomorrow",
    ]
)
"""Times a careless or hostile client sends: good ones, naive ones, impossible and extreme ones."""


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) into a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


@st.composite
def edited(draw: st.DrawFn, document: Any, values: st.SearchStrategy[Any] = JSON) -> Any:
    """``document`` with one to three edits at random places: a value replaced (by ``values``, a time
    or an empty list or object), a key or item removed, or an item repeated."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths(result)))
        if not path:
            return draw(values)
        parent = result
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = draw(st.sampled_from(["replace", "remove", "repeat", "empty", "time"]))
        if action == "remove":
            del parent[last]
        elif action == "repeat" and isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))
        elif action == "empty":
            parent[last] = draw(st.sampled_from([[], {}, "", 0]))
        elif action == "time":
            parent[last] = draw(TIMES)
        else:
            parent[last] = draw(values)
    return result
