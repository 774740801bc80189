"""The protocol against a real server process (uvicorn) and a real client."""

import asyncio
import re

import httpx
import pytest
import websockets

from testing.refusals import assert_error_body
from testing.wsclient import ChatClient, handshake_answer, handshake_status


@pytest.fixture(params=["uvicorn", "daphne"])
def server_and_tokens(deployment, request):
    """Each test runs on the production server (uvicorn) and on Daphne
    (what `make run` serves)."""
    d = deployment()
    tokens = d.tokens("alice", "bob", "carol", "dave")
    return d, d.server(kind=request.param), tokens


async def test_refusals_are_http_403_before_accept(server_and_tokens):
    """Bad room names, no credentials, bad or malformed tokens and foreign
    Origins get HTTP 403 before accept, on each server (room names and
    `since` as the server decodes them: chat/tests/ws/test_v1_connect.py
    tests more of each in process)."""
    _, server, (alice, *_) = server_and_tokens
    auth = {"Authorization": f"Bearer {alice}"}
    ws = server.ws
    lobby = f"{ws}/ws/chat/lobby/"
    # (url, headers, what the 403's body says)
    cases = [
        (f"{ws}/ws/chat/caf%C3%A9/", auth, "not a room name"),
        (f"{ws}/ws/chat/{'x' * 65}/", auth, "not a room name"),
        (f"{ws}/ws/chat/../", auth, "not a room name"),
        (f"{ws}/ws/chat//", auth, "no socket here"),
        (f"{ws}/ws/chat/lobby/?since=x", auth, "since must be a whole number"),
        (lobby, {}, "log in first"),
        (f"{ws}/ws/", {}, "log in first"),
        (lobby, {"Authorization": "Bearer wrong"}, "token is not valid"),
        (lobby, {"Authorization": f"Token {alice}"}, "must be 'bearer <token>'"),
        (lobby, {**auth, "Origin": "https://evil.example"}, "own pages"),
    ]
    for url, headers, says in cases:
        status, body = await handshake_answer(url, headers)
        assert status == 403, url
        if server.kind == "daphne":  # no way to send a body: a bare 403
            continue
        assert body is not None, url
        assert_error_body(body, "forbidden", says)
    assert await handshake_status(lobby, auth) == 101


async def test_browser_session_needs_same_site_origin(server_and_tokens):
    """A user who signed up on the page connects with the session cookie and an
    allowed Origin, is refused without one, and appears under its username."""
    _, server, _ = server_and_tokens
    async with httpx.AsyncClient(base_url=server.http) as http:
        page = await http.get("/accounts/signup/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        reply = await http.post(
            "/accounts/signup/",
            data={
                "csrfmiddlewaretoken": csrf,
                "username": "erin",
                "password1": "a-long-pass-phrase-42",
                "password2": "a-long-pass-phrase-42",
            },
        )
        assert reply.status_code == 302
        cookie = f"sessionid={http.cookies['sessionid']}"
    lobby = f"{server.ws}/ws/chat/lobby/"
    assert await handshake_status(lobby, {"Cookie": cookie}) == 403
    assert (
        await handshake_status(
            lobby, {"Cookie": cookie, "Origin": "https://evil.example"}
        )
        == 403
    )
    client = await ChatClient.connect(
        server.ws, "lobby", headers={"Cookie": cookie, "Origin": server.http}
    )
    assert client.hello["username"] == "erin"
    await client.close()


async def test_seed_tutorial_client_reads_posts_unchanged(server_and_tokens):
    """A client written for the tutorial sends {"message"} and reads
    data.username + ': ' + data.message from message frames."""
    _, server, (alice, bob, *_) = server_and_tokens
    a = await ChatClient.connect(server.ws, "lobby", alice)
    b = await ChatClient.connect(server.ws, "lobby", bob)
    await a.send({"message": "hi"})
    data = await b.next("message")
    assert data["username"] + ": " + data["message"] == "alice: hi"
    await a.close()
    await b.close()


async def test_resume_while_others_post_sees_every_seq_once_in_order(server_and_tokens):
    """Three clients post while a fourth keeps reconnecting with since=<last seq>:
    it sees every seq exactly once, in order, across all its connections."""
    _, server, (alice, bob, carol, dave) = server_and_tokens
    per_poster, posters = 60, [alice, bob, carol]
    total = per_poster * len(posters)

    async def poster(token: str, name: str) -> set[int]:
        client = await ChatClient.connect(server.ws, "busy", token)
        acked = set()
        for n in range(per_poster):
            await client.post(f"{name}-{n}", client_id=f"{name}-{n}")
            acked.add((await client.next("ack"))["seq"])
        await client.close()
        return acked

    seen: list[int] = []
    reconnects = 0

    async def reader() -> None:
        nonlocal reconnects
        since = None
        while len(seen) < total:
            client = await ChatClient.connect(server.ws, "busy", dave, since=since)
            assert since is None or client.history["complete"], client.history
            seen.extend(m["seq"] for m in client.history["messages"])
            for _ in range(7):  # a few live frames, then drop the socket
                if len(seen) >= total:
                    break
                seen.append((await client.next("message", timeout=15))["seq"])
            since = seen[-1] if seen else 0
            reconnects += 1
            await client.close()

    acked_sets = await asyncio.wait_for(
        asyncio.gather(reader(), *(poster(t, n) for t, n in zip(posters, "abc"))), 90
    )
    acked: set[int] = set().union(*acked_sets[1:])  # type: ignore[arg-type]
    print(f"posts acked={len(acked)} seen={len(seen)} reconnects={reconnects}")
    assert acked == set(range(1, total + 1))
    assert seen == list(range(1, total + 1)), "a gap, a duplicate or a reordering"
    assert reconnects > 5


async def test_revoked_token_closes_4403_on_the_real_server(server_and_tokens):
    """Deleting a token from another process (manage.py, no shared layer)
    closes its socket with 4403 within a few seconds (the reconcile sweep)."""
    d, _, (alice, *_) = server_and_tokens
    server = d.server(kind=d.servers[0].kind, CHAT_RECONCILE_INTERVAL=1)
    client = await ChatClient.connect(server.ws, "lobby", alice)
    d.manage(
        "shell",
        "-c",
        "from accounts.models import ApiToken; "
        "[t.delete() for t in ApiToken.objects.filter(user__username='alice')]",
    )
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.next("message", timeout=15)
    assert closed.value.rcvd.code == 4403  # type: ignore[union-attr]


async def test_history_survives_a_server_restart(deployment):
    """Messages are stored: a new server process on the same database serves them."""
    d = deployment()
    (alice,) = d.tokens("alice")
    first = d.server()
    client = await ChatClient.connect(first.ws, "keep", alice)
    await client.post("still here after restart", client_id="k1")
    await client.next("ack")
    await client.close()
    first.stop()
    second = d.server()
    client = await ChatClient.connect(second.ws, "keep", alice, since=0)
    assert [(m["seq"], m["message"]) for m in client.history["messages"]] == [
        (1, "still here after restart")
    ]
    assert client.hello["last_seq"] == 1
    await client.close()


async def test_oversized_frame_closes_1009_on_the_real_server(deployment):
    """A frame over 64 KiB is closed with 1009 (uvicorn; Daphne cannot send
    1009 from an application, see docs/protocol.md)."""
    d = deployment()
    (alice,) = d.tokens("alice")
    server = d.server()
    client = await ChatClient.connect(server.ws, "lobby", alice)
    await client.send({"message": "x" * (70 * 1024)})
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.recv()
    assert closed.value.rcvd.code == 1009  # type: ignore[union-attr]
