"""Where a message is fanned out, after commit, to every socket that shows it.

    hub.py          RoomHub: one per process; one channel-layer subscription
                    per room and user group; each event encoded once and
                    dispatched to the `Subscriber` protocol it defines;
                    publish, the reconcile and revocation sweeps
      stream.py     RoomStream (a Subscriber): one room's events for one
                    socket, in seq order, once, gaps filled from the store
      watcher.py    RoomWatcher: a v2 member room not synced: summaries only
      outbox.py     Outbox: frames to the client, one writer, a byte budget
      replies.py    replies in the order of the frames
    state/          presence, rate limits, typing, failed-login counters
                    (memory, or Redis across processes)
    layers.py, redis_layer.py   the single-process channel layer; the
                    sharded Redis one
    drain.py        graceful restart on SIGTERM (/readyz 503, then 1012)

Nothing here imports a socket: the hub calls streams through its Protocol,
and a stream calls its socket through the small `StreamOwner` protocol of
stream.py, which the sockets of chat.ws implement.

May import: chat.store, chat.protocol, chat.domain and the leaves (models,
metrics, logfmt, version, loops). Not chat.services or the doors.
"""
