"""What an operator relies on, on real server processes: /healthz, /readyz,
/metrics (one and several workers) and the structured log lines."""

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from testing.refusals import assert_refused
from testing.servers import Deployment, free_port, fresh_postgres_database
from testing.services import postgres_url, redis_url
from testing.wsclient import ChatClient, handshake_status


def metric(text: str, name: str, **labels: str) -> float:
    """The value of sample `name` with `labels` in an exposition, 0 when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(
                sample.labels.get(k) == v for k, v in labels.items()
            ):
                return sample.value
    return 0.0


async def until(predicate, timeout: float = 10.0) -> None:
    """Poll `predicate` until true, or fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def test_health_and_readiness(deployment):
    """/healthz and /readyz answer 200 while the database and the layer are up."""
    server = deployment().server()
    assert httpx.get(f"{server.http}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.http}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "channel_layer": "ok"}


def test_readyz_names_the_channel_layer_when_redis_is_down(deployment):
    """With the layer's Redis unreachable, /readyz is 503 naming channel_layer;
    /healthz still says the process is up."""
    server = deployment(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0").server()
    ready = httpx.get(f"{server.http}/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["channel_layer"]
    assert ready.json()["checks"]["database"] == "ok"
    assert httpx.get(f"{server.http}/healthz").status_code == 200


def test_readyz_names_the_database_when_it_is_gone(tmp_path):
    """With its PostgreSQL database dropped under it, /readyz is 503 naming database."""
    url, drop = fresh_postgres_database(postgres_url())
    d = Deployment(tmp_path, url)
    try:
        server = d.server()
        assert httpx.get(f"{server.http}/readyz").status_code == 200
        drop()
        ready = httpx.get(f"{server.http}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["failing"] == ["database"]
    finally:
        d.stop()
        drop()


async def test_metrics_and_log_lines(deployment):
    """/metrics counts connects, refusals by reason, open sockets, posts,
    deliveries (per socket), errors by code, rate-limited posts and the
    post-to-delivery latency; the log has one structured line per connect,
    disconnect, refusal, rate limit and error, with no message text or token."""
    d = deployment(CHAT_RATE_LIMIT_PER_SECOND="0.001", CHAT_RATE_LIMIT_BURST="2")
    ta, tb = d.tokens("alice", "bob")
    server = d.server()
    scrape = lambda: httpx.get(f"{server.http}/metrics").text  # noqa: E731
    a = await ChatClient.connect(server.ws, "lobby", ta)
    b = await ChatClient.connect(server.ws, "lobby", tb)
    assert (
        await handshake_status(f"{server.ws}/ws/chat/lobby/", token="not-a-token")
        == 403
    )
    await a.post("secret words one")
    await a.post("secret words two")
    for client in (a, b):
        assert [(await client.next("message"))["seq"] for _ in range(2)] == [1, 2]
    await a.post("   ")
    assert_refused(await a.next("error"), "empty", "the message is empty")
    await a.post("over the limit")
    assert_refused(await a.next("error"), "rate_limited", "too many messages")

    text = scrape()
    assert metric(text, "chat_connects_total") == 2
    assert metric(text, "chat_open_sockets") == 2
    assert metric(text, "chat_refusals_total", reason="bad_token") == 1
    assert metric(text, "chat_posts_total") == 2
    assert metric(text, "chat_deliveries_total") == 4
    assert metric(text, "chat_delivery_latency_seconds_count") == 2
    assert metric(text, "chat_errors_total", code="empty") == 1
    assert metric(text, "chat_errors_total", code="rate_limited") == 1
    assert metric(text, "chat_rate_limited_total") == 1
    await b.close()
    await until(lambda: metric(scrape(), "chat_open_sockets") == 1)
    await a.close()
    await until(
        lambda: "event=disconnect room=lobby user=alice" in server.log_path.read_text()
    )

    log = server.log_path.read_text()
    for line in (
        "event=connect room=lobby user=alice",
        "event=connect room=lobby user=bob",
        "event=refused path=/ws/chat/lobby/ reason=bad_token",
        "event=error room=lobby user=alice code=empty",
        "event=rate_limited user=alice",
        "event=error room=lobby user=alice code=rate_limited",
        "event=disconnect room=lobby user=bob",
    ):
        assert line in log, line
    for secret in ("secret words", "over the limit", "not-a-token", ta, tb):
        assert secret not in log


def test_metrics_add_up_every_worker(scaled_deployment):
    """With two worker processes, every scrape (whichever worker answers)
    counts the refusals that all workers saw."""
    d = scaled_deployment(redis_url=redis_url())
    server = d.server(workers=2)

    async def refuse_many() -> None:
        url = f"{server.ws}/ws/chat/lobby/"
        for _ in range(12):
            assert await handshake_status(url, token="not-a-token") == 403

    asyncio.run(refuse_many())
    for _ in range(6):  # new connections: the kernel spreads them over the workers
        text = httpx.get(f"{server.http}/metrics", headers={"Connection": "close"}).text
        assert metric(text, "chat_refusals_total", reason="bad_token") == 12
