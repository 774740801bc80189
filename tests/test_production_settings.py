"""config/settings/production.py with the environment docs/api.md documents."""

import secrets
import subprocess
import sys

import httpx

from testing.servers import ROOT, Deployment, ServerProcess

DOCUMENTED_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,chat.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://chat.example.org",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean(tmp_path):
    """`manage.py check --deploy` reports no warning with the documented environment."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        **DOCUMENTED_ENV,
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_secret_key_and_allowed_hosts_are_required(tmp_path):
    """Without SECRET_KEY or ALLOWED_HOSTS in the environment, production
    settings refuse to load, naming each one that is missing."""
    for missing in (["SECRET_KEY"], ["ALLOWED_HOSTS"], ["SECRET_KEY", "ALLOWED_HOSTS"]):
        env = {"PATH": "/usr/bin:/bin", **DOCUMENTED_ENV}
        for name in missing:
            del env[name]
        result = manage("check", env=env)
        assert result.returncode != 0
        assert f"needs {' and '.join(missing)} in the environment" in result.stderr


def test_production_server_behind_a_tls_proxy(tmp_path):
    """A production server redirects plain HTTP to HTTPS except the probes,
    serves the page with HSTS when the proxy says https, and serves the
    collected static files itself (whitenoise)."""
    d = Deployment(tmp_path, f"sqlite:///{tmp_path}/db.sqlite3", **DOCUMENTED_ENV)
    d.manage("collectstatic", "--noinput", "-v", "0")
    server = ServerProcess(d.env, tmp_path / "server.log").start()
    try:
        for probe in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(f"{server.http}{probe}").status_code == 200, probe
        plain = httpx.get(f"{server.http}/chat/")
        assert plain.status_code == 301
        assert plain.headers["location"] == f"https://127.0.0.1:{server.port}/chat/"
        proxied = {"X-Forwarded-Proto": "https"}
        page = httpx.get(f"{server.http}/chat/", headers=proxied)
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=3600")
        css = httpx.get(f"{server.http}/static/chat/chat.css", headers=proxied)
        assert css.status_code == 200 and css.headers["content-type"].startswith(
            "text/css"
        )
    finally:
        server.stop()
