"""The protocol across processes: two real servers sharing PostgreSQL and Redis.

One deployment serves the module (each test uses its own users and room);
the tests that kill or reconfigure a process start their own.
"""

import asyncio
import secrets
import time

import httpx
import pytest
import redis
import websockets

from chat.protocol.v1 import CloseCode
from testing.servers import postgres_deployment
from testing.services import postgres_url, redis_url
from testing.wsclient import ChatClient

USERS = [f"u{i}" for i in range(16)]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two server processes, one database, one Redis; the shipped limits
    (10 posts/s, bursts of 30), a quick reconcile and heartbeat."""
    with postgres_deployment(
        tmp_path_factory.mktemp("pair"),
        postgres_url(),
        redis_url(),
        CHAT_RATE_LIMIT_PER_SECOND=10,
        CHAT_RATE_LIMIT_BURST=30,
        CHAT_RECONCILE_INTERVAL=1,
        CHAT_PRESENCE_HEARTBEAT=1,
        CHAT_PRESENCE_TTL=3,
    ) as d:
        d.tokens(*USERS)
        d.server(), d.server()
        yield d


async def reply(client: ChatClient) -> dict:
    """The next ack or error frame (other frames are skipped)."""
    while True:
        frame = await client.recv()
        if frame["type"] in ("ack", "error"):
            return frame


def signed_up_cookie(web: httpx.Client) -> str:
    """Sign a new user up through the page; the session's Cookie header."""
    username, password = f"web{secrets.token_hex(3)}", "a-long-pass-phrase-42"
    web.get("/accounts/signup/")
    reply = web.post(
        "/accounts/signup/",
        data={
            "username": username,
            "password1": password,
            "password2": password,
            "csrfmiddlewaretoken": web.cookies["csrftoken"],
        },
    )
    assert reply.status_code == 302, reply.text[:500]
    return "; ".join(f"{k}={v}" for k, v in web.cookies.items())


async def close_code(client: ChatClient, timeout: float = 5) -> int:
    await asyncio.wait_for(client.ws.wait_closed(), timeout)
    return client.ws.close_code


async def test_post_reaches_members_on_the_other_process(pair):
    """A post on process 1 reaches a member on process 2, and the sender."""
    p1, p2 = pair.servers
    a = await ChatClient.connect(p1.ws, "cross", pair.token["u0"])
    b = await ChatClient.connect(p2.ws, "cross", pair.token["u1"])
    await a.post("from one", client_id="x1")
    got = await b.next("message")
    assert (got["username"], got["message"]) == ("u0", "from one")
    assert (await a.next("message"))["seq"] == got["seq"]
    await a.close(), await b.close()  # type: ignore[func-returns-value]


async def test_seq_stays_gap_free_when_both_processes_post_at_once(pair):
    """Posts to one room from both processes at once are numbered 1..N with
    no gap or repeat, and every socket gets them in seq order."""
    p1, p2 = pair.servers
    room, n = "race", 25
    w1 = await ChatClient.connect(p1.ws, room, pair.token["u2"])
    w2 = await ChatClient.connect(p2.ws, room, pair.token["u3"])

    async def flood(client: ChatClient, name: str) -> list[int]:
        for i in range(n):
            await client.post(f"{name}-{i}", client_id=f"{name}-{i}")
        return [(await client.next("ack"))["seq"] for _ in range(n)]

    acks1, acks2 = await asyncio.gather(flood(w1, "a"), flood(w2, "b"))
    assert sorted(acks1 + acks2) == list(range(1, 2 * n + 1))
    for watcher in (w1, w2):
        seqs = [(await watcher.next("message"))["seq"] for _ in range(2 * n)]
        assert seqs == list(range(1, 2 * n + 1))
    await w1.close(), await w2.close()  # type: ignore[func-returns-value]


async def test_since_resumes_on_the_other_process(pair):
    """A client that read up to seq k on process 1 and reconnects to
    process 2 with since=k gets exactly k+1.. in its history, then live."""
    p1, p2 = pair.servers
    room = "resume"
    poster = await ChatClient.connect(p1.ws, room, pair.token["u4"])
    reader = await ChatClient.connect(p1.ws, room, pair.token["u5"])
    for i in range(3):
        await poster.post(f"early {i}")
    k = max([(await reader.next("message"))["seq"] for _ in range(3)])
    await reader.close()
    for i in range(4):
        await poster.post(f"missed {i}", client_id=f"missed-{i}")
    for _ in range(4):
        await poster.next("ack")  # stored
    again = await ChatClient.connect(p2.ws, room, pair.token["u5"], since=k)
    history = again.history
    assert [m["seq"] for m in history["messages"]] == list(range(k + 1, k + 5))
    assert history["complete"] is True
    await poster.post("live")
    live = await again.next("message")
    assert (live["seq"], live["message"]) == (k + 5, "live")
    await poster.close(), await again.close()  # type: ignore[func-returns-value]


