"""The rules, true whichever door a request came by.

- access.py      the one access rule: who may read, post to and see a room;
                 every door asks it
- rooms.py       the room-name rule and the channel-layer group names

May import: the leaves (models, metrics, logfmt, version, loops). Nothing
of the layers above.
"""
