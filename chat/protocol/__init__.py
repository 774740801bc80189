"""The wire: what clients send and what they are sent (docs/protocol.md).

- v1.py          error and close codes (ErrorCode, CloseCode), ChatError,
                 the v1 frames a client may send and their parsing
- v2.py          what a v2 client may send (one socket per user)
- events.py      every frame the server sends, built in one place
- frames.py      the type of every frame (TypedDicts)
- schema.py      /api/v1/protocol.json: the JSON Schema of every frame

May import: chat.domain and the leaves (models, metrics, logfmt, version,
loops). Not chat.store, chat.realtime, chat.services or the doors.
"""
