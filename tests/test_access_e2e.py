"""Access across processes: two real servers sharing PostgreSQL and Redis.

A non-member's handshake gets the same HTTP 403 as a name that can never be
a room; losing access closes the user's sockets with 4403 on both processes
(by the removal event, and by the reconcile pass when there was none); a
change made elsewhere (here: a manage.py shell, as an admin would) reaches
the sockets of both processes as the room's next seq.
"""

import asyncio

import pytest

from chat.protocol.v1 import CloseCode
from testing.servers import Deployment, postgres_deployment
from testing.services import postgres_url, redis_url
from testing.wsclient import ChatClient, handshake_status

USERS = ["alice", "bob", "carol"]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    with postgres_deployment(
        tmp_path_factory.mktemp("access"),
        postgres_url(),
        redis_url(),
        CHAT_RECONCILE_INTERVAL=1,
    ) as d:
        d.tokens(*USERS)
        d.server(), d.server()
        yield d


def shell(d: Deployment, code: str) -> None:
    d.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        "from chat.services import messages, rooms\n"
        "U = {u.username: u for u in get_user_model().objects.all()}\n" + code,
    )


async def close_code(client: ChatClient, timeout: float = 10) -> int:
    await asyncio.wait_for(client.ws.wait_closed(), timeout)
    return client.ws.close_code


async def test_non_members_are_refused_alike_and_removal_closes_everywhere(pair):
    """carol's handshake to a private room is 403 on both processes, like a
    bad name; bob, removed, is closed with 4403 on both; alice stays and
    sees the `member` event once on each socket."""
    shell(
        pair,
        "rooms.create_room(U['alice'], 'vault', 'private')\n"
        "rooms.add_member(U['alice'], 'vault', 'bob')",
    )
    p1, p2 = pair.servers
    carol = pair.token["carol"]
    for server in (p1, p2):
        assert await handshake_status(f"{server.ws}/ws/chat/vault/", token=carol) == 403
        assert await handshake_status(f"{server.ws}/ws/chat/a.b/", token=carol) == 403
    bobs = [
        await ChatClient.connect(s.ws, "vault", pair.token["bob"]) for s in (p1, p2)
    ]
    alices = [
        await ChatClient.connect(s.ws, "vault", pair.token["alice"]) for s in (p1, p2)
    ]
    shell(pair, "rooms.remove_member(U['alice'], 'vault', 'bob')")
    codes = await asyncio.gather(*(close_code(b) for b in bobs))
    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]
    for alice in alices:
        member = await alice.next("member")
        assert (member["username"], member["op"], member["seq"]) == ("bob", "remove", 3)
    for server in (p1, p2):
        status = await handshake_status(
            f"{server.ws}/ws/chat/vault/", token=pair.token["bob"]
        )
        assert status == 403


async def test_a_membership_gone_without_an_event_closes_on_both(pair):
    """A membership deleted by hand (no removal event) still closes the
    user's sockets on both processes, by the reconcile pass."""
    shell(
        pair,
        "rooms.create_room(U['alice'], 'quiet', 'private')\n"
        "rooms.add_member(U['alice'], 'quiet', 'bob')",
    )
    p1, p2 = pair.servers
    bobs = [
        await ChatClient.connect(s.ws, "quiet", pair.token["bob"]) for s in (p1, p2)
    ]
    shell(
        pair,
        "from chat.models import Membership\n"
        "Membership.objects.filter(room__name='quiet', user=U['bob']).delete()",
    )
    codes = await asyncio.gather(*(close_code(b) for b in bobs))
    assert codes == [CloseCode.REVOKED, CloseCode.REVOKED]


async def test_a_deletion_elsewhere_reaches_both_and_resumes(pair):
    """A deletion made outside the servers is the next seq on both processes'
    sockets, and a client away meanwhile gets it on resume from the other."""
    p1, p2 = pair.servers
    a1 = await ChatClient.connect(p1.ws, "news", pair.token["alice"])
    for text in ("one", "two"):
        await a1.post(text)
        await a1.next("message")
    b2 = await ChatClient.connect(p2.ws, "news", pair.token["bob"])
    away = await ChatClient.connect(p2.ws, "news", pair.token["carol"])
    await away.ws.close()
    shell(pair, "messages.delete_message(U['alice'], 'news', 1)")
    for client in (a1, b2):
        deleted = await client.next("deleted")
        assert (deleted["seq"], deleted["target"]) == (3, 1)
    back = await ChatClient.connect(p1.ws, "news", pair.token["carol"], since=2)
    assert [(e["type"], e["seq"]) for e in back.history["messages"]] == [("deleted", 3)]
