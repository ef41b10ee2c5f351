"""Sensor payloads to values: numbers, JSON objects flattened with dots, one picked field, and bad messages."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.sources import BadMessage, parse_values


@pytest.mark.parametrize(
    ("payload", "values"),
    [
        (b"21.5", {"value": 21.5}),
        (b" -3 \n", {"value": -3.0}),
        (b'{"t": 21, "rh": 40.5, "id": "porch"}', {"t": 21.0, "rh": 40.5}),
        (b'{"env": {"t": 1, "deep": {"x": 2}}, "ok": true}', {"env.t": 1.0, "env.deep.x": 2.0, "ok": 1.0}),
        (b'{"accel": [0.1, 0.2, 9.8]}', {"accel.0": 0.1, "accel.1": 0.2, "accel.2": 9.8}),
        ("7", {"value": 7.0}),
    ],
)
def test_good_payloads(payload: bytes | str, values: dict[str, float]) -> None:
    assert parse_values(payload) == values


def test_field_picks_one_value() -> None:
    assert parse_values(b'{"env": {"t": 1, "rh": 2}}', field="env.rh") == {"env.rh": 2.0}


@pytest.mark.parametrize(
    ("payload", "fmt", "field", "why"),
    [
        (b"hello", "auto", None, "neither a number nor JSON"),
        (b"{broken", "json", None, "not JSON"),
        (b"12", "number", None, None),
        (b"twelve", "number", None, "not a number"),
        (b"nan", "number", None, "not a finite number"),
        (b'{"id": "x"}', "auto", None, "no numeric fields"),
        (b'"text"', "auto", None, "neither an object nor a number"),
        (b"[1, 2]", "auto", None, "neither an object nor a number"),
        (b'{"t": 1}', "auto", "rh", "no numeric field 'rh'"),
        (b"\xff\xfe", "auto", None, "not UTF-8"),
    ],
)
def test_bad_payloads_say_why(payload: bytes, fmt: str, field: str | None, why: str | None) -> None:
    if why is None:
        assert parse_values(payload, fmt, field) == {"value": 12.0}  # type: ignore[arg-type]
        return
    with pytest.raises(BadMessage, match=why):
        parse_values(payload, fmt, field)  # type: ignore[arg-type]


names = st.text(alphabet="abcxyz_", min_size=1, max_size=6)
leaves = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6) | st.text(max_size=3)
documents = st.recursive(leaves, lambda inner: st.dictionaries(names, inner, max_size=4), max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(names, documents, min_size=1, max_size=4))
def test_flattening_keeps_every_numeric_leaf(document: dict[str, object]) -> None:
    expected: dict[str, float] = {}

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, (int, float)):
            expected[path] = float(node)

    walk(document, "")
    payload = json.dumps(document).encode()
    if not expected:
        with pytest.raises(BadMessage):
            parse_values(payload)
        return
    values = parse_values(payload)
    assert values.keys() == expected.keys()
    assert all(math.isclose(values[k], expected[k]) for k in expected)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"1" + b"0" * 400, "too large for a float"),
        (b"[" * 2000 + b"]" * 2000, "nested deeper than 32"),
        (b'{"a":' * 2000 + b"1" + b"}" * 2000, "nested deeper than 32"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper than 32"),
        (b"1" * (5 * 1024**2), "larger than 65536 bytes"),
        (b"NaN", "not a finite number"),
        (b"-Infinity", "not a finite number"),
        (b'{"t": 1' + b"0" * 400 + b"}", "no numeric fields"),
        (b"9" * 5000, "neither a number nor JSON"),
        (b"{" + b",".join(b'"k%d": 1' % i for i in range(2000)) + b"}", "more than 1024 numeric fields"),
    ],
    ids=["10^400", "list 2000 deep", "object 2000 deep", "object 40 deep", "5 MB", "NaN", "-Infinity",
         "huge int field", "5000 digits", "2000 fields"],
)  # fmt: skip
def test_hostile_payloads_are_bad_messages(payload: bytes, why: str) -> None:
    with pytest.raises(BadMessage, match=why):
        parse_values(payload)


def test_non_finite_fields_are_left_out() -> None:
    assert parse_values(b'{"t": NaN, "u": Infinity, "v": 1}') == {"v": 1.0}
