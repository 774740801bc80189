"""Which channels_redis layer behind the hub: a short measurement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m tests.measure_layers [--posts 1000] [--members 20]

For each layer (pub/sub, core) it starts its own redis-server, a fresh
PostgreSQL database and two server processes; members are split over both,
four posters (two per process) post as fast as the server takes them. It
prints posts/s, deliveries/s, and Redis commands per post from
`INFO commandstats` before and after (docs/deploy.md has the figures).
"""

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from testing.faults import RedisServer
from testing.servers import Deployment, fresh_postgres_database
from testing.wsclient import ChatClient


async def run_layer(layer: str, posts: int, members: int, tmp: Path) -> dict:
    redis_server = RedisServer(tmp).start()
    url, drop = fresh_postgres_database(os.environ["DATABASE_URL"])
    d = Deployment(tmp, url, redis_url=redis_server.url, CHANNEL_LAYER=layer)
    try:
        names = [f"m{i}" for i in range(members)]
        tokens = d.tokens(*names)
        servers = [d.server(), d.server()]
        clients = [
            await ChatClient.connect(servers[i % 2].ws, "measure", token)
            for i, token in enumerate(tokens)
        ]
        posters = clients[:4]
        per_poster = posts // len(posters)
        total = per_poster * len(posters)
        before = redis_server.commandstats()
        started = time.perf_counter()

        async def post_all(client: ChatClient, name: str) -> None:
            for i in range(per_poster):
                await client.post(f"{name}-{i}")

        async def receive_all(client: ChatClient) -> int:
            seen = 0
            while seen < total:
                frame = await client.recv(timeout=30)
                seen += frame["type"] == "message"
            return seen

        receiving = [asyncio.create_task(receive_all(c)) for c in clients]
        await asyncio.gather(*(post_all(c, f"p{i}") for i, c in enumerate(posters)))
        delivered = sum(await asyncio.gather(*receiving))
        elapsed = time.perf_counter() - started
        after = redis_server.commandstats()
        calls = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        calls = {k: v for k, v in calls.items() if v and k != "info"}
        for client in clients:
            await client.close()
        return {
            "layer": layer,
            "posts": total,
            "seconds": elapsed,
            "posts_per_s": total / elapsed,
            "deliveries_per_s": delivered / elapsed,
            "redis_per_post": sum(calls.values()) / total,
            "calls": calls,
        }
    finally:
        d.stop()
        drop()
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--members", type=int, default=20)
    args = parser.parse_args()
    rows = []
    for layer in ("pubsub", "core"):
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(
                asyncio.run(run_layer(layer, args.posts, args.members, Path(tmp)))
            )
    print(f"\n{args.members} members on 2 processes, 4 posters, {args.posts} posts\n")
    print("| layer | posts/s | deliveries/s | Redis commands per post | commands |")
    print("| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        top = ", ".join(
            f"{k} {v / row['posts']:.2f}"
            for k, v in sorted(row["calls"].items(), key=lambda kv: -kv[1])[:6]
        )
        print(
            f"| {row['layer']} | {row['posts_per_s']:.0f} | {row['deliveries_per_s']:.0f} "
            f"| {row['redis_per_post']:.2f} | {top} |"
        )


if __name__ == "__main__":
    main()
