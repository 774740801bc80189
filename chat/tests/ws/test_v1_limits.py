"""Socket limits in process (issue 10.5): refused frames toward the 1008
close, sampled error logging. Sockets per user: tests/test_socket_limits_e2e.py
(HTTP 429 and its reason, on a real server)."""

import logging

from testing.refusals import assert_refused


async def closed_with(comm) -> tuple[int, list[dict]]:
    """Read until the close: (its code, the frames before it)."""
    frames: list[dict] = []
    while True:
        output = await comm.receive_output()
        if output["type"] == "websocket.close":
            return output["code"], frames
        frames.append(output)


async def test_refused_frames_of_any_kind_close_1008(make_user, connect, settings):
    """Bad frames (not only rate-limited posts) count toward the 1008 close:
    CHAT_RATE_LIMIT_CLOSE_AFTER refusals in a row close the socket."""
    settings.CHAT_RATE_LIMIT_CLOSE_AFTER = 5
    alice = await make_user("alice")
    a = await connect(alice)
    for _ in range(5):
        await a.send_to(text_data="not json")
    code, frames = await closed_with(a)
    assert code == 1008
    assert sum('"code":"bad_json"' in f["text"] for f in frames) == 4


async def test_an_accepted_frame_resets_the_refusal_count(make_user, connect, settings):
    """Refusals count in a row: an accepted post in between starts again."""
    settings.CHAT_RATE_LIMIT_CLOSE_AFTER = 3
    alice = await make_user("alice")
    a = await connect(alice)
    for n in range(3):
        await a.send_to(text_data="{}")  # "message" missing: bad_frame
        await a.send_json_to({"message": f"ok {n}"})
    kinds = [(await a.receive_json_from()).get("code", "message") for _ in range(6)]
    assert sorted(kinds) == ["bad_frame"] * 3 + ["message"] * 3  # no close


async def test_protocol_errors_are_logged_sampled(make_user, connect, settings, caplog):
    """A flood of bad frames writes a few log lines (the 1st, 2nd, 4th...),
    not one per frame, and every frame still gets its error."""
    settings.CHAT_RATE_LIMIT_CLOSE_AFTER = 1000
    alice = await make_user("alice")
    a = await connect(alice)
    caplog.set_level(logging.INFO, logger="chat")
    for _ in range(40):
        await a.send_to(text_data="[]")
    for _ in range(40):
        assert_refused(await a.receive_json_from(), "bad_frame", "a JSON object")
    lines = [r.getMessage() for r in caplog.records if "event=error" in r.getMessage()]
    assert [line.rsplit("count=", 1)[1] for line in lines] == [
        "1",
        "2",
        "4",
        "8",
        "16",
        "32",
    ]
