from chat.logfmt import format_event


def test_every_control_character_is_escaped():
    """No control character reaches a log line raw (issue 10: ESC sequences
    and NUL were written as they came): C0, DEL, C1, line separators and
    bidi overrides all come out as \\x.. / \\u.... escapes, quoted."""
    nasty = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)])
    nasty += "\u2028\u2029\u202e\u200b\ufeff"
    line = format_event("refused", path=f"/ws/chat/{nasty}/", user="alice")
    assert all(ch.isprintable() for ch in line), repr(line)
    assert "\\x00" in line and "\\x1b" in line and "\\x9b" in line
    assert "\\u202e" in line and "\\n" in line
    assert line.startswith('event=refused path="/ws/chat/') and line.endswith(
        " user=alice"
    )
    assert format_event("x", v="plain") == "event=x v=plain"
