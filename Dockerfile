# The chat server: runtime packages only (requirements/runtime.txt, hashes
# checked), not root, static files collected at build. Migrations are not
# run here: `docker compose run --rm migrate` (compose.yaml) once per deploy.
# Checked without a Docker engine by tests/test_container.py: hadolint, and
# the same layout in a venv, started with this CMD.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements/runtime.txt /tmp/runtime.txt
RUN /venv/bin/pip install --no-cache-dir --require-hashes -r /tmp/runtime.txt
WORKDIR /app
COPY pyproject.toml manage.py ./
COPY config config
COPY accounts accounts
COPY chat chat
COPY templates templates
RUN /venv/bin/pip install --no-cache-dir --no-deps . \
 && DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY=collectstatic-only ALLOWED_HOSTS=build \
    /venv/bin/python manage.py collectstatic --noinput -v 0

FROM python:3.11-slim-bookworm
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    HOST=0.0.0.0 \
    PORT=8000
RUN groupadd --system --gid 10001 chat \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin chat
COPY --from=build /venv /venv
COPY --from=build --chown=root:root /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# SIGTERM drains (chat/realtime/drain.py): give it CHAT_DRAIN_SECONDS + 10 s
# (compose.yaml: stop_grace_period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=2)"]
CMD ["python", "-m", "config.serve"]
