from .wsclient import ChatClient


async def test_two_clients_chat(deployment):
    """Two token clients on a real server see each other's post."""
    d = deployment()
    ta, tb = d.tokens("alice", "bob")
    server = d.server()
    a = await ChatClient.connect(server.ws, "lobby", ta)
    b = await ChatClient.connect(server.ws, "lobby", tb)
    await a.post("hi")
    got = await b.next("message")
    assert (got["username"], got["message"], got["seq"]) == ("alice", "hi", 1)
    await a.close(); await b.close()
