"""The HTTP doors: where a request enters over HTTP.

- api/           the REST API on django-ninja under /api/v1/ (and /api/)
- urls.py        the page URLs under /chat/
- pages.py       the pages (room list, the team chat, rooms.json)
- webapp.py      the web app manifest and service worker
- files.py       /chat/files/<id>/: uploads served behind the access rule
- bodylimit.py   bodies refused before they are read (ASGI middleware)
- headers.py     CSP and the other security headers (middleware)
- health.py      /healthz and /readyz
- httpmetrics.py request metrics (middleware)

May import: chat.services, chat.realtime, chat.store, chat.protocol,
chat.domain and the leaves (models, metrics, logfmt, version, loops). Not
chat.ws, the other door.
"""
