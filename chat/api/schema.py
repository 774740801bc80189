"""The OpenAPI 3 description of the REST API, served at /api/schema/.

Kept by hand next to the views; tests/test_api_schemathesis.py fuzzes every
operation against it, so a view and its description cannot drift apart
unnoticed. Limits come from settings when the schema is served.
"""

from django.conf import settings

from ..protocol import ErrorCode
from ..rooms import ROOM_NAME_RE

ERROR_CODES = [str(code) for code in ErrorCode] + [
    "unauthorized",
    "not_found",
    "method_not_allowed",
]


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        },
    }


def _json(description: str, schema_name: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema_name}"}
            }
        },
    }


UNAUTHORIZED = _error(
    "No credentials, or an unknown or revoked token (`unauthorized`)."
)
UNAVAILABLE = _error("Storage is unavailable (`unavailable`); nothing was stored.")


def _room_parameter() -> dict:
    return {
        "name": "room",
        "in": "path",
        "required": True,
        "description": "Room name: 1 to 64 ASCII letters, digits, `-` or `_`; "
        "case-insensitive (the canonical form is lowercase).",
        "schema": {"type": "string", "pattern": f"^{ROOM_NAME_RE.pattern}$"},
    }


def _schemas() -> dict:
    text_max = settings.CHAT_MAX_MESSAGE_LENGTH
    return {
        "Error": {
            "type": "object",
            "required": ["code", "detail"],
            "properties": {
                "code": {"type": "string", "enum": ERROR_CODES},
                "detail": {"type": "string", "description": "A sentence for people."},
            },
        },
        "Message": {
            "type": "object",
            "description": "The WebSocket's message frame.",
            "required": ["type", "seq", "room", "username", "message", "ts"],
            "properties": {
                "type": {"type": "string", "enum": ["message"]},
                "seq": {"type": "integer", "minimum": 1},
                "room": {"type": "string"},
                "username": {"type": "string"},
                "message": {"type": "string", "description": "Empty when deleted."},
                "ts": {
                    "type": "string",
                    "description": "UTC, e.g. 2026-11-23T22:20:00.123Z",
                },
                "deleted": {
                    "type": "boolean",
                    "description": "Present (true) when a moderator deleted it.",
                },
            },
        },
        "Room": {
            "type": "object",
            "required": ["name", "last_seq", "locked", "last_message_at"],
            "properties": {
                "name": {"type": "string"},
                "last_seq": {"type": "integer", "minimum": 0},
                "locked": {"type": "boolean", "description": "Read only when true."},
                "last_message_at": {"type": "string", "nullable": True},
            },
        },
        "TokenRequest": {
            "type": "object",
            "required": ["username", "password"],
            "properties": {
                "username": {"type": "string"},
                "password": {"type": "string"},
            },
        },
        "Token": {
            "type": "object",
            "required": ["token", "username"],
            "properties": {"token": {"type": "string"}, "username": {"type": "string"}},
        },
        "Post": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": text_max,
                    # Stripped of surrounding white space, it must not be empty.
                    "pattern": r"\S",
                    "description": f"1 to {text_max} characters after stripping "
                    "surrounding white space.",
                },
                "client_id": {
                    "type": "string",
                    "nullable": True,  # null: no client_id, as over the WebSocket
                    "minLength": 1,
                    "maxLength": 64,
                    "description": "Stored at most once per (user, client_id): "
                    "send a retry with the same one.",
                },
            },
        },
        "MessagePage": {
            "type": "object",
            "required": ["room", "messages", "has_more"],
            "properties": {
                "room": {"type": "string"},
                "messages": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Message"},
                    "description": "Oldest first.",
                },
                "has_more": {"type": "boolean", "description": "Older messages exist."},
            },
        },
    }


def _paths() -> dict:
    page_max = settings.CHAT_HISTORY_PAGE_MAX
    return {
        "/api/token": {
            "post": {
                "operationId": "createToken",
                "summary": "Exchange a username and password for a new API token.",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/TokenRequest"}
                        }
                    },
                },
                "responses": {
                    "201": _json("A new token; it is shown only once.", "Token"),
                    "400": _error(
                        "Not a JSON object with string username and password."
                    ),
                    "401": _error(
                        "Wrong username or password, or an inactive account."
                    ),
                    "403": _error("The user holds CHAT_TOKENS_PER_USER tokens."),
                    "413": _error("The body is too large."),
                    "429": _error(
                        "Too many failed logins for the account or from the "
                        "address; Retry-After says how long to wait."
                    ),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/rooms": {
            "get": {
                "operationId": "listRooms",
                "summary": "Every room, by name.",
                "responses": {
                    "200": {
                        "description": "The rooms.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["rooms"],
                                    "properties": {
                                        "rooms": {
                                            "type": "array",
                                            "items": {
                                                "$ref": "#/components/schemas/Room"
                                            },
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "401": UNAUTHORIZED,
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/rooms/{room}/messages": {
            "parameters": [_room_parameter()],
            "get": {
                "operationId": "listMessages",
                "summary": "A page of a room's history: messages with seq < before, "
                "the newest `limit` of them, oldest first.",
                "parameters": [
                    {
                        "name": "before",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": page_max,
                            "default": settings.CHAT_HISTORY_ON_CONNECT,
                        },
                    },
                ],
                "responses": {
                    "200": _json("The page.", "MessagePage"),
                    "400": _error("`before` or `limit` out of range (`bad_frame`)."),
                    "401": UNAUTHORIZED,
                    "404": _error(
                        "No such room, or not a valid room name (`not_found`)."
                    ),
                    "429": _error(
                        "Over the user's rate limit, shared with posts (`rate_limited`)."
                    ),
                    "503": UNAVAILABLE,
                },
            },
            "post": {
                "operationId": "postMessage",
                "summary": "Post a message, stored and broadcast exactly like a "
                "WebSocket post (same seq, rate limit, dedup and validation).",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Post"}
                        }
                    },
                },
                "responses": {
                    "201": _json("Stored: the stored message.", "Message"),
                    "200": _json(
                        "A repeated client_id: the message stored the first time.",
                        "Message",
                    ),
                    "400": _error("`bad_json`, `bad_frame` or `empty`."),
                    "401": UNAUTHORIZED,
                    "403": _error(
                        "`forbidden`: the room is locked, or (session) the CSRF check failed."
                    ),
                    "404": _error("Not a valid room name (`not_found`)."),
                    "413": _error("`too_long`: the message or the body is too long."),
                    "429": _error(
                        "`rate_limited`: wait (see Retry-After) and send again."
                    ),
                    "503": UNAVAILABLE,
                },
            },
        },
    }


def openapi_schema() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Chat API",
            "version": "1",
            "description": "Read and post in rooms over HTTP; live updates are on "
            "the WebSocket /ws/chat/<room>/ (docs/protocol.md). See docs/api.md.",
        },
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /api/token or "
                    "`python manage.py chat_token <user> --create`.",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": settings.SESSION_COOKIE_NAME,
                    "description": "The browser page's login; writes need the CSRF token "
                    "in X-CSRFToken.",
                },
            },
            "schemas": _schemas(),
        },
    }
