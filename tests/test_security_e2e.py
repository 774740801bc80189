"""Abuse against real server processes on PostgreSQL and Redis (issue 10).

Each test names the finding it guards and prints its figure (`pytest -s`);
docs/security.md has the table of figures before and after.
"""

import asyncio
import re
import threading
import time

import httpx
import psycopg
import pytest

from testing.refusals import assert_error, assert_refused
from testing.wsclient import ChatClient

pytestmark = pytest.mark.timeout(120)

PASSWORD = "a-long-pass-phrase-42"


def sign_up(http: str, username: str) -> httpx.Client:
    """A browser-like client, signed up (and so logged in) as `username`."""
    client = httpx.Client(base_url=http, timeout=20)
    page = client.get("/accounts/signup/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, page.text
    token = found[1]
    reply = client.post(
        "/accounts/signup/",
        data={
            "csrfmiddlewaretoken": token,
            "username": username,
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert reply.status_code == 302, reply.text[:2000]
    return client


class ConnectionWatch:
    """Samples pg_stat_activity for one database from a thread: the most
    connections the server processes held at once."""

    def __init__(self, admin_url: str, database: str) -> None:
        self.admin_url = admin_url
        self.database = database
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                    [self.database],
                ).fetchone()
                assert row is not None  # count(*) always answers a row
                (count,) = row
                self.peak = max(self.peak, count)
                self.samples += 1
                self._stop.wait(0.01)  # the sampling period

    def __enter__(self) -> "ConnectionWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


async def test_database_connections_stay_within_the_pool(scaled_deployment):
    """Pages, API calls, probes (anonymous and logged in) and WebSocket
    connects (token and session), 40 of each kind at once, never hold more PostgreSQL
    connections than CHAT_DB_POOL_SIZE (finding: CONN_MAX_AGE=60 under ASGI
    kept one connection per request thread)."""
    pool = 4
    d = scaled_deployment(CHAT_DB_POOL_SIZE=pool)
    (token,) = d.tokens("bot")
    server = d.server()
    browser = sign_up(server.http, "alice")
    cookies = dict(browser.cookies)
    database = d.env["DATABASE_URL"].rpartition("/")[2]
    admin_url = d.env["DATABASE_URL"].rpartition("/")[0] + "/postgres"
    bearer = {"Authorization": f"Bearer {token}"}
    kinds = [
        ("GET", "/chat/", {}, None),
        ("GET", "/accounts/login/", {}, None),
        ("GET", "/chat/rooms.json", {}, None),
        ("GET", "/healthz", {}, None),
        ("GET", "/readyz", {}, None),
        ("GET", "/api/rooms", bearer, None),
        ("GET", "/api/rooms/lobby/messages", bearer, None),
        ("POST", "/api/rooms/lobby/messages", bearer, {"message": "hi"}),
        ("POST", "/api/token", {}, {"username": "bot", "password": "wrong"}),
        ("GET", "/chat/lobby/", {}, "session"),
        ("GET", "/chat/", {}, "session"),
    ]
    statuses: dict[str, int] = {}

    async def request(kind) -> None:
        method, path, headers, body = kind
        client = logged_in if body == "session" else anonymous
        json = body if isinstance(body, dict) else None
        reply = await client.request(method, path, headers=headers, json=json)
        statuses[f"{method} {path} {reply.status_code}"] = (
            statuses.get(f"{method} {path} {reply.status_code}", 0) + 1
        )

    async def socket(session: bool = False) -> None:
        if session:
            headers = {"Cookie": f"sessionid={cookies['sessionid']}"}
            headers["Origin"] = server.http
            client = await ChatClient.connect(
                server.ws, "lobby", headers=headers, timeout=30
            )
        else:
            client = await ChatClient.connect(
                server.ws, "lobby", token=token, timeout=30
            )
        await client.close()

    limits = httpx.Limits(max_connections=500)
    with ConnectionWatch(admin_url, database) as watch:
        async with (
            httpx.AsyncClient(
                base_url=server.http, timeout=60, limits=limits
            ) as anonymous,
            httpx.AsyncClient(
                base_url=server.http, timeout=60, limits=limits, cookies=cookies
            ) as logged_in,
        ):
            await asyncio.gather(
                *(request(kind) for kind in kinds for _ in range(40)),
                *(socket() for _ in range(40)),
                *(socket(session=True) for _ in range(40)),
            )
    print(f"\npeak connections {watch.peak} (pool {pool}), {watch.samples} samples")
    print(statuses)
    assert not [key for key in statuses if key.endswith(("500", "503"))], statuses
    assert watch.samples > 10
    assert watch.peak <= pool, f"{watch.peak} connections for a pool of {pool}"


async def post_ack_times(client: ChatClient, count: int, tag: str) -> list[float]:
    """Milliseconds from sending each post to its ack, one post at a time."""
    times = []
    for i in range(count):
        started = time.perf_counter()
        await client.post(f"{tag} {i}", client_id=f"{tag}-{i}")
        ack = await client.next("ack")
        assert ack["client_id"] == f"{tag}-{i}"
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


async def test_wrong_passwords_do_not_stall_other_users(scaled_deployment):
    """16 clients sending wrong passwords to POST /api/token without pause
    (throttling raised out of the way) leave another user's post→ack under
    100 ms: the password hash runs in a thread, not on the event loop
    (finding: aauthenticate hashed on the loop, 3 ms → 4.2 s)."""
    d = scaled_deployment(
        CHAT_LOGIN_FAILURES_PER_ACCOUNT=100_000,
        CHAT_LOGIN_FAILURES_PER_ADDRESS=100_000,
    )
    (token,) = d.tokens("bob")
    d.manage("shell", "-c", _create_user("victim", PASSWORD))
    server = d.server()
    bob = await ChatClient.connect(server.ws, "lobby", token=token)
    quiet = await post_ack_times(bob, 10, "quiet")
    attempts = 0
    stop = asyncio.Event()

    async def attacker(http: httpx.AsyncClient) -> None:
        nonlocal attempts
        while not stop.is_set():
            reply = await http.post(
                "/api/token", json={"username": "victim", "password": "wrong"}
            )
            assert_error(reply, 401, "unauthorized", "wrong username or password")
            attempts += 1

    async with httpx.AsyncClient(base_url=server.http, timeout=60) as http:
        attackers = [asyncio.create_task(attacker(http)) for _ in range(16)]
        while attempts < 16:  # every attacker has had an answer: hashing goes on
            await asyncio.sleep(0.05)
        loaded = await post_ack_times(bob, 30, "loaded")
        probes = []
        for _ in range(5):
            started = time.perf_counter()
            assert (await http.get("/healthz")).status_code == 200
            probes.append((time.perf_counter() - started) * 1000)
        healthz_ms = sorted(probes)[2]  # the median
        stop.set()
        await asyncio.gather(*attackers)
    await bob.close()
    median = loaded[len(loaded) // 2]
    print(
        f"\npost→ack quiet median {quiet[len(quiet) // 2]:.1f} ms; under "
        f"{attempts} wrong passwords median {median:.1f} ms, "
        f"p90 {loaded[int(len(loaded) * 0.9)]:.1f} ms; /healthz {healthz_ms:.1f} ms"
    )
    assert median < 100, loaded
    assert healthz_ms < 100


def _create_user(username: str, password: str, **fields) -> str:
    """Python for `manage.py shell -c`: create a user with a password."""
    extra = "".join(f", {key}={value!r}" for key, value in fields.items())
    return (
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({username!r}, password={password!r}"
        f"{extra})"
    )


def test_token_requests_are_throttled_across_processes(scaled_deployment):
    """Wrong passwords sent alternately to two processes (sharing Redis)
    count together: the 6th attempt on an account with a limit of 5 gets 429
    with Retry-After, even with the right password (finding: 159 wrong
    passwords a minute, never refused)."""
    d = scaled_deployment(CHAT_LOGIN_FAILURES_PER_ACCOUNT=5, CHAT_LOGIN_WINDOW=60)
    d.manage("shell", "-c", _create_user("victim", PASSWORD))
    one, two = d.server(), d.server()
    wrong = {"username": "victim", "password": "wrong"}
    replies = [
        httpx.post(f"{server.http}/api/token", json=wrong) for server in [one, two] * 3
    ]
    for reply in replies[:5]:
        assert_error(reply, 401, "unauthorized", "wrong username or password")
    assert_error(replies[5], 429, "rate_limited", "try again in")
    right = httpx.post(
        f"{two.http}/api/token", json={"username": "victim", "password": PASSWORD}
    )
    assert_error(right, 429, "rate_limited", "try again in")
    assert 0 < int(right.headers["Retry-After"]) <= 60


async def closed_with(client: ChatClient, timeout: float = 10.0) -> int | None:
    """The close code the server ends `client` with (frames before it are
    skipped); None when it is still open after `timeout`."""
    import websockets

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while (remaining := deadline - loop.time()) > 0:
            await asyncio.wait_for(client.ws.recv(), remaining)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    except TimeoutError:
        pass
    return None


def form_post(client: httpx.Client, url: str, data: dict) -> httpx.Response:
    page = client.get(url)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, page.text
    token = found[1]
    return client.post(url, data={"csrfmiddlewaretoken": token, **data})


async def session_socket(server, client: httpx.Client) -> ChatClient:
    headers = {
        "Cookie": f"sessionid={client.cookies['sessionid']}",
        "Origin": server.http,
    }
    return await ChatClient.connect(server.ws, "lobby", headers=headers)


async def test_password_change_ends_sockets_tokens_and_sessions(scaled_deployment):
    """A password change closes the user's session and token sockets (4403)
    on every process, deletes its tokens and logs its other browsers out
    (finding: a session socket still posting 40 s later)."""
    d = scaled_deployment()
    one, two = d.server(), d.server()
    browser = sign_up(one.http, "alice")
    other = httpx.Client(base_url=two.http, timeout=20)
    reply = form_post(
        other, "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert reply.status_code == 302
    issued = httpx.post(
        f"{one.http}/api/token", json={"username": "alice", "password": PASSWORD}
    )
    token = issued.json()["token"]
    sockets = [
        await session_socket(one, browser),
        await session_socket(two, other),
        await ChatClient.connect(two.ws, "lobby", token=token),
    ]
    new = "another-long-pass-phrase-43"
    reply = form_post(
        browser,
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert reply.status_code == 302, reply.text[:2000]
    codes = await asyncio.gather(*(closed_with(s) for s in sockets))
    assert codes == [4403, 4403, 4403], codes
    bearer = {"Authorization": f"Bearer {token}"}
    revoked = httpx.get(f"{two.http}/api/rooms", headers=bearer)
    assert_error(revoked, 401, "unauthorized", "the token is unknown, revoked")
    assert other.get("/chat/lobby/").status_code == 302  # to the login page
    assert browser.get("/chat/lobby/").status_code == 200  # the changer stays in


async def test_tokens_are_listed_and_revoked_by_their_owner(scaled_deployment):
    """GET /api/tokens lists the caller's tokens; DELETE /api/tokens/<id>
    deletes one of them (its socket closes 4403), never another user's."""
    d = scaled_deployment()
    first, second = d.tokens("bob", "bob")
    (eve,) = d.tokens("eve")
    server = d.server()
    socket = await ChatClient.connect(server.ws, "lobby", token=second)
    api = f"{server.http}/api/tokens"
    listed = httpx.get(api, headers={"Authorization": f"Bearer {first}"}).json()
    ids = [row["id"] for row in listed["tokens"]]
    assert len(ids) == 2, listed
    newest = ids[0]
    foreign = httpx.delete(
        f"{api}/{newest}", headers={"Authorization": f"Bearer {eve}"}
    )
    assert_error(foreign, 404, "not_found", f"you have no token {newest}")
    own = httpx.delete(f"{api}/{newest}", headers={"Authorization": f"Bearer {first}"})
    assert own.status_code == 204
    assert await closed_with(socket) == 4403
    gone = httpx.get(api, headers={"Authorization": f"Bearer {second}"})
    assert_error(gone, 401, "unauthorized", "the token is unknown, revoked")


async def test_nul_is_refused_on_every_entry_point(scaled_deployment):
    """U+0000 in a message or a client_id is refused with bad_frame on the
    socket and 400 over HTTP; the other users' posts of the moment are all
    stored (finding: 12 of 456 posts got `unavailable` on PostgreSQL)."""
    d = scaled_deployment()
    alice, bob = d.tokens("alice", "bob")
    server = d.server()
    a = await ChatClient.connect(server.ws, "lobby", token=alice)
    b = await ChatClient.connect(server.ws, "lobby", token=bob)
    for i in range(50):
        await b.post(f"fine {i}", client_id=f"b{i}")
    await a.post("evil\u0000text", client_id="a1")
    await a.post("evil client id", client_id="a\u00002")
    assert_refused(await a.next("error"), "bad_frame", '"message" contains U+0000')
    assert_refused(await a.next("error"), "bad_frame", '"client_id" contains U+0000')
    acks = [await b.next("ack") for _ in range(50)]
    assert [ack["seq"] for ack in acks] == list(range(1, 51))
    reply = httpx.post(
        f"{server.http}/api/rooms/lobby/messages",
        headers={"Authorization": f"Bearer {alice}"},
        json={"message": "x\u0000y"},
    )
    assert_error(reply, 400, "bad_frame", '"message" contains U+0000')
    await a.close()
    await b.close()


async def raw_request(port: int, head: str, body_chunks=None) -> tuple[int, int]:
    """Send `head` (and, chunked, the chunks until the server answers) on a
    raw socket; return (status, body bytes sent before the answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode())
    await writer.drain()
    sent = 0
    answer = asyncio.ensure_future(reader.readline())
    try:
        for chunk in body_chunks or ():
            if answer.done():
                break
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            try:
                await asyncio.wait_for(writer.drain(), 5)
            except (ConnectionError, TimeoutError):
                break
            sent += len(chunk)
            # Give an answer already on the wire the chance to be read before
            # the next write: writing on after the server has answered and
            # closed draws a reset, which throws the unread answer away.
            await asyncio.wait([answer], timeout=0.01)
        status_line = await asyncio.wait_for(answer, 30)
    finally:
        writer.close()
    return int(status_line.split()[1]), sent


async def test_large_bodies_are_refused_before_being_read(scaled_deployment):
    """A body over the limit is refused with 413 from its Content-Length
    without being sent, and a chunked one after little more than the limit
    (finding: 193 MiB spooled to disk, then 413)."""
    d = scaled_deployment()
    (token,) = d.tokens("alice")
    server = d.server()
    head = (
        "POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
    )
    status, _ = await raw_request(
        server.port, head + "Content-Length: 209715200\r\n\r\n"
    )
    assert status == 413
    chunk = b" " * 65536
    status, sent = await raw_request(
        server.port,
        head + "Transfer-Encoding: chunked\r\n\r\n",
        (chunk for _ in range(100 * 16)),  # 100 MiB if it were all read
    )
    print(f"\nchunked: 413 after {sent / 2**20:.1f} MiB sent")
    assert status == 413
    assert sent < 16 * 2**20, f"{sent} bytes sent before the answer"
    form = (
        "POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {2**30}\r\n\r\n"
    )
    assert (await raw_request(server.port, form))[0] == 413


ORIGINS = [
    ("{http}", True),
    ("{https}", False),  # another scheme
    ("http://127.0.0.1:8443", False),  # another port
    ("http://127.0.0.1", False),  # the default port is another port
    ("https://chat.example.com", True),  # listed in CSRF_TRUSTED_ORIGINS
    ("https://chat.example.com:8443", False),
    ("http://chat.example.com", False),
]


async def test_origin_is_matched_exactly(deployment):
    """A session socket's Origin must be the site's own scheme, host and
    port, or exactly one of CSRF_TRUSTED_ORIGINS (finding: http:// and :8443
    origins accepted for an https site)."""
    d = deployment(CSRF_TRUSTED_ORIGINS="https://chat.example.com")
    server = d.server()
    browser = sign_up(server.http, "alice")
    cookie = f"sessionid={browser.cookies['sessionid']}"
    https = server.http.replace("http:", "https:")
    outcome = {}
    for template, _ in ORIGINS:
        origin = template.format(http=server.http, https=https)
        headers = {"Cookie": cookie, "Origin": origin}
        try:
            client = await ChatClient.connect(server.ws, "lobby", headers=headers)
        except Exception as exc:  # websockets' InvalidStatus: HTTP 403
            assert "403" in str(exc), exc
            outcome[template] = False
        else:
            await client.close()
            outcome[template] = True
    assert outcome == dict(ORIGINS)
    # Behind a TLS proxy (X-Forwarded-Proto from a trusted address): the site
    # is https, so its http:// origin is another site.
    behind_tls = {}
    for origin in (https, server.http):
        headers = {"Cookie": cookie, "Origin": origin, "X-Forwarded-Proto": "https"}
        try:
            client = await ChatClient.connect(server.ws, "lobby", headers=headers)
        except Exception as exc:
            assert "403" in str(exc), exc
            behind_tls[origin] = False
        else:
            await client.close()
            behind_tls[origin] = True
    assert behind_tls == {https: True, server.http: False}


async def test_database_down_during_a_handshake_gives_1011(scaled_deployment):
    """With the database cut off, a token handshake and a session handshake
    are accepted and closed with 1011 (the documented answer), not HTTP 500
    (finding: the token lookup ran before accept and raised)."""
    from urllib.parse import urlsplit

    import websockets

    from testing.faults import TcpProxy

    d = scaled_deployment(CHAT_DB_POOL_TIMEOUT=2)
    (token,) = d.tokens("alice")
    parts = urlsplit(d.env["DATABASE_URL"])
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    try:
        userinfo = parts.netloc.rpartition("@")[0]
        relayed = parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}")
        server = d.server(DATABASE_URL=relayed.geturl())
        browser = sign_up(server.http, "bob")
        proxy.cut()
        session = {
            "Cookie": f"sessionid={browser.cookies['sessionid']}",
            "Origin": server.http,
        }
        for headers in ({"Authorization": f"Bearer {token}"}, session):
            async with websockets.connect(
                f"{server.ws}/ws/chat/lobby/", additional_headers=headers
            ) as ws:  # accepted: a 500 would raise InvalidStatus here
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 30)
            assert closed.value.rcvd and closed.value.rcvd.code == 1011, closed.value
        assert "Exception in ASGI application" not in server.log()
    finally:
        proxy.close()


def test_pages_send_a_strict_csp_and_no_inline_script(deployment):
    """Every page answers with CSP default-src 'self' (no 'unsafe-inline'),
    a Permissions-Policy, and has no inline script, event handler or style
    attribute the policy would block (finding: no CSP, no
    Permissions-Policy)."""
    d = deployment()
    server = d.server()
    browser = sign_up(server.http, "alice")
    for path in [
        "/chat/",
        "/chat/lobby/",
        "/accounts/tokens/",
        "/accounts/login/",
        "/accounts/signup/",
        "/admin/login/",
        "/api/rooms",
    ]:
        reply = browser.get(path)
        assert reply.status_code == 200, path
        csp = reply.headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
        assert directives["default-src"] == "'self'", csp
        assert directives["script-src"] == "'self'", csp
        assert "unsafe" not in csp
        assert "camera=()" in reply.headers["Permissions-Policy"]
        if path.startswith("/api/"):
            continue
        html = reply.text
        inline = [
            tag
            for tag in re.findall(r"<script\b[^>]*>", html)
            if "src=" not in tag and 'type="application/json"' not in tag
        ]
        assert not inline, (path, inline)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html), path
        assert "<style" not in html, path


def test_hsts_preload_needs_a_year(tmp_path):
    """Production: HSTS preload is on only with max-age >= 31536000; asking
    for it with less refuses to start, saying why (finding: preload sent
    with max-age 3600)."""
    import subprocess
    import sys

    from testing.servers import ROOT

    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "chat.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    code = (
        "from django.conf import settings; "
        "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_PRELOAD)"
    )

    def shell(**extra) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert shell().stdout.split() == ["3600", "False"]
    assert shell(SECURE_HSTS_SECONDS="31536000").stdout.split() == [
        "31536000",
        "True",
    ]
    refused = shell(SECURE_HSTS_PRELOAD="true")
    assert refused.returncode != 0 and "31536000" in refused.stderr


def test_http_history_reads_are_rate_limited(scaled_deployment):
    """History pages over HTTP take from the user's token bucket, as socket
    history frames do (finding: 3,032 reads in 30 s, none refused)."""
    d = scaled_deployment(CHAT_RATE_LIMIT_PER_SECOND=0.1, CHAT_RATE_LIMIT_BURST=5)
    (token,) = d.tokens("reader")
    server = d.server()
    headers = {"Authorization": f"Bearer {token}"}
    httpx.post(
        f"{server.http}/api/rooms/lobby/messages",
        headers=headers,
        json={"message": "x"},
    )
    codes = [
        httpx.get(f"{server.http}/api/rooms/lobby/messages", headers=headers)
        for _ in range(10)
    ]
    assert [r.status_code for r in codes] == [200] * 4 + [429] * 6
    assert_error(codes[-1], 429, "rate_limited", "too many")
    assert "Retry-After" in codes[-1].headers
