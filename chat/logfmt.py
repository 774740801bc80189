"""One structured log line per event: `event=connect room=lobby user=alice`.

Every connect, disconnect, refusal, rate limit and error goes through
`log_event`, so operators can grep and parse one format (logfmt). Callers pass
names, codes and numbers only: never message text, cookies or tokens.

The formatters write every line of the process (Django's, uvicorn's, ours)
either as pure logfmt (`ts=… level=info logger=chat.consumers event=connect
room=lobby`; other messages as `msg="…"`, a traceback escaped into it) or as
one JSON object per line (the event's fields as keys): CHAT_LOG_FORMAT.
"""

import logging
from datetime import UTC, datetime

import orjson

_NEEDS_QUOTES = frozenset(' "=\\\n\r\t')


def _value(value: object) -> str:
    text = "-" if value is None else str(value)
    if text and not _NEEDS_QUOTES.intersection(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def format_event(event: str, **fields: object) -> str:
    """`event=<event> key=value ...`, quoting values that need it."""
    return " ".join(
        [f"event={_value(event)}"]
        + [f"{key}={_value(value)}" for key, value in fields.items()]
    )


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object
) -> None:
    if logger.isEnabledFor(level):
        logger.log(
            level,
            format_event(event, **fields),
            extra={"chat_event": {"event": event, **fields}},
        )


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + formatter.formatException(record.exc_info)
    return text


class LogfmtFormatter(logging.Formatter):
    """`ts=<ISO 8601> level=<level> logger=<name>` then the event's fields,
    or `msg="<text>"`: one parseable logfmt line per record."""

    def format(self, record: logging.LogRecord) -> str:
        head = (
            f"ts={_timestamp(record)} level={record.levelname.lower()} "
            f"logger={_value(record.name)}"
        )
        if getattr(record, "chat_event", None) is not None:
            return f"{head} {record.getMessage()}"  # already logfmt
        return f"{head} msg={_value(_text(self, record))}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, then the event's fields
    (or msg)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "chat_event", None)
        if fields is not None:
            line.update(fields)
        else:
            line["msg"] = _text(self, record)
        return orjson.dumps(line, default=str).decode()
