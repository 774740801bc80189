"""Two ceilings behind docs/scaling.md, each measured in a few seconds.

    python -m bench.capacity redis       # one redis-server's PUBLISH ceiling
    DATABASE_URL=postgres://… python -m bench.capacity postgres

redis: our own redis-server on loopback; `subs` subscriber connections
    (each one chat process's hub) SUBSCRIBEd to 1,000 room channels;
    redis-benchmark PUBLISHes a 300-byte event (a message frame's size) to
    random ones of them: publishes/s and deliveries/s (publishes × subs).
postgres: a fresh database with the chat's tables (migrate); `conns`
    threads, each with its own connection, run the post transaction of
    chat/store/actions.py (UPDATE chat_room … last_seq + k RETURNING under the
    row's lock, executemany INSERT of k rows, COMMIT): all on one hot room,
    or each on its own room (the database's ceiling, no lock shared).
"""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import cast

from testing.faults import RedisServer
from testing.servers import Deployment, fresh_postgres_database


def redis_ceiling(seconds_hint: int = 200_000) -> None:
    import tempfile

    server = RedisServer(Path(tempfile.mkdtemp())).start()
    channels = [f"room:{i:012d}" for i in range(1000)]
    payload = "x" * 300
    try:
        for subs in (0, 1, 4, 16):
            readers = [
                subprocess.Popen(
                    ["redis-cli", "-p", str(server.port), "SUBSCRIBE", *channels],
                    stdout=subprocess.DEVNULL,
                )
                for _ in range(subs)
            ]
            time.sleep(1.0)  # redis-cli has no "subscribed" signal to await
            out = subprocess.run(
                [
                    "redis-benchmark",
                    "-p",
                    str(server.port),
                    "-q",
                    "-n",
                    str(seconds_hint),
                    "-c",
                    "50",
                    "-P",
                    "16",
                    "-r",
                    "1000",
                    "PUBLISH",
                    "room:__rand_int__",
                    payload,
                ],
                capture_output=True,
                text=True,
                timeout=300,
            ).stdout
            rate = float(re.findall(r"([\d.]+) requests per second", out)[-1])
            print(
                f"redis: {subs:2d} subscribers a channel: {rate:10,.0f} publishes/s, "
                f"{rate * subs:10,.0f} deliveries/s"
            )
            for reader in readers:
                reader.terminate()
                reader.wait(5)
    finally:
        server.stop()


def postgres_ceiling(seconds: float = 5.0) -> None:
    import psycopg

    url, drop = fresh_postgres_database(os.environ["DATABASE_URL"])
    try:
        d = Deployment(Path("/tmp"), url)
        d.tokens("capacity")
        with psycopg.connect(url, autocommit=True) as conn:
            user_id = cast(
                tuple,
                conn.execute(
                    "SELECT id FROM auth_user WHERE username = 'capacity'"
                ).fetchone(),
            )[0]
            settings = {
                name: cast(tuple, conn.execute(f"SHOW {name}").fetchone())[0]
                for name in ("fsync", "synchronous_commit", "server_version")
            }
            for i in range(16):
                conn.execute(
                    "INSERT INTO chat_room (name, last_seq, locked, created_at) "
                    "VALUES (%s, 0, false, now())",
                    [f"cap-{i}"],
                )
        print(f"postgres: {settings}")
        for label, conns, batch, rooms in (
            ("one hot room, posts one a transaction", 8, 1, 1),
            ("one hot room, batches of 10 (the batcher under load)", 8, 10, 1),
            ("8 rooms, one a connection, one post a transaction", 8, 1, 8),
            ("8 rooms, batches of 10", 8, 10, 8),
        ):
            posts = _hammer(url, user_id, conns, batch, rooms, seconds)
            print(f"postgres: {label}: {posts / seconds:8,.0f} posts/s")
    finally:
        drop()


def _hammer(url, user_id, conns, batch, rooms, seconds) -> int:
    import psycopg

    done = [0] * conns
    stop = time.monotonic() + seconds

    def work(n: int) -> None:
        room = f"cap-{n % rooms}"
        with psycopg.connect(url) as conn:
            while time.monotonic() < stop:
                with conn.transaction():
                    room_id, last = cast(
                        tuple,
                        conn.execute(
                            "UPDATE chat_room SET last_seq = last_seq + %s, "
                            "last_msg_no = last_msg_no + %s, "
                            "last_message_at = now() WHERE name = %s AND NOT locked "
                            "RETURNING id, last_seq, last_msg_no",
                            [batch, batch, room],
                        ).fetchone(),
                    )[:2]
                    with conn.cursor() as cur:
                        # Every event is a message here: msg_no == seq.
                        cur.executemany(
                            "INSERT INTO chat_message (room_id, seq, msg_no, "
                            "user_id, text, client_id, created_at) "
                            "VALUES (%s, %s, %s, %s, %s, %s, now())",
                            [
                                (room_id, seq, seq, user_id, "hello", None)
                                for seq in range(last - batch + 1, last + 1)
                            ],
                        )
                done[n] += batch

    threads = [threading.Thread(target=work, args=(n,)) for n in range(conns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


if __name__ == "__main__":
    what = sys.argv[1:] or ["redis", "postgres"]
    if "redis" in what:
        redis_ceiling()
    if "postgres" in what:
        postgres_ceiling()
