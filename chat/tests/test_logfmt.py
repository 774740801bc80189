from chat.logfmt import format_event


def test_values_are_quoted_only_when_needed():
    """Plain values stay bare; spaces, quotes, = and newlines are quoted and
    escaped, so every event stays one parseable line; None is "-"."""
    line = format_event(
        "refused",
        path="/ws/chat/x y/",
        reason="bad_token",
        since=None,
        detail='a "b"\nc=d',
    )
    assert line == (
        'event=refused path="/ws/chat/x y/" reason=bad_token since=- detail="a \\"b\\"\\nc=d"'
    )
    assert "\n" not in line
