"""The socket doors: where a message enters over a WebSocket.

- routing.py     the URL of each socket
- handshake.py   who connects (API token, or session cookie with an exact
                 Origin), decided before accept
- limits.py      handshake caps per address and in total
- v1.py          the v1 socket: one room per socket, /ws/chat/<room>/
- v2.py          the v2 socket: one per user, /ws/
- socket.py      what both sockets share: connection state, limits, the
                 outbox and replies, the close (it was realtime/socket.py;
                 it is a door's own base class and calls the services, so it
                 lives with the doors)

Each socket parses a frame (chat.protocol), calls a service, replies.

May import: chat.services, chat.realtime, chat.store, chat.protocol,
chat.domain and the leaves (models, metrics, logfmt, version, loops). Not
chat.http, the other door.
"""
