"""Services: what a user can do to rooms and messages, whichever door they use.

The sockets (chat.ws) and the HTTP API (chat.http) parse a request, then
call a function here, then reply. These functions are synchronous ORM code
(async callers wrap them in database_sync_to_async):
they check access with chat.domain.access, change state in one transaction,
append the change to the room's event log (chat.store.actions, which takes
the room's next seq in that transaction), and publish it after commit
(chat.realtime.hub.publish_on_commit). A refusal is a ServiceError
(errors.py) with a protocol code.

- posting.py     the post and the reply: rate limit, store, publish
- rooms.py       create, join, add/remove members, leave, topic, DMs
- messages.py    edit, delete, react
- reads.py       room summaries, unread and mention counts, read positions
- search.py, uploads.py
- moderation.py  admin actions as room events, audited
- dataio.py      export/import, erasure, retention (the chat_* commands)

May import: chat.realtime, chat.store, chat.protocol, chat.domain and the
leaves (models, metrics, logfmt, version, loops). Not the doors.
"""
