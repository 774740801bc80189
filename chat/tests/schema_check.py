"""Validate a server frame against /api/v1/protocol.json's schema (chat/frames.py).

Used by the autouse fixture in conftest.py on every frame an in-process
socket sends, and by test_frames.py.
"""

import functools
from typing import Any

import jsonschema
import orjson

from chat.frames import protocol_schema


@functools.cache
def _validators() -> tuple[jsonschema.Draft202012Validator, dict[str, list[Any]]]:
    schema = protocol_schema()
    whole = jsonschema.Draft202012Validator(schema)
    # Per `type`, the frame definitions it may be (two for hello: v1 and v2),
    # for an error message that names the wrong field rather than "not valid
    # under any of the given schemas".
    by_type: dict[str, list[Any]] = {}
    for ref in schema["$defs"]["ServerFrame"]["oneOf"]:
        name = ref["$ref"].rpartition("/")[2]
        kind = schema["$defs"][name]["properties"]["type"]["const"]
        by_type.setdefault(kind, []).append(
            jsonschema.Draft202012Validator({**schema, "$ref": ref["$ref"]})
        )
    return whole, by_type


def frame_errors(frame: Any) -> list[str]:
    """Why `frame` (a dict, or its JSON text) is not a valid server frame; [] if it is."""
    if isinstance(frame, str | bytes):
        frame = orjson.loads(frame)
    whole, by_type = _validators()
    if whole.is_valid(frame):
        return []
    kind = frame.get("type") if isinstance(frame, dict) else None
    candidates = by_type.get(kind, []) if isinstance(kind, str) else []
    if not candidates:
        return [f"no server frame has type {kind!r}"]
    errors = []
    for validator in candidates:
        for error in validator.iter_errors(frame):
            path = "/".join(str(p) for p in error.absolute_path) or "(frame)"
            errors.append(f"{path}: {error.message}")
    return errors


def check_frame(frame: Any) -> None:
    errors = frame_errors(frame)
    assert not errors, f"frame breaks /api/v1/protocol.json: {frame!r}: {errors}"
