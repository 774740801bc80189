"""Parsing client frames (chat/protocol/v1.py): the typed fast path (msgspec)
answers every frame exactly as the general path (orjson, any shape) does."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.protocol import v1 as protocol
from chat.protocol.v1 import (
    ChatError,
    ErrorCode,
    HistoryFrame,
    PostFrame,
    TypingFrame,
    parse_frame,
)


def _outcome(parse, text):
    try:
        return parse(text)
    except ChatError as exc:
        return (exc.code, exc.detail)


EDGES = [
    '{"message": "hi"}',
    '{"type": "message", "message": "  hi  ", "client_id": "c-17"}',
    '{"type": "typing"}',
    '{"type": "history"}',
    '{"type": "history", "before": 120, "limit": 50}',
    '{"type": "history", "before": null}',
    '{"type": "history", "limit": null}',
    '{"type": "history", "before": 0}',
    '{"type": "history", "before": 1.0}',
    '{"type": "history", "before": true}',
    '{"type": "history", "before": 18446744073709551615}',
    '{"type": "history", "before": 18446744073709551616}',
    '{"type": "history", "before": -9223372036854775809}',
    '{"type": "history", "limit": 101}',
    '{"type": "typing", "message": 5}',
    '{"type": null}',
    '{"type": 5}',
    '{"type": "nope"}',
    '{"type": "' + "x" * 100 + '"}',
    "{}",
    "[]",
    '"text"',
    "not json",
    "",
    '{"message": "a", "message": 5}',
    '{"message": 5, "message": "b"}',
    '{"message": null}',
    '{"message": "   "}',
    '{"message": "' + "x" * 4001 + '"}',
    '{"message": "hi", "client_id": ""}',
    '{"message": "hi", "client_id": null}',
    '{"message": "hi", "client_id": "' + "c" * 65 + '"}',
    '{"message": "hi", "extra": [1, {"a": 1e999}]}',
    '{"message": "hi", "extra": "\\ud800"}',
    '{"message": "\\ud800"}',
    '{"message": "\\udc00x"}',
    '{"message": "\ud800"}',  # a lone surrogate in the text itself
    '{"message": "\\u0000"}',
    '{"message": NaN}',
    '{"message": "hi"} trailing',
    ' {"message": "hi"} ',
    '{"message": "é😀\\ud83d\\ude00"}',
]


@pytest.mark.parametrize("text", EDGES)
def test_fast_path_answers_as_the_general_path(text):
    """Each frame gets the same typed frame, or the same code and detail."""
    assert _outcome(parse_frame, text) == _outcome(protocol._parse_any, text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_fields = st.sampled_from(["type", "message", "client_id", "before", "limit", "x"])
_types = st.sampled_from(["message", "typing", "history", "other"])


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        _fields,
        st.one_of(_json, _types, st.integers(min_value=-2, max_value=102)),
        max_size=5,
    )
    | _json,
    st.booleans(),
)
def test_fast_path_answers_as_the_general_path_for_any_json(value, ascii):
    text = json.dumps(value, ensure_ascii=ascii)
    assert _outcome(parse_frame, text) == _outcome(protocol._parse_any, text)


def test_parsed_frames_are_typed():
    assert parse_frame('{"message": " hi "}') == PostFrame(text="hi", client_id=None)
    assert parse_frame('{"type": "typing"}') == TypingFrame()
    assert parse_frame('{"type": "history", "before": 9}') == HistoryFrame(
        before=9, limit=50
    )
    with pytest.raises(ChatError) as refused:
        parse_frame('{"type": "history", "limit": 0}')
    assert refused.value.code == ErrorCode.BAD_FRAME
    assert refused.value.detail == '"limit" must be an integer from 1 to 100.'