async def test_presence_counts_a_user_once_across_processes_and_tabs(pair):
    """A user with tabs on both processes is listed once; it leaves the list
    only when its last tab, on any process, closes."""
    p1, p2 = pair.servers
    room = "presence"
    watcher = await ChatClient.connect(p2.ws, room, pair.token["u6"])
    tabs = [
        await ChatClient.connect(server.ws, room, pair.token["u7"])
        for server in (p1, p1, p2)
    ]
    assert tabs[2].hello["online"] == ["u6", "u7"]
    frame = await watcher.next("presence")
    assert frame["online"] == ["u6", "u7"]
    await tabs[0].close(), await tabs[1].close()  # type: ignore[func-returns-value]
    await watcher.nothing("presence", timeout=1.5)  # still online on p2
    await tabs[2].close()
    assert (await watcher.next("presence"))["online"] == ["u6"]
    await watcher.close()


async def test_typing_crosses_processes_and_is_throttled_per_user(pair):
    """Typing on process 1 reaches process 2; a second typing frame within
    the interval, even from the same user's tab on process 2, does not."""
    p1, p2 = pair.servers
    room = "typing"
    typist1 = await ChatClient.connect(p1.ws, room, pair.token["u8"])
    typist2 = await ChatClient.connect(p2.ws, room, pair.token["u8"])
    other = await ChatClient.connect(p2.ws, room, pair.token["u9"])
    await typist1.send({"type": "typing"})
    assert (await other.next("typing"))["username"] == "u8"
    await typist2.send({"type": "typing"})
    await typist1.send({"type": "typing"})
    await other.nothing("typing", timeout=1.0)
    for client in (typist1, typist2, other):
        await client.close()


async def test_rate_limit_is_per_user_across_processes(pair):
    """One user's posts share one bucket (burst 30, 10/s) whichever process
    they reach: 60 posts split over both are not all accepted."""
    p1, p2 = pair.servers
    room = "rate"
    sockets = [
        await ChatClient.connect(s.ws, room, pair.token["u10"]) for s in (p1, p2)
    ]
    started = time.monotonic()

    async def burst(client: ChatClient, side: int) -> list[str]:
        for i in range(30):
            await client.post(f"{side}-{i}", client_id=f"{side}-{i}")
        replies = []
        for _ in range(30):
            frame = await reply(client)
            replies.append(frame["type"] if frame["type"] == "ack" else frame["code"])
        return replies

    replies = sum(
        await asyncio.gather(*(burst(c, i) for i, c in enumerate(sockets))), []
    )
    elapsed = time.monotonic() - started
    accepted = replies.count("ack")
    print(
        f"\n[rate] accepted={accepted} refused={replies.count('rate_limited')} "
        f"in {elapsed:.2f}s"
    )
    assert set(replies) <= {"ack", "rate_limited"}
    assert accepted <= 30 + 10 * elapsed + 1, (accepted, elapsed)
    assert replies.count("rate_limited") >= 60 - (30 + 10 * elapsed + 1)
    for client in sockets:
        await client.close()


async def test_deactivation_closes_the_users_sockets_on_every_process(pair):
    """Deactivating a user (the ORM, in another process) closes its sockets
    on both servers with 4403 within seconds; others stay open."""
    p1, p2 = pair.servers
    room = "deactivate"
    victims = [
        await ChatClient.connect(s.ws, room, pair.token["u11"]) for s in (p1, p2)
    ]
    bystander = await ChatClient.connect(p1.ws, room, pair.token["u12"])
    pair.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User\n"
        "u = User.objects.get(username='u11'); u.is_active = False; u.save()",
    )
    codes = await asyncio.gather(*(close_code(v) for v in victims))
    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]
    await bystander.post("still here")
    assert (await bystander.next("message"))["message"] == "still here"
    await bystander.close()


async def test_deactivation_without_a_signal_still_closes_sockets(pair):
    """A bulk update (no post_save signal, so no revoke event: like an event
    the layer dropped) still closes the user's sockets on both processes
    with 4403, at the next reconcile (1 s here, 5 s by default)."""
    p1, p2 = pair.servers
    victims = [
        await ChatClient.connect(s.ws, "bulk", pair.token["u13"]) for s in (p1, p2)
    ]
    pair.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User\n"
        "User.objects.filter(username='u13').update(is_active=False)",
    )
    codes = await asyncio.gather(*(close_code(v, timeout=10) for v in victims))
    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]


