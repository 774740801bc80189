"""The realtime layer: what carries frames between the hub and a socket.

    consumers.py (v1), usersocket.py (v2)     parse -> service -> reply
        └── realtime/socket.py   BaseSocket: connection state, limits,
                                 refusals, the close
              ├── replies.py     replies in the order of the frames
              ├── stream.py      RoomStream: one room's events for one
              │                  socket, in seq order, once, gaps filled
              ├── watcher.py     RoomWatcher: a v2 member room not synced:
              │                  `room` summaries only
              └── outbox.py      Outbox: frames to the client, one writer,
                                 a byte budget
    broadcast.py (RoomHub)       subscriptions; dispatches to the
                                 `Subscriber` protocol it defines, which
                                 RoomStream implements

Nothing here imports the consumers or the hub: the hub calls streams
through its own Protocol, and a stream calls its socket through the small
`StreamOwner` protocol of stream.py.
"""
