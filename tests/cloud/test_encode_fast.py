"""`encode` writes the outbox's and the wire's bytes with orjson when it is installed: the JSON must be the one the
standard library's strict path writes (same values, nulls for non-finite numbers listed under `non_finite`), and
whatever orjson refuses or treats differently goes the standard way."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_sync import strict_json
from cloud_sync.envelope import encode

LEAVES = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


def _standard(value: Any) -> bytes:
    return strict_json.dumps(value, ensure_ascii=False).encode()


def _refuse_constants(constant: str) -> None:
    raise AssertionError(f"non-standard JSON constant {constant}")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), VALUES, max_size=6))
def test_fast_bytes_are_the_same_json_as_the_standard_path(envelope: dict[str, Any]) -> None:
    fast = strict_json.dumps_utf8(envelope)
    assert json.loads(fast, parse_constant=_refuse_constants) == json.loads(_standard(envelope))


def test_non_finite_numbers_are_null_and_listed_by_either_path() -> None:
    envelope = {"seq": 1, "payload": {"mean": math.inf, "values": [1.5, math.nan]}, "note": None}
    assert json.loads(encode(envelope)) == {
        "seq": 1, "payload": {"mean": None, "values": [1.5, None]}, "note": None,
        "non_finite": ["payload.mean", "payload.values.1"],
    }  # fmt: skip


def test_orjson_is_used_when_installed_and_refuses_what_json_refuses() -> None:
    assert encode({"x": 1e-7}) == b'{"x":1e-7}'  # orjson's spelling (json writes 1e-07): orjson wrote it
    envelope = {"seq": 7, "stream": "café", "payload": {"faces": [[0.3, 0.1]]}}
    assert strict_json.dumps_utf8(envelope) == orjson.dumps(envelope) == _standard(envelope)
    with pytest.raises(TypeError, match="datetime"):
        encode({"ts": datetime.datetime(2026, 1, 1)})
    assert json.loads(strict_json.dumps_utf8({"big": 2**70, 3: "int key"})) == {"big": 2**70, "3": "int key"}
