"""Validate a server frame against /api/v1/protocol.json's schema (chat/protocol/frames.py).

Used by the autouse fixture in conftest.py on every frame an in-process
socket sends, and by test_frames.py.
"""

import functools
from typing import Any

import jsonschema
import orjson

from chat.protocol.frames import protocol_schema


@functools.cache
def _validators() -> dict[str, list[jsonschema.Draft202012Validator]]:
    """Per `type`, a validator for each frame definition it may be (two for
    hello: v1 and v2). The types of ServerFrame's `oneOf` are distinct
    constants, so a frame is valid against the document exactly when it is
    valid against one definition of its type; checking only those is faster,
    and an error then names the wrong field rather than saying "not valid
    under any of the given schemas"."""
    schema = protocol_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    by_type: dict[str, list[jsonschema.Draft202012Validator]] = {}
    for ref in schema["$defs"]["ServerFrame"]["oneOf"]:
        name = ref["$ref"].rpartition("/")[2]
        kind = schema["$defs"][name]["properties"]["type"]["const"]
        by_type.setdefault(kind, []).append(
            jsonschema.Draft202012Validator({**schema, "$ref": ref["$ref"]})
        )
    return by_type


def frame_errors(frame: Any) -> list[str]:
    """Why `frame` (a dict, or its JSON text) is not a valid server frame; [] if it is."""
    if isinstance(frame, str | bytes):
        frame = orjson.loads(frame)
    kind = frame.get("type") if isinstance(frame, dict) else None
    candidates = _validators().get(kind, []) if isinstance(kind, str) else []
    if not candidates:
        return [f"no server frame has type {kind!r}"]
    errors = []
    valid = 0
    for validator in candidates:
        found = [
            f"{'/'.join(str(p) for p in error.absolute_path) or '(frame)'}: "
            f"{error.message}"
            for error in validator.iter_errors(frame)
        ]
        valid += not found
        errors += found
    return [] if valid == 1 else errors or [f"valid as more than one {kind!r}"]


def check_frame(frame: Any) -> None:
    errors = frame_errors(frame)
    assert not errors, f"frame breaks /api/v1/protocol.json: {frame!r}: {errors}"
