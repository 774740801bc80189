async def test_hello_then_history(make_user, connect):
    """A token-authenticated socket gets hello then history."""
    alice = await make_user("alice")
    comm = await connect(alice, "Lobby")
    assert comm.hello == {"type": "hello", "room": "lobby", "username": "alice",
                          "online": ["alice"], "last_seq": 0}
    assert comm.history["type"] == "history"
