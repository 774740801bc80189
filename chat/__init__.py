"""The chat app, in layers; a message goes down through them and back up.

    ws/         it enters by a socket: v1.py (one room), v2.py (one per user);
                handshake.py decides who connects
    http/       or by HTTP: api/ (the REST API), pages.py, files.py
    domain/     it is authorised: access.py, the one access rule
    services/   it is acted on: posting.py (the post), rooms, messages, ...
    store/      it is stored: actions.py, the room's event log and its seq
    realtime/   it is fanned out: hub.py, then one stream per socket and room
    protocol/   it is shown: events.py builds every frame the client gets;
                v1.py and v2.py parse what clients send

Imports go one way: ws/ http/ -> services/ -> realtime/ -> store/ ->
protocol/ -> domain/. Beside the layers: leaves any layer may use (models,
metrics, logfmt, version, loops) and Django's wiring (apps, admin, signals,
context_processors, management/). chat/tests/test_layout.py holds the tree
to this.
"""
