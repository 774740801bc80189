"""Where a message is stored, and read back: the room event log.

- actions.py     storing events (messages, edits, deletions, reactions,
                 members, topics) under the room row's lock, each with the
                 room's next seq in its transaction; history pages, resume
- batching.py    concurrent posts (and token lookups) to the database together
- recent.py      each room's newest events kept in memory for connecting
                 sockets: a read cache in front of actions.py, filled and
                 checked against the log's seq (so it lives with the store)
- mentions.py    @name / @room parsed and stored with a message
- attachments.py a message's files
- credentials.py which users, tokens and sessions are gone (the hub's
                 revocation sweep asks it)

May import: chat.protocol, chat.domain and the leaves (models, metrics,
logfmt, version, loops). Not chat.realtime, chat.services or the doors.
"""
