"""The Python client library (clients/python, `chat_client`) against real
server processes: what it promises a bot author, checked end to end."""

import asyncio

import pytest

from chat_client import ChatClient, ChatError, RestClient
from chat_client.events import Message

pytestmark = pytest.mark.timeout(90)


async def messages(client: ChatClient, count: int, timeout: float = 15.0) -> list:
    """The next `count` Message events (other events are skipped)."""
    got: list[Message] = []
    while len(got) < count:
        event = await client.next_event(timeout)
        if isinstance(event, Message):
            got.append(event)
    return got


async def until(client: ChatClient, kind: type, timeout: float = 15.0):
    while True:
        event = await client.next_event(timeout)
        if isinstance(event, kind):
            return event


def schema_checker(server):
    """An `on_frame` hook that checks every frame the library receives
    against the server's own /api/v1/protocol.json; the frames that broke it."""
    import httpx
    import jsonschema

    validator = jsonschema.Draft202012Validator(
        httpx.get(f"{server.http}/api/v1/protocol.json").json()
    )
    broken: list = []
    seen: list = []

    def check(frame: dict) -> None:
        seen.append(frame["type"])
        if not validator.is_valid(frame):
            broken.append(frame)

    check.broken = broken  # type: ignore[attr-defined]
    check.seen = seen  # type: ignore[attr-defined]
    return check


async def make_room(server, token: str, name: str = "lobby") -> None:
    async with RestClient(server.http, token) as api:
        await api.create_room(name, "public")


async def test_post_returns_seq_and_others_receive_it_once(deployment):
    """A post returns its stored seq; another user's client yields it once."""
    d = deployment()
    alice_token, bob_token = d.tokens("alice", "bob")
    server = d.server()
    await make_room(server, alice_token)
    check = schema_checker(server)
    async with (
        ChatClient(server.http, alice_token, rooms=["lobby"], on_frame=check) as alice,
        ChatClient(server.http, bob_token, rooms=["lobby"], on_frame=check) as bob,
    ):
        seqs = [await alice.post("lobby", f"hi {i}") for i in range(3)]
        got = await messages(bob, 3)
        assert check.broken == []  # every frame as /api/v1/protocol.json says
        assert {"hello", "history", "message", "ack"} <= set(check.seen)
        assert [m.seq for m in got] == seqs
        assert [m.text for m in got] == ["hi 0", "hi 1", "hi 2"]
        assert all(m.username == "alice" and not m.replayed for m in got)


async def test_refused_post_raises_the_servers_code(deployment):
    """An empty post raises ChatError with the server's code and detail."""
    d = deployment()
    (token,) = d.tokens("alice")
    server = d.server()
    await make_room(server, token)
    async with ChatClient(server.http, token, rooms=["lobby"]) as alice:
        with pytest.raises(ChatError) as refused:
            await alice.post("lobby", "   ")
        assert refused.value.code == "empty"
        assert refused.value.detail


async def test_resume_from_state_file_gets_exactly_what_was_missed(
    deployment, tmp_path
):
    """A bot stopped and started again with its state file receives the
    messages posted meanwhile, each once, in order, marked replayed."""
    d = deployment()
    alice_token, bob_token = d.tokens("alice", "bob")
    server = d.server()
    await make_room(server, alice_token)
    state = tmp_path / "seqs.json"
    async with ChatClient(
        server.http, alice_token, rooms=["lobby"], state_file=state
    ) as a:
        first = await a.post("lobby", "before")
        await messages(a, 1)  # its own message comes back
    assert state.exists()
    async with ChatClient(server.http, bob_token, rooms=["lobby"]) as bob:
        # More than the newest page (50): only a resume from the kept seq
        # gets them all; a fresh start would get a page and a Reset.
        missed = [await bob.post("lobby", f"while away {i}") for i in range(60)]
    async with ChatClient(
        server.http, alice_token, rooms=["lobby"], state_file=state
    ) as a:
        got = await messages(a, 60)
        assert [m.seq for m in got] == missed
        assert all(m.replayed for m in got)
        assert first < missed[0]
        live = await bob_post_once(server, bob_token, "live one")
        (event,) = await messages(a, 1)
        assert (event.seq, event.replayed) == (live, False)


async def bob_post_once(server, token: str, text: str) -> int:
    async with RestClient(server.http, token) as api:
        return int((await api.post("lobby", text))["seq"])


async def test_server_restart_loses_and_repeats_nothing(deployment):
    """Posts made while the server restarts are retried until acknowledged;
    the reader reconnects by itself and sees every post exactly once."""
    d = deployment()
    alice_token, bob_token = d.tokens("alice", "bob")
    server = d.server()
    await make_room(server, alice_token)
    port = server.port
    async with (
        ChatClient(server.http, alice_token, rooms=["lobby"], backoff=0.1) as alice,
        ChatClient(server.http, bob_token, rooms=["lobby"], backoff=0.1) as bob,
    ):
        seen: list = []  # every event bob's client yields, in order
        ten = asyncio.Event()

        async def read_all() -> None:
            async for event in bob.events():
                seen.append(event)
                if sum(isinstance(e, Message) for e in seen) >= 10:
                    ten.set()

        reader = asyncio.create_task(read_all())
        before = [await alice.post("lobby", f"before {i}") for i in range(5)]
        server.stop()
        posting = asyncio.gather(
            *(alice.post("lobby", f"during {i}", timeout=60) for i in range(5))
        )
        d.server(port=port)
        during = await posting
        await asyncio.wait_for(ten.wait(), 30)
        reader.cancel()
        got = [e for e in seen if isinstance(e, Message)]
        assert [m.seq for m in got] == before + sorted(during)  # once, in order
        kinds = [type(e).__name__ for e in seen]
        assert "Disconnected" in kinds and "Connected" in kinds
        assert alice.reconnects >= 1 and bob.reconnects >= 1


def test_the_librarys_codes_are_the_servers(deployment):
    """chat_client's ErrorCode and CloseCode (generated from chat/protocol/v1.py)
    are exactly the codes a running server publishes as `x-constants` in
    /api/v1/protocol.json: no code missing, none extra, none different."""
    import httpx

    from chat_client import CloseCode, ErrorCode

    server = deployment().server()
    schema = httpx.get(f"{server.http}/api/v1/protocol.json").json()
    assert schema["x-constants"] == {
        "error_codes": {code.name: code.value for code in ErrorCode},
        "close_codes": {code.name: code.value for code in CloseCode},
    }