async def test_logout_closes_that_sessions_sockets_on_every_process(pair):
    """Logging out on process 1 closes the session's sockets on both
    processes with 4403."""
    p1, p2 = pair.servers
    with httpx.Client(base_url=p1.http) as web:
        cookie = signed_up_cookie(web)
        sockets = [
            await ChatClient.connect(
                s.ws, "logout", headers={"Cookie": cookie, "Origin": s.http}
            )
            for s in (p1, p2)
        ]
        reply = web.post(
            "/accounts/logout/", data={"csrfmiddlewaretoken": web.cookies["csrftoken"]}
        )
        assert reply.status_code in (200, 302)
    codes = await asyncio.gather(*(close_code(s) for s in sockets))
    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]


async def test_a_session_deleted_without_a_signal_still_closes_its_sockets(pair):
    """Session rows deleted by hand (no logout signal, so no revoke event)
    still close that session's sockets on both processes with 4403."""
    p1, p2 = pair.servers
    with httpx.Client(base_url=p1.http) as web:
        cookie = signed_up_cookie(web)
        session_key = web.cookies["sessionid"]
    sockets = [
        await ChatClient.connect(
            s.ws, "sessions", headers={"Cookie": cookie, "Origin": s.http}
        )
        for s in (p1, p2)
    ]
    pair.manage(
        "shell",
        "-c",
        "from django.contrib.sessions.models import Session\n"
        f"Session.objects.filter(session_key='{session_key}').delete()",
    )
    codes = await asyncio.gather(*(close_code(s, timeout=10) for s in sockets))
    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]


async def test_a_killed_process_leaves_no_ghost_in_presence(scaled_deployment):
    """SIGKILL a server: its users drop out of presence on the surviving
    process after the heartbeat TTL (3 s here, 30 s by default)."""
    d = scaled_deployment(
        CHAT_PRESENCE_HEARTBEAT=0.5, CHAT_PRESENCE_TTL=2, CHAT_RECONCILE_INTERVAL=0.5
    )
    ta, tb = d.tokens("alive", "ghost")
    survivor, doomed = d.server(), d.server()
    watcher = await ChatClient.connect(survivor.ws, "crash", ta)
    ghost = await ChatClient.connect(doomed.ws, "crash", tb)
    assert (await watcher.next("presence"))["online"] == ["alive", "ghost"]
    killed_at = time.monotonic()
    doomed.kill()
    frame = await watcher.next("presence", timeout=30)
    print(f"\n[crash] ghost gone after {time.monotonic() - killed_at:.1f}s")
    assert frame["online"] == ["alive"]
    await watcher.close()
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await ghost.ws.recv()


async def test_sockets_outlive_the_layers_group_expiry(scaled_deployment):
    """On channels_redis's core layer with a 2 s group expiry, a socket
    open far longer still gets every message, because each process re-adds
    its groups (CHAT_GROUP_REFRESH); a process that does not refresh drops
    out of the group in Redis (the channels #1371 failure)."""
    d = scaled_deployment(
        CHANNEL_LAYER="core", CHAT_LAYER_GROUP_EXPIRY=2, CHAT_RECONCILE_INTERVAL=0.5
    )
    ta, tb = d.tokens("longlived", "poster")
    refreshing = d.server(CHAT_GROUP_REFRESH=0.5)
    stale = d.server(CHAT_GROUP_REFRESH=3600)
    reader = await ChatClient.connect(refreshing.ws, "long", ta)
    poster = await ChatClient.connect(stale.ws, "long", tb)
    client = redis.Redis.from_url(d.env["REDIS_URL"])
    group_key = f"{d.env['CHAT_REDIS_PREFIX']}:layer::group:chat.room.long"
    deadline = time.monotonic() + 5  # two and a half group expiries
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        await poster.post(f"m{sent}")
        got = await reader.next("message", timeout=5)
        assert got["seq"] == sent
        await asyncio.sleep(0.25)  # pacing the posts over the expiry window
    members = client.zrange(group_key, 0, -1)
    print(f"\n[expiry] {sent} posts over 5s, group members now {len(members)}")
    assert len(members) == 1  # the refreshing process only
    await reader.close(), await poster.close()  # type: ignore[func-returns-value]
