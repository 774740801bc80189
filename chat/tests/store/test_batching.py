"""Posts stored together (actions.store_posts, chat.store.batching) keep every rule
of a post stored alone: seq without gaps in order, refusals, client_id once;
token lookups made together answer each handshake with its own user."""

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from chat.models import Message, Room
from chat.protocol.v1 import ChatError, ErrorCode
from chat.store import actions, batching
from chat.store.actions import PostRequest

store_posts = database_sync_to_async(actions.store_posts)


async def test_batch_numbers_each_room_in_request_order(make_user):
    """Posts of one batch to two rooms get consecutive seqs per room, in order."""
    alice = await make_user("alice")
    results = await store_posts(
        [
            PostRequest("a", alice, "a1", None),
            PostRequest("b", alice, "b1", None),
            PostRequest("a", alice, "a2", None),
        ]
    )
    assert [(m["room"], m["seq"], m["message"], new) for m, new in results] == [
        ("a", 1, "a1", True),
        ("b", 1, "b1", True),
        ("a", 2, "a2", True),
    ]
    stored = await database_sync_to_async(
        lambda: list(
            Message.objects.order_by("room__name", "seq").values_list("text", "seq")
        )
    )()
    assert stored == [("a1", 1), ("a2", 2), ("b1", 1)]


async def test_locked_room_refused_without_taking_a_seq(make_user):
    """A locked room's posts in a batch are refused and take no seq; others are stored."""
    alice = await make_user("alice")
    await database_sync_to_async(lambda: Room.objects.create(name="ro", locked=True))()
    results = await store_posts(
        [PostRequest("ro", alice, "no", None), PostRequest("open", alice, "yes", None)]
    )
    refused = results[0]
    assert isinstance(refused, ChatError) and refused.code == ErrorCode.FORBIDDEN
    assert refused.detail == "Room 'ro' is locked: read only."
    assert results[1][0]["seq"] == 1
    room = await database_sync_to_async(Room.objects.get)(name="ro")
    assert room.last_seq == 0
    assert await database_sync_to_async(Message.objects.filter(room=room).count)() == 0


async def test_client_id_stored_once_in_and_across_batches(make_user):
    """A client_id repeated in a batch, or already stored, is stored once with one seq."""
    alice = await make_user("alice")
    first = await store_posts(
        [PostRequest("a", alice, "hi", "c-1"), PostRequest("a", alice, "hi", "c-1")]
    )
    assert [(m["seq"], new) for m, new in first] == [(1, True), (1, False)]
    again = await store_posts([PostRequest("a", alice, "hi", "c-1")])
    assert [(m["seq"], new) for m, new in again] == [(1, False)]
    assert await database_sync_to_async(Message.objects.count)() == 1


async def test_concurrent_posts_share_a_batch_and_keep_order(make_user):
    """Posts submitted at once through the batcher are all stored, numbered in
    submission order, and each caller gets its own message back."""
    alice = await make_user("alice")
    texts = [f"m{i}" for i in range(40)]
    results = await asyncio.gather(
        *(batching.submit("lobby", alice, text, None) for text in texts)
    )
    assert [(m["message"], m["seq"]) for m, _ in results] == [
        (text, i + 1) for i, text in enumerate(texts)
    ]


async def test_batcher_passes_refusals_to_their_caller_only(make_user):
    """A refused post raises in its own caller; the other posts of the batch succeed."""
    alice = await make_user("alice")
    await database_sync_to_async(lambda: Room.objects.create(name="ro", locked=True))()
    ok: Any
    refused: Any
    ok, refused = await asyncio.gather(
        batching.submit("open", alice, "yes", None),
        batching.submit("ro", alice, "no", None),
        return_exceptions=True,
    )
    assert ok[0]["seq"] == 1
    assert isinstance(refused, ChatError) and refused.code == ErrorCode.FORBIDDEN
    assert "locked" in refused.detail


async def test_handshakes_at_once_each_get_their_own_tokens_user(make_user):
    """Token lookups made together (one query, chat.store.batching) answer each
    handshake with its own user: valid, unknown, a repeat, an inactive user."""
    alice, bob, carol = [await make_user(name) for name in ("alice", "bob", "carol")]
    await database_sync_to_async(
        lambda: get_user_model().objects.filter(pk=carol.pk).update(is_active=False)
    )()
    tokens = [alice.token, "not-a-token", bob.token, alice.token, carol.token]
    found = await asyncio.gather(*(batching.user_for_token(t) for t in tokens))
    names = [None if f is None else f[0].get_username() for f in found]
    assert names == ["alice", None, "bob", "alice", None]
    assert found[0][1] == found[3][1] != found[2][1]  # token ids
    assert found[0][0].pk == alice.pk and found[2][0].pk == bob.pk
