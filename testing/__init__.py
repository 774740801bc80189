"""What the tests (tests/, chat/tests/) and the benchmarks (bench/) both run.

- `servers`: server processes on free ports (start, wait until they answer,
  signal, stop; memory and CPU from /proc), `manage.py` commands, fresh
  PostgreSQL databases, and `Deployment` (one database, many processes).
- `services`: which real services (Redis, PostgreSQL, Chromium) are here;
  a test skips (fails under CI=true) when one is not.
- `wsclient`: WebSocket clients on `websockets` for both sockets (v1
  `/ws/chat/<room>/`, v2 `/ws/`), and the protocol's addresses and headers,
  which bench/client.py's picows load generator uses too.
- `faults`: parts that fail on purpose (our own redis-server, a TCP relay to
  cut) and members that reconnect, resume and keep count.
- `netns`, `netwire`: hosts in network namespaces joined by a user-space
  wire with delay, loss and partitions (tests/test_multihost.py,
  bench/multihost.py).

Development only: the container image (Dockerfile) copies config/, accounts/,
chat/ and templates/, never this package.
"""
