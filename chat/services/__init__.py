"""Services: what a user can do to rooms and messages, whichever way they ask.

The v1 and v2 sockets and the HTTP API parse a request, then call a function
here, then reply. These functions are synchronous ORM code (async callers
wrap them in chat.db's writes or reads): they check access with chat.access,
change state in one transaction, append the change to the room's event log
(chat.actions.take_seq/insert_event, so it takes the room's next seq in that
transaction), and publish it after commit (chat.broadcast.publish_on_commit).
A refusal is a ServiceError (chat.services.errors) with a protocol code.

- rooms.py     create, join, add/remove members, leave, topic, DMs
- messages.py  edit, delete, react (posts and replies: chat.posting)
- reads.py     room summaries, unread and mention counts, read positions

Dependency direction: callers (consumers, api, views) -> services ->
access, actions, mentions, broadcast -> models.
"""
