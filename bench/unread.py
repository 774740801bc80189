"""How long a user's unread and mention counts take over a big log (issue 13).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unread_bench \\
        .venv/bin/python -m bench.unread --messages 1000000
    DATABASE_URL=sqlite:////tmp/unread.sqlite3 .venv/bin/python -m bench.unread

Builds (once; `--rebuild` drops it) a data set in the database DATABASE_URL
names, which must be a scratch database: `--rooms` rooms (the measured user
is a member of `--member-of` of them), `--messages` message events spread
over them by 50 users, 1% mentioning the user, 1% @room, 1% deleted, the
user's read position anywhere in each room. Then it times
chat.services.reads.summaries(user) (every room's summary: unread, mentions,
members of private rooms) `--runs` times and prints the median and the
worst; then a read (mark_read there and back in `--frames` rooms) against as
many posts stored and published (into a room of its own, `benchposts`).
Counting is what issue 13 asks to keep under 20 ms: from the log (the
message ordinals and the indexes of services.reads), never a stored counter.

The data set is built by raw INSERTs, msg_no included. One built before
migration 0007 is numbered by `migrate`, which this runs first.
"""

import argparse
import os
import random
import statistics
import time


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()


def _build(args) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from chat.models import Membership, Mention, Message, Room

    call_command("migrate", verbosity=0)
    if Room.objects.exists() and not args.rebuild:
        return
    rng = random.Random(1)
    with transaction.atomic():
        Mention.objects.all().delete()
        Message.objects.all().delete()
        Membership.objects.all().delete()
        Room.objects.all().delete()
        get_user_model().objects.filter(username__startswith="bench").delete()
        users = get_user_model().objects.bulk_create(
            [get_user_model()(username=f"bench{i}") for i in range(50)]
        )
        me = users[0]
        rooms = Room.objects.bulk_create(
            [
                Room(name=f"room{i}", kind="private" if i % 5 == 0 else "public")
                for i in range(args.rooms)
            ]
        )
    per_room = args.messages // args.rooms
    now = timezone.now()
    stored_now = connection.ops.adapt_datetimefield_value(now)
    # Every row is a message event: its msg_no (its ordinal among the room's
    # messages, which the server takes with the seq) equals its seq.
    insert = (
        "INSERT INTO chat_message (room_id, seq, msg_no, user_id, text, "
        "created_at, kind, deleted_at) VALUES (%s, %s, %s, %s, %s, %s, 'message', %s)"
    )
    started = time.monotonic()
    for room in rooms:
        rows, mentions = [], []
        for seq in range(1, per_room + 1):
            user = rng.choice(users)
            roll = rng.random()
            text = "@bench0 hi" if roll < 0.01 else "@room hi" if roll < 0.02 else "hi"
            deleted = stored_now if rng.random() < 0.01 else None
            rows.append((room.pk, seq, seq, user.pk, text, stored_now, deleted))
            if roll < 0.02 and deleted is None:
                mentions.append((seq, me.pk if roll < 0.01 else None, user.pk))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, rows)
            Room.objects.filter(pk=room.pk).update(
                last_seq=per_room, last_msg_no=per_room
            )
            ids = dict(
                Message.objects.filter(
                    room=room, seq__in=[s for s, _, _ in mentions]
                ).values_list("seq", "pk")
            )
            Mention.objects.bulk_create(
                Mention(message_id=ids[s], room=room, seq=s, user_id=u, author_id=a)
                for s, u, a in mentions
            )
    print(
        f"built {per_room * len(rooms):,} messages in {time.monotonic() - started:.0f} s"
    )
    members = [
        Membership(room=room, user=me, last_read_seq=rng.randint(0, per_room))
        for room in rooms[: args.member_of]
    ]
    members += [
        Membership(room=room, user=user)
        for room in rooms[: args.member_of : 5]
        for user in users[1:6]
    ]
    Membership.objects.bulk_create(members, ignore_conflicts=True)
    with connection.cursor() as cursor:
        # PostgreSQL counts from the index alone once the visibility map is
        # set, as autovacuum keeps it on a live server.
        cursor.execute(
            "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _read_against_post(me, runs: int) -> tuple[list[float], list[float]]:
    """Issue 13.4: a `read` frame costs no more than a post. Times
    reads.mark_read (what the frame does: move the position, recount that
    room, publish `read` and `room`) against a post stored and published
    (actions.store_post + posting.finish) into a room `me` is not in."""
    from asgiref.sync import async_to_sync
    from django.contrib.auth import get_user_model

    from chat.models import Membership
    from chat.services import posting, reads
    from chat.store import actions

    poster = get_user_model().objects.get(username="bench1")
    reading, posting_ms = [], []
    for m in Membership.objects.filter(user=me).select_related("room")[:runs]:
        name, back = m.room.name, m.last_read_seq
        there = m.room.last_seq if back != m.room.last_seq else 0
        for seq in (there, back):  # and back again: the data set stays as built
            started = time.perf_counter()
            reads.mark_read(me, name, seq, force=True)
            reading.append(_ms(started))
    finish = async_to_sync(posting.finish)
    for _ in range(len(reading)):
        started = time.perf_counter()
        finish(*actions.store_post("benchposts", poster, "hi", None))
        posting_ms.append(_ms(started))
    return reading, posting_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--member-of", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--frames",
        type=int,
        default=25,
        help="rooms in which to time a read against a post (0: skip)",
    )
    args = parser.parse_args()
    _setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from chat.services.reads import summaries

    _build(args)
    me = get_user_model().objects.get(username="bench0")
    summaries(me)  # warm the caches and the connection
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        result = summaries(me)
        times.append(_ms(started))
    unread = sum(s["unread"] for s in result)
    mentions = sum(s["mentions"] for s in result)
    print(
        f"{connection.vendor}: {len(result)} rooms, {unread:,} unread, "
        f"{mentions:,} mentions; summaries() median {statistics.median(times):.1f} ms, "
        f"worst {max(times):.1f} ms over {args.runs} runs"
    )
    if args.frames:
        reading, posting_ms = _read_against_post(me, args.frames)
        print(
            f"a read (mark_read) median {statistics.median(reading):.1f} ms, "
            f"worst {max(reading):.1f} ms; a post (store + publish) median "
            f"{statistics.median(posting_ms):.1f} ms, worst {max(posting_ms):.1f} ms, "
            f"{len(reading)} of each"
        )


if __name__ == "__main__":
    main()
