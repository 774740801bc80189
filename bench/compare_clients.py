"""Which WebSocket client the load generator uses, by measurement.

    python -m bench.compare_clients

Against the bare reference app: 100 sockets in one room, one of them posting
with 16 posts in flight, for a few seconds per client library, both on
uvloop. Prints deliveries/s and the load generator's CPU time per delivery:
the client that spends less CPU per frame leaves more of the machine to the
server it measures.
"""

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson
import uvloop
import websockets

from testing.servers import free_port

from .client import Publisher, Stats, open_many
from .servers import Server

MEMBERS, WINDOW, SECONDS = 100, 16, 4.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def with_picows(base: str) -> tuple[float, float]:
    stats = Stats()
    conns = await open_many(base, ["picows"] * MEMBERS, ["t"] * MEMBERS, stats)
    publisher = Publisher(conns[0], "p", WINDOW)
    publisher.start_saturating()
    await asyncio.sleep(1.0)
    d0, c0, t0 = stats.deliveries, _cpu(), time.perf_counter()
    await asyncio.sleep(SECONDS)
    d, c, t = stats.deliveries - d0, _cpu() - c0, time.perf_counter() - t0
    publisher.stop()
    for conn in conns:
        conn.close()
    return d / t, c / d * 1e6


async def with_websockets(base: str) -> tuple[float, float]:
    url = f"{base}/ws/chat/websockets/"
    sockets = [await websockets.connect(url, max_size=None) for _ in range(MEMBERS)]
    for ws in sockets:
        await ws.recv(), await ws.recv()  # hello, history
    count = 0
    in_flight = 0
    wake = asyncio.Event()

    async def reader(ws, publisher: bool) -> None:
        nonlocal count, in_flight
        async for raw in ws:
            frame = orjson.loads(raw)
            if frame["type"] == "message":
                count += 1
                if publisher:
                    in_flight -= 1
                    wake.set()

    async def post() -> None:
        nonlocal in_flight
        while True:
            while in_flight < WINDOW:
                in_flight += 1
                await sockets[0].send(
                    orjson.dumps({"message": f"p:{time.perf_counter_ns()}"}).decode()
                )
            wake.clear()
            await wake.wait()

    tasks = [asyncio.create_task(reader(ws, i == 0)) for i, ws in enumerate(sockets)]
    tasks.append(asyncio.create_task(post()))
    await asyncio.sleep(1.0)
    d0, c0, t0 = count, _cpu(), time.perf_counter()
    await asyncio.sleep(SECONDS)
    d, c, t = count - d0, _cpu() - c0, time.perf_counter() - t0
    for task in tasks:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return d / t, c / d * 1e6


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="chat-bench-clients-"))
    for name, run in (("picows", with_picows), ("websockets", with_websockets)):
        server = Server("bench.reference", free_port(), {}, workdir / f"{name}.log")
        server.env = None  # inherit this environment
        server.start()
        try:
            rate, cpu_us = uvloop.run(run(server.ws))
        finally:
            server.stop()
        print(
            f"{name:10} {rate:10,.0f} deliveries/s  {cpu_us:5.1f} µs client CPU per delivery"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
