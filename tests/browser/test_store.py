"""The page's message store (chat/static/chat/store.js), imported as the page
imports it, in Chromium: frames in, messages by (room, seq) out.

It must read both generations of the protocol: a version-1 `deleted` names
the message by its `seq`; a version-2 one has its own seq and a `target`."""

from .test_page import open_page

RUN = """async (steps) => {
    const { MessageStore } = await import("/static/chat/store.js");
    const store = new MessageStore();
    const changes = [];
    store.subscribe(c => changes.push([c.room, c.kind, c.messages.map(m => m.seq)]));
    const results = [];
    for (const [op, room, frame, extra] of steps) {
        if (op === "snapshot") results.push(store.applySnapshot(room, frame, extra).fresh);
        else if (op === "live") results.push(store.applyLive(room, frame));
        else if (op === "older") results.push(store.applyOlder(room, frame));
    }
    const rooms = {};
    for (const [name, log] of store.rooms) {
        rooms[name] = {
            lastSeq: log.lastSeq, oldestSeq: log.oldestSeq, hasMore: log.hasMore,
            messages: log.list().map(m => [m.seq, m.message, m.deleted, m.editedAt,
                                           JSON.stringify(m.reactions)]),
        };
    }
    return { results, rooms, changes };
}"""


def msg(seq, text, **extra):
    return {
        "type": "message",
        "seq": seq,
        "room": "lobby",
        "username": "bob",
        "message": text,
        "ts": "2026-12-01T12:00:00Z",
        **extra,
    }


def history(messages, complete=True, has_more=False):
    return {
        "type": "history",
        "messages": messages,
        "complete": complete,
        "has_more": has_more,
    }


async def run(page, steps):
    return await page.evaluate(RUN, steps)


async def test_store_applies_v1_and_v2_frames_by_room_and_seq(deployment, browser):
    """Messages append in seq order; a v1 `deleted` (seq of the message) and a
    v2 `deleted` (its own seq, `target`) both make a tombstone, the v2 one
    counting as an event; `edited` and `reaction` change their target; a seq
    past the next one is a gap; a replay is stale; rooms do not mix."""
    server = deployment().server()
    page = await open_page(browser, server)
    await page.goto(f"{server.http}/chat/")
    out = await run(
        page,
        [
            ["snapshot", "lobby", history([msg(1, "one"), msg(2, "two")]), 2],
            ["live", "lobby", msg(3, "three")],
            ["live", "lobby", {"type": "deleted", "room": "lobby", "seq": 1}],
            [
                "live",
                "lobby",
                {"type": "deleted", "room": "lobby", "seq": 4, "target": 2},
            ],
            [
                "live",
                "lobby",
                {
                    "type": "edited",
                    "seq": 5,
                    "target": 3,
                    "message": "3!",
                    "edited_at": "2026-12-01T12:01:00Z",
                },
            ],
            [
                "live",
                "lobby",
                {
                    "type": "reaction",
                    "seq": 6,
                    "target": 3,
                    "emoji": "👍",
                    "users": ["bob", "carol"],
                },
            ],
            ["live", "lobby", {"type": "topic", "seq": 7, "topic": "t", "by": "bob"}],
            # A replay carries the message's current state: nothing new.
            [
                "live",
                "lobby",
                msg(
                    3,
                    "3!",
                    edited_at="2026-12-01T12:01:00Z",
                    reactions={"👍": ["bob", "carol"]},
                ),
            ],
            ["live", "lobby", msg(9, "nine")],
            ["snapshot", "dev", history([msg(1, "dev one")]), 1],
        ],
    )
    assert out["results"] == [
        True,
        "applied",
        "applied",
        "applied",
        "applied",
        "applied",
        "applied",
        "stale",
        "gap",
        True,
    ]
    assert out["rooms"]["lobby"] == {
        "lastSeq": 7,
        "oldestSeq": 1,
        "hasMore": False,
        "messages": [
            [1, "", True, None, "{}"],
            [2, "", True, None, "{}"],
            [3, "3!", False, "2026-12-01T12:01:00Z", '{"👍":["bob","carol"]}'],
        ],
    }
    assert out["rooms"]["dev"]["messages"] == [[1, "dev one", False, None, "{}"]]
    assert ["lobby", "update", [1]] in out["changes"]
    assert ["lobby", "update", [2]] in out["changes"]


async def test_store_resume_replays_changes_and_incomplete_resets(deployment, browser):
    """A resume (`since`) carrying a v2 deletion of a held message applies it;
    a resume that is not complete drops the view for the newest page; older
    pages go in front, each seq once."""
    server = deployment().server()
    page = await open_page(browser, server)
    await page.goto(f"{server.http}/chat/")
    out = await run(
        page,
        [
            [
                "snapshot",
                "lobby",
                history([msg(5, "five"), msg(6, "six")], has_more=True),
                6,
            ],
            [
                "snapshot",
                "lobby",
                history(
                    [
                        {"type": "deleted", "room": "lobby", "seq": 7, "target": 5},
                        msg(8, "eight"),
                    ]
                ),
                8,
            ],
            [
                "older",
                "lobby",
                history([msg(3, "three"), msg(4, "four"), msg(5, "x")], has_more=False),
            ],
        ],
    )
    assert out["results"] == [True, False, None]
    assert out["rooms"]["lobby"]["messages"] == [
        [3, "three", False, None, "{}"],
        [4, "four", False, None, "{}"],
        [5, "", True, None, "{}"],
        [6, "six", False, None, "{}"],
        [8, "eight", False, None, "{}"],
    ]
    assert out["rooms"]["lobby"]["lastSeq"] == 8

    out = await run(
        page,
        [
            ["snapshot", "lobby", history([msg(1, "a"), msg(2, "b")]), 2],
            [
                "snapshot",
                "lobby",
                history([msg(50, "fifty")], complete=False, has_more=True),
                50,
            ],
        ],
    )
    assert out["results"] == [True, True]
    assert ["lobby", "reset", []] in out["changes"]
    assert out["rooms"]["lobby"]["messages"] == [[50, "fifty", False, None, "{}"]]
    assert out["rooms"]["lobby"]["hasMore"] is True
