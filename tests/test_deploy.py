"""The production path as an operator takes it: `make serve` (production
settings, no migration), the lock files, a busy port."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib

import httpx

from testing.servers import ROOT, free_port

SECRET = "x" * 60


def run_make(
    *args: str, env: dict, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def clean_env(**extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "ALLOWED_HOSTS")
    }
    return {**env, **extra}


def test_make_serve_refuses_without_secret_key_and_allowed_hosts(tmp_path):
    """`make serve` uses the production settings: without SECRET_KEY and
    ALLOWED_HOSTS it does not start, and says which are missing."""
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    result = run_make("serve", f"PORT={free_port()}", env=env)
    assert result.returncode != 0
    assert "needs SECRET_KEY and ALLOWED_HOSTS in the environment" in result.stderr
    result = run_make("serve", f"PORT={free_port()}", env={**env, "SECRET_KEY": SECRET})
    assert result.returncode != 0
    assert "needs ALLOWED_HOSTS in the environment" in result.stderr


def test_make_serve_runs_production_settings_and_does_not_migrate(tmp_path):
    """`make serve` starts DEBUG-off production settings (no debug 404 page)
    and never migrates: migrations are `make migrate`, run once per deploy."""
    db = tmp_path / "db.sqlite3"
    port = free_port()
    env = clean_env(
        DATABASE_URL=f"sqlite:///{db}", SECRET_KEY=SECRET, ALLOWED_HOSTS="127.0.0.1"
    )
    proc = subprocess.Popen(
        ["make", "-s", "serve", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "serve.log", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):  # polling a port that is not open yet
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        missing = httpx.get(
            f"{base}/no-such-page", headers={"X-Forwarded-Proto": "https"}
        )
        assert missing.status_code == 404
        assert "DEBUG = True" not in missing.text  # Django's debug page says so
        assert httpx.get(f"{base}/chat/").status_code == 301  # HTTPS redirect
        with sqlite3.connect(db) as conn:
            tables = {r[0] for r in conn.execute("select name from sqlite_master")}
        assert "django_migrations" not in tables, "make serve migrated"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_busy_port_is_answered_with_a_hint(tmp_path):
    """A server asked for a port that is taken says so in one line, with the
    `make run PORT=` to use instead, and exits non-zero."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "config.serve", "--port", str(port)],
            cwd=ROOT,
            env=clean_env(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr
    assert "Traceback" not in result.stderr


def _name(requirement: str) -> str:
    return (
        re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
    )


def _locked(path) -> dict[str, str]:
    text = (ROOT / path).read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M))
    return {name.lower().replace("_", "-"): v for name, v in pins.items()}


def test_lock_files_pin_every_dependency_with_hashes():
    """requirements/runtime.txt locks every runtime dependency of
    pyproject.toml, requirements/dev.txt also the test and bench extras, each
    with hashes; runtime.txt has no test tool. (Fails after a dependency is
    added without `make lock`.)"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    extras = {
        _name(r)
        for group in ("test", "bench")
        for r in project["optional-dependencies"][group]
    }
    locked_runtime = _locked("requirements/runtime.txt")
    locked_dev = _locked("requirements/dev.txt")
    hint = "pyproject.toml changed: run `make lock` and commit requirements/"
    assert runtime <= set(locked_runtime), (runtime - set(locked_runtime), hint)
    assert runtime | extras <= set(locked_dev), (
        (runtime | extras) - set(locked_dev),
        hint,
    )
    test_tools = {"pytest", "playwright", "ruff", "schemathesis", "py-spy"}
    assert not test_tools & set(locked_runtime), "test tools in the runtime lock"
    for path in ("requirements/runtime.txt", "requirements/dev.txt"):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / path).read_text())
        for block in blocks:
            if "==" in block:
                assert "--hash=sha256:" in block, f"{path}: no hash in {block[:60]}"


def test_server_says_its_postgresql_connection_budget_at_start(scaled_deployment):
    """On PostgreSQL the server prints workers x pool size when it starts, so
    an operator can check it against max_connections (docs/deploy.md)."""
    d = scaled_deployment(CHAT_DB_POOL_SIZE=7)
    server = d.server(workers=2)
    assert (
        "database: 2 worker(s) x a pool of 7 = at most 14 PostgreSQL connections"
        in server.log()
    )
